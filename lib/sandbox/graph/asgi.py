"""The Graph surface as a pure ASGI app: authenticate (401), dispatch, serialise."""
from __future__ import annotations

import json
import uuid
from typing import Any

from ..identity.tokens import InvalidToken, TokenVerifier
from .dispatch import Dispatcher, error_response
from .exceptions import GraphError, InvalidAuthenticationToken, RequestEntityTooLarge
from .models import Caller
from .request import GraphRequest, GraphResponse

JSON_TYPE = b"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
MAX_BODY = 4 * 1024 * 1024
VERSIONS = ("v1.0", "beta")
CLAIMS_KEY = "sandbox.claims"


def is_graph_path(path: str) -> bool:
    return path.startswith("/v1.0/") or path.startswith("/beta/") or path in ("/v1.0", "/beta")


def request_ids(scope: dict[str, Any]) -> tuple[str, str]:
    """(request-id, client-request-id) for a request, computed once and kept in the scope."""
    ids = scope.get("sandbox.ids")
    if ids is None:
        request_id = str(uuid.uuid4())
        client_request_id = request_id
        for k, v in scope["headers"]:
            if k.lower() == b"client-request-id":
                client_request_id = v.decode("latin-1")
                break
        ids = scope["sandbox.ids"] = (request_id, client_request_id)
    return ids


def authenticate(scope: dict[str, Any], verifier: TokenVerifier) -> dict[str, Any] | InvalidToken:
    """The bearer token's claims or the reason it was refused; verified once per request."""
    if CLAIMS_KEY not in scope:
        header = None
        for k, v in scope["headers"]:
            if k.lower() == b"authorization":
                header = v.decode("latin-1")
                break
        try:
            scope[CLAIMS_KEY] = verifier.verify_header(header)
        except InvalidToken as e:
            scope[CLAIMS_KEY] = e
    return scope[CLAIMS_KEY]


def render(resp: GraphResponse, request_id: str, client_request_id: str) -> tuple[int, list, bytes]:
    """Status, raw headers and body bytes for a Graph reply."""
    headers = [(b"request-id", request_id.encode()), (b"client-request-id", client_request_id.encode()),
               (b"cache-control", b"no-cache"), (b"strict-transport-security", b"max-age=31536000")]
    body = b""
    if resp.body is not None:
        body = json.dumps(resp.body, separators=(",", ":")).encode()
        headers.append((b"content-type", JSON_TYPE))
        headers.append((b"odata-version", b"4.0"))
    headers.append((b"content-length", str(len(body)).encode()))
    for k, v in resp.headers.items():
        headers.append((k.lower().encode("latin-1"), str(v).encode("latin-1")))
    return resp.status, headers, body


async def send_reply(send, resp: GraphResponse, request_id: str, client_request_id: str) -> None:
    status, headers, body = render(resp, request_id, client_request_id)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_reply(err: GraphError, request_id: str, client_request_id: str) -> GraphResponse:
    from .exceptions import error_body
    return GraphResponse(err.status, error_body(err.code, err.message, request_id, client_request_id,
                                                err.inner_code), dict(err.headers))


class GraphApp:
    """ASGI entry for /v1.0 and /beta."""

    def __init__(self, dispatcher: Dispatcher, verifier: TokenVerifier, base_url: str):
        self.dispatcher = dispatcher
        self.verifier = verifier
        self.base_url = base_url

    async def __call__(self, scope, receive, send) -> None:
        request_id, client_request_id = request_ids(scope)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
            more = message.get("more_body", False)
        if size > MAX_BODY:
            err = RequestEntityTooLarge(f"The request body exceeds {MAX_BODY} bytes.")
            return await send_reply(send, error_reply(err, request_id, client_request_id), request_id,
                                    client_request_id)
        claims = authenticate(scope, self.verifier)
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        _, version, rest = (raw_path + "/").split("/", 2)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        req = GraphRequest(scope["method"], version, rest, scope.get("query_string", b"").decode("latin-1"),
                           headers, b"".join(chunks), base_url=self.base_url, request_id=request_id,
                           client_request_id=client_request_id)
        if isinstance(claims, InvalidToken):
            resp = error_response(req, InvalidAuthenticationToken(str(claims)))
            resp.headers["WWW-Authenticate"] = (f'Bearer realm="", authorization_uri="{self.base_url}/common/'
                                                'oauth2/authorize", error="invalid_token"')
        else:
            req.caller = Caller.from_claims(claims)
            resp = self.dispatcher.handle(req)
        await send_reply(send, resp, request_id, client_request_id)
