"""A successful Graph reply, and reading its body."""

from __future__ import annotations

import json

from requests.structures import CaseInsensitiveDict


class GraphResponse:
    """A successful reply: status, headers, parsed JSON body (or None) and its request-id."""

    def __init__(self, status: int, headers=None, body=None, *, request_id: str = "", client_request_id: str = "",
                 attempts: int = 1, method: str = "", url: str = ""):
        self.status = status
        self.headers = headers if isinstance(headers, CaseInsensitiveDict) else CaseInsensitiveDict(headers or {})
        self.body = body
        self.request_id = request_id or self.headers.get("request-id", "") or ""
        self.client_request_id = client_request_id or self.headers.get("client-request-id", "") or ""
        self.attempts = attempts
        self.method = method
        self.url = url

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def etag(self) -> str:
        return self.headers.get("ETag", "") or ""

    def __repr__(self) -> str:
        return f"<GraphResponse {self.status} {self.method} {self.url} request-id={self.request_id}>"


def parse_body(content: bytes, content_type: str):
    """JSON for any ``application/json`` (parameters allowed) or ``+json`` type; else None."""
    if not content:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json") or not media:
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError):
            return None
    return None


