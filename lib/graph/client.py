"""The Microsoft Graph client: one object per connection, with the retry policy in one place.

``GraphClient`` holds a pooled requests session, the profile's base URL and CA, a token provider and
a ``Throttle`` shared by every worker of a run. Retries happen only in ``GraphClient._execute`` (and,
for the items of a ``$batch``, in ``GraphClient.batch``): 429/503/504 and the first-time provisioning
409, honouring ``Retry-After``; dropped connections only for requests that are safe to repeat; a 401
refreshes the token once; 400/403/404/412 are never repeated. Failures become one error type,
``GraphError``, carrying the server's details and a plain-language explanation and fix.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from http import HTTPStatus
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from lib.graph.clouds import cloud_for
from lib.graph.explain import explain
from lib.model.flows import JOIN_LINK, VIRTUAL_APPOINTMENT, RequestSpec
from lib.graph.profile import Profile, is_guid, origin
from lib.graph.redaction import redact
from lib.graph.pacing import Throttle, interruptible_sleep, backoff_delay, parse_retry_after

log = logging.getLogger("appointment_studio.graph")

MAX_BATCH = 20
RETRY_STATUSES = frozenset({429, 503, 504})
NEVER_RETRY = frozenset({400, 403, 404, 412})
DELEGATED_ONLY = re.compile(r"/(getVirtualAppointmentJoinWebUrl|sendVirtualAppointment(Reminder)?Sms)\b",
                            re.IGNORECASE)


# -- errors and responses ---------------------------------------------------------------------------
class GraphError(Exception):
    """A request that failed for good, with Graph's details and a plain-language explanation.

    ``status`` is 0 for failures on this side: ``ConnectionFailed``, ``UnknownOutcome`` (a request
    that is not safe to repeat lost its reply), ``NotSupported`` (refused before sending),
    ``ForeignHost``, ``Cancelled``, ``SignInFailed``.
    """

    def __init__(self, status: int = 0, code: str = "", message: str = "", *, request_id: str = "",
                 client_request_id: str = "", date: str = "", method: str = "", url: str = "",
                 explanation: str = "", fix: str = "", retry_after: float | None = None):
        self.status = int(status or 0)
        self.code = code or ""
        self.message = redact(message or "")
        self.request_id = request_id or ""
        self.client_request_id = client_request_id or ""
        self.date = date or ""
        self.method = method or ""
        self.url = url or ""
        self.retry_after = retry_after
        if not explanation and not fix:
            explanation, fix = explain(self.status, self.code, self.message)
        self.explanation = explanation
        self.fix = fix
        super().__init__(self._line())

    def _line(self) -> str:
        if self.status:
            try:
                reason = HTTPStatus(self.status).phrase
            except ValueError:
                reason = self.code or "Error"
            head = f"{self.status} {reason}"
        else:
            head = self.code or "Error"
        text = f"{head}: {self.message or self.explanation or self.code}"
        if self.request_id:
            text += f" (request-id {self.request_id})"
        return text

    def __str__(self) -> str:
        return self._line()

    def to_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message, "request_id": self.request_id,
                "client_request_id": self.client_request_id, "date": self.date, "method": self.method,
                "url": self.url, "explanation": self.explanation, "fix": self.fix, "retry_after": self.retry_after}

    @classmethod
    def from_reply(cls, status: int, headers, body, *, text: str = "", method: str = "", url: str = "",
                   context: dict | None = None) -> "GraphError":
        """Build from a Graph reply (``innerError`` or ``innererror``, nested or not)."""
        headers = CaseInsensitiveDict(headers or {})
        code, message, inner = "", "", {}
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
            inner = _inner_error(error)
        elif isinstance(error, str):  # OAuth-style {"error": "...", "error_description": "..."}
            code, message = error, str(body.get("error_description") or "")
        if not message and text:
            message = text.strip()[:300]
        if not code:
            try:
                code = HTTPStatus(status).phrase.replace(" ", "")
            except ValueError:
                code = "Error"
        request_id = str(inner.get("request-id") or inner.get("requestId") or headers.get("request-id") or "")
        client_request_id = str(inner.get("client-request-id") or headers.get("client-request-id") or "")
        date = str(inner.get("date") or headers.get("Date") or "")
        retry_after = parse_retry_after(headers.get("Retry-After"))
        what, fix = explain(status, code, redact(message), **(context or {}))
        return cls(status, code, message, request_id=request_id, client_request_id=client_request_id, date=date,
                   method=method, url=url, explanation=what, fix=fix, retry_after=retry_after)


class SignInFailed(GraphError):
    """Getting a token failed while sending: a ``GraphError`` that also carries the ``AuthError`` fields."""

    def __init__(self, auth_error, *, method: str = "", url: str = ""):
        super().__init__(0, "SignInFailed", auth_error.explanation, method=method, url=url,
                         explanation=auth_error.explanation, fix=auth_error.fix)
        self.aadsts = getattr(auth_error, "aadsts", None)
        self.auth_code = getattr(auth_error, "code", "")


def _inner_error(error: dict) -> dict:
    """The innermost ``innerError`` that carries ids (Graph nests them; casing varies)."""
    found: dict = {}
    node = error
    for _ in range(8):
        inner = node.get("innerError") if isinstance(node, dict) else None
        if inner is None and isinstance(node, dict):
            inner = node.get("innererror")
        if not isinstance(inner, dict):
            break
        for key in ("request-id", "requestId", "client-request-id", "date"):
            if inner.get(key) and key not in found:
                found[key] = inner[key]
        node = inner
    return found


class GraphResponse:
    """A successful reply: status, headers, parsed JSON body (or None) and its request-id."""

    def __init__(self, status: int, headers=None, body=None, *, request_id: str = "", client_request_id: str = "",
                 attempts: int = 1, method: str = "", url: str = ""):
        self.status = status
        self.headers = CaseInsensitiveDict(headers or {})
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


# -- the client -------------------------------------------------------------------------------------
class GraphClient:
    """Microsoft Graph for one connection profile."""

    def __init__(self, profile: Profile, token_provider=None, *, session: requests.Session | None = None,
                 throttle: Throttle | None = None, timeout=(10, 60), max_attempts: int = 6,
                 cancel: threading.Event | None = None, backoff_base: float = 0.5, backoff_cap: float = 30.0):
        if token_provider is None:
            from lib.graph.signin import token_provider_for

            token_provider = token_provider_for(profile, cancel=cancel)
        self.profile = profile
        self.tokens = token_provider
        self.throttle = throttle if throttle is not None else Throttle(profile.max_requests_per_second)
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.cancel = cancel
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.base_url = profile.graph_base_url.rstrip("/")
        self.verify = profile.verify
        self.cloud = cloud_for(profile)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        session.verify = self.verify
        self.session = session
        self._lock = threading.Lock()
        self._users: dict[str, dict] = {}
        self._user_path = ""

    def __repr__(self) -> str:
        return f"<GraphClient {self.profile.name!r} {self.base_url} {self.auth_kind}>"

    @property
    def auth_kind(self) -> str:
        return "app" if self.profile.auth == "client_credentials" else "delegated"

    def close(self) -> None:
        self.session.close()

    # -- public API -------------------------------------------------------------------------------
    def request(self, method: str, version: str, path: str, body=None, *, idempotent: bool = True,
                headers: dict | None = None) -> GraphResponse:
        """Send one request (retrying what is safe to retry); raises ``GraphError`` when it finally fails."""
        method = method.upper()
        url = self._url(version, path)
        self._refuse_unsupported(method, url, path)
        return self._execute(method, url, body, idempotent=idempotent, headers=headers, path=path)

    def send(self, spec: RequestSpec) -> GraphResponse:
        """Send one step of a flow."""
        if spec.needs_meeting_id:
            raise ValueError(f"{spec.step}: the meeting id is not known yet; call spec.with_meeting_id() first")
        return self.request(spec.method, spec.version, spec.path, spec.body, idempotent=spec.idempotent,
                            headers=spec.headers())

    def batch(self, version: str, items: list[tuple[str, RequestSpec]]) -> dict:
        """Send up to 20 requests in one ``$batch`` (more are split); returns key → GraphResponse | GraphError.

        Items are matched by id in any order; only failed retryable items are sent again (after the
        largest ``Retry-After``, through the shared throttle); an outer 200 is not success.
        """
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("batch keys must be unique")
        results: dict = {}
        sendable = []
        for key, spec in items:
            if spec.version != version:
                raise ValueError(f"{key}: a {spec.version} request cannot go in a {version} batch")
            if spec.needs_meeting_id:
                raise ValueError(f"{key}: the meeting id is not known yet; call spec.with_meeting_id() first")
            try:
                self._refuse_unsupported(spec.method, self._url(version, spec.path), spec.path)
            except GraphError as exc:
                results[key] = exc
                continue
            sendable.append((key, spec))
        for start in range(0, len(sendable), MAX_BATCH):
            chunk = sendable[start:start + MAX_BATCH]
            if len(chunk) == 1:
                key, spec = chunk[0]
                try:
                    results[key] = self.send(spec)
                except GraphError as exc:
                    results[key] = exc
            else:
                results.update(self._batch(version, chunk))
        return results

    def resolve_user(self, upn_or_id: str) -> dict:
        """``id``, ``displayName``, ``userPrincipalName``, ``mail`` of a user given by UPN or object id."""
        wanted = (upn_or_id or "").strip()
        if not wanted:
            raise ValueError("no user given")
        with self._lock:
            if wanted.lower() in self._users:
                return self._users[wanted.lower()]
        response = self.request("GET", "v1.0", f"/users/{quote(wanted, safe='@')}"
                                "?$select=id,displayName,userPrincipalName,mail")
        user = response.body if isinstance(response.body, dict) else {}
        if not user.get("id"):
            raise GraphError(0, "UnexpectedReply", f"Graph's reply about user {wanted} has no id",
                             request_id=response.request_id, method="GET", url=response.url)
        with self._lock:
            self._users[wanted.lower()] = user
            self._users[str(user["id"]).lower()] = user
        return user

    def user_path(self) -> str:
        """``/me`` for delegated sign-in; ``/users/{object id}`` for app-only (a UPN is resolved once)."""
        if self.auth_kind == "delegated":
            return "/me"
        if self._user_path:
            return self._user_path
        organizer = self.profile.organizer
        if not organizer:
            raise GraphError(0, "NotSupported", "an app connection needs an organizer in its profile",
                             explanation="An app signed in on its own (client credentials) must say whose "
                                         "meetings it creates.",
                             fix="Set organizer in the connection profile to the user's object id (Entra admin "
                                 "center → Users).")
        object_id = organizer if is_guid(organizer) else self.resolve_user(organizer)["id"]
        self._user_path = "/users/" + quote(object_id, safe="")
        return self._user_path

    def check_supports(self, flow: str, sms: bool = False) -> None:
        """Raise ``GraphError(NotSupported)`` before sending anything this connection cannot do."""
        cloud = self.cloud
        if flow not in (VIRTUAL_APPOINTMENT, JOIN_LINK):
            raise self._not_supported(f"unknown flow {flow!r}; choose {VIRTUAL_APPOINTMENT} or {JOIN_LINK}")
        if not cloud.meetings:
            raise self._not_supported(f"Teams online meetings through Graph are not available in the "
                                      f"{cloud.name} cloud.", "Use a connection in the Global or a US Government cloud.")
        if flow == JOIN_LINK or sms:
            what = "Text messages" if sms and flow != JOIN_LINK else "Join links" + (" and text messages" if sms else "")
            if not cloud.join_link_and_sms:
                raise self._not_supported(
                    f"{what} are only available in Microsoft's Global cloud, not {cloud.name}.",
                    f"Choose the {VIRTUAL_APPOINTMENT} flow, or a connection in the Global cloud.")
            if self.auth_kind == "app":
                raise self._not_supported(
                    f"{what} need a signed-in user: Graph does not offer them to an app signed in with client "
                    "credentials.",
                    "Use a connection with device-code sign-in (auth: device_code), or choose the "
                    f"{VIRTUAL_APPOINTMENT} flow (Microsoft retired its beta resource; it works against the sandbox).")

    def whoami(self) -> dict:
        """For "Test connection": token kind, account, organizer, and a cheap GET that proves permissions."""
        info = {"profile": self.profile.name, "cloud": self.profile.cloud, "graph": self.base_url,
                "auth": self.auth_kind}
        self._token()
        info["account"] = self.tokens.account_name
        path = self.user_path()
        info["user_path"] = path
        if self.auth_kind == "app":
            organizer_id = path.rsplit("/", 1)[-1]
            info["organizer_id"] = organizer_id
            try:
                user = self.resolve_user(organizer_id)
                info["organizer"] = user.get("userPrincipalName") or user.get("displayName") or organizer_id
                info["organizer_name"] = user.get("displayName", "")
            except GraphError as exc:
                if exc.status not in (403, 404):
                    raise
                info["organizer"] = self.profile.organizer
        else:
            info["organizer"] = info["account"] or "the signed-in user"
        probe = f"{path}/onlineMeetings?$filter=" + quote("joinMeetingIdSettings/joinMeetingId eq '0'", safe="/'=")
        response = self.request("GET", "v1.0", probe)
        info["checked"] = f"GET /v1.0{probe} → {response.status}"
        info["request_id"] = response.request_id
        info["join_link_and_sms"] = self.cloud.join_link_and_sms and self.auth_kind == "delegated"
        info["meetings"] = self.cloud.meetings
        return info

    # -- the transport: the one place that retries -------------------------------------------------
    def _execute(self, method: str, url: str, body, *, idempotent: bool, headers: dict | None = None,
                 path: str = "", weight: int = 1) -> GraphResponse:
        self._check_host(url)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        client_request_id = str(uuid.uuid4())
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            self.throttle.acquire(weight, self.cancel)
            self._check_cancel(method, url)
            send_headers = {"Accept": "application/json", "client-request-id": client_request_id}
            if data is not None:
                send_headers["Content-Type"] = "application/json"
            send_headers.update(headers or {})
            send_headers["Authorization"] = "Bearer " + self._token(method, url)
            try:
                reply = self.session.request(method, url, data=data, headers=send_headers, timeout=self.timeout,
                                             verify=self.verify, allow_redirects=False)
            except requests.RequestException as exc:
                reason = _describe(exc)
                log.debug("%s %s -> connection error %s (attempt %d)", method, url, reason, attempt)
                if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.InvalidURL,
                                    requests.exceptions.InvalidHeader, requests.exceptions.MissingSchema)):
                    raise self._connection_failed(reason, method, url, client_request_id, path) from None
                if not (idempotent or _never_sent(exc)):
                    raise GraphError(0, "UnknownOutcome",
                                     f"the connection dropped after {method} {path or url} was sent ({reason})",
                                     client_request_id=client_request_id, method=method, url=url,
                                     **self._explained(0, "UnknownOutcome", reason, path)) from None
                if attempt >= self.max_attempts:
                    raise self._connection_failed(reason, method, url, client_request_id, path) from None
                self.throttle.count(retries=1)
                self._wait(backoff_delay(attempt, self.backoff_base, self.backoff_cap), method, url)
                continue

            status = reply.status_code
            request_id = reply.headers.get("request-id", "")
            log.debug("%s %s -> %s request-id=%s attempt=%d", method, url, status, request_id, attempt)
            body_out = parse_body(reply.content, reply.headers.get("Content-Type", ""))
            if 200 <= status < 400:
                return GraphResponse(status, reply.headers, body_out, request_id=request_id,
                                     client_request_id=client_request_id, attempts=attempt, method=method, url=url)
            error = GraphError.from_reply(status, reply.headers, body_out, text=_text_of(reply), method=method,
                                          url=url, context=self._context(path))
            if status == 401 and not refreshed:
                refreshed = True
                log.debug("%s %s -> 401; refreshing the token once", method, url)
                self._token(method, url, force_refresh=True)
                continue
            if not _retryable(status, error.retry_after, idempotent) or attempt >= self.max_attempts:
                raise error
            delay = error.retry_after if error.retry_after is not None else backoff_delay(
                attempt, self.backoff_base, self.backoff_cap)
            self.throttle.count(retries=1, throttled=1 if status == 429 else 0)
            if status == 429:
                self.throttle.pause(delay)  # every worker waits, not just this one
            else:
                self._wait(delay, method, url)

    def _batch(self, version: str, items: list[tuple[str, RequestSpec]]) -> dict:
        url = f"{self.base_url}/{version}/$batch"
        pending = {str(i + 1): (key, spec) for i, (key, spec) in enumerate(items)}
        sent = {key: 0 for key, _ in items}
        results: dict = {}
        attempt = 0
        refreshed = False
        while pending:
            attempt += 1
            requests_out = []
            for item_id, (_, spec) in pending.items():
                entry = {"id": item_id, "method": spec.method, "url": spec.path}
                if spec.body is not None:
                    entry["headers"] = {"Content-Type": "application/json"}
                    entry["body"] = spec.body
                requests_out.append(entry)
            all_idempotent = all(spec.idempotent for _, spec in pending.values())
            try:
                outer = self._execute("POST", url, {"requests": requests_out}, idempotent=all_idempotent,
                                      path=f"/{version}/$batch", weight=len(pending))
            except GraphError as exc:
                for key, _ in pending.values():
                    sent[key] += 1
                if exc.code != "UnknownOutcome":
                    for key, spec in pending.values():
                        results[key] = self._item_error_like(exc, spec, version)
                    break
                # The batch may or may not have run: safe items go again, the others are reported.
                for item_id, (key, spec) in list(pending.items()):
                    if not spec.idempotent:
                        results[key] = GraphError(0, "UnknownOutcome", exc.message,
                                                  client_request_id=exc.client_request_id, method=spec.method,
                                                  url=self._url(version, spec.path),
                                                  **self._explained(0, "UnknownOutcome", exc.message, spec.path))
                        del pending[item_id]
                if pending and attempt >= self.max_attempts:
                    for key, spec in pending.values():
                        results[key] = self._connection_failed(exc.message, spec.method,
                                                               self._url(version, spec.path), "", spec.path)
                    break
                if pending:
                    self.throttle.count(retries=len(pending))
                    self._wait(backoff_delay(attempt, self.backoff_base, self.backoff_cap), "POST", url)
                continue

            for key, _ in pending.values():
                sent[key] += outer.attempts
            replies = outer.body.get("responses") if isinstance(outer.body, dict) else None
            by_id = {}
            for reply in replies if isinstance(replies, list) else []:
                if isinstance(reply, dict) and reply.get("id") is not None:
                    by_id[str(reply["id"]).lower()] = reply
            retry_ids, waits, saw_429, saw_401 = [], [], False, False
            for item_id, (key, spec) in pending.items():
                item_url = self._url(version, spec.path)
                reply = by_id.get(item_id.lower())
                if reply is None:
                    if spec.idempotent and attempt < self.max_attempts:
                        retry_ids.append(item_id)
                    else:
                        results[key] = GraphError(0, "UnknownOutcome", "the $batch reply did not include this request",
                                                  request_id=outer.request_id, method=spec.method, url=item_url,
                                                  **self._explained(0, "UnknownOutcome", "", spec.path))
                    continue
                status = _int(reply.get("status"))
                item_headers = CaseInsensitiveDict(reply.get("headers") or {})
                item_body = reply.get("body")
                if isinstance(item_body, str) and "json" in item_headers.get("Content-Type", "").lower():
                    item_body = parse_body(item_body.encode("utf-8"), "application/json")
                log.debug("$batch item %s %s -> %s (attempt %d)", spec.method, item_url, status, attempt)
                if 200 <= status < 400:
                    results[key] = GraphResponse(status, item_headers, item_body,
                                                 request_id=item_headers.get("request-id") or outer.request_id,
                                                 attempts=sent[key], method=spec.method, url=item_url)
                    continue
                error = GraphError.from_reply(status, item_headers, item_body, method=spec.method, url=item_url,
                                              context=self._context(spec.path))
                if not error.request_id:
                    error.request_id = outer.request_id
                can_retry = attempt < self.max_attempts
                if status == 401 and not refreshed and can_retry:
                    saw_401 = True
                    retry_ids.append(item_id)
                elif _retryable(status, error.retry_after, spec.idempotent) and can_retry:
                    retry_ids.append(item_id)
                    saw_429 = saw_429 or status == 429
                    if error.retry_after is not None:
                        waits.append(error.retry_after)
                else:
                    results[key] = error
            pending = {item_id: pending[item_id] for item_id in retry_ids}
            if not pending:
                break
            if saw_401:
                refreshed = True
                self._token("POST", url, force_refresh=True)
            throttled = sum(1 for i in retry_ids if _int(by_id.get(i.lower(), {}).get("status")) == 429)
            self.throttle.count(retries=len(pending), throttled=throttled)
            only_sign_in = all(_int(by_id.get(i.lower(), {}).get("status")) == 401 for i in retry_ids)
            delay = max(waits) if waits else backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if saw_429:
                self.throttle.pause(delay)  # the next send waits for it, like every other worker
            elif not only_sign_in:
                self._wait(delay, "POST", url)
        return results

    # -- helpers ----------------------------------------------------------------------------------
    def _url(self, version: str, path: str) -> str:
        if path.lower().startswith(("https://", "http://")):
            return path
        if not path.startswith("/"):
            path = "/" + path
        version = (version or "").strip("/")
        return f"{self.base_url}/{version}{path}" if version else f"{self.base_url}{path}"

    def _check_host(self, url: str) -> None:
        if origin(url) != self.profile.graph_host:
            raise GraphError(0, "ForeignHost",
                             f"refusing to send the access token to {origin(url)}; this connection's Graph host is "
                             f"{self.profile.graph_host}", method="", url=url,
                             **self._explained(0, "ForeignHost", "", ""))

    def _refuse_unsupported(self, method: str, url: str, path: str) -> None:
        self._check_host(url)
        bare = path.split("?", 1)[0]
        if "/onlinemeetings" in bare.lower() and not self.cloud.meetings:
            raise self._not_supported(f"Teams online meetings through Graph are not available in the "
                                      f"{self.cloud.name} cloud.", method=method, url=url)
        if DELEGATED_ONLY.search(bare):
            if not self.cloud.join_link_and_sms:
                raise self._not_supported(f"join links and SMS are only available in the Global cloud, not "
                                          f"{self.cloud.name}.", method=method, url=url)
            if self.auth_kind == "app":
                raise self._not_supported("join links and SMS need a delegated sign-in (device code); an app "
                                          "signed in with client credentials cannot use them.", method=method, url=url)

    def _not_supported(self, message: str, fix: str = "", method: str = "", url: str = "") -> GraphError:
        explained = self._explained(0, "NotSupported", message, "")
        if fix:
            explained = dict(explained, explanation=message, fix=fix)
        return GraphError(0, "NotSupported", message, method=method, url=url, **explained)

    def _connection_failed(self, reason: str, method: str, url: str, client_request_id: str, path: str):
        return GraphError(0, "ConnectionFailed", f"could not reach {self.profile.graph_host} ({reason})",
                          client_request_id=client_request_id, method=method, url=url,
                          **self._explained(0, "ConnectionFailed", f"{self.profile.graph_host}: {reason}", path))

    def _item_error_like(self, exc: GraphError, spec: RequestSpec, version: str) -> GraphError:
        """The outer batch's failure, reported against one of its items."""
        return GraphError(exc.status, exc.code, exc.message, request_id=exc.request_id,
                          client_request_id=exc.client_request_id, date=exc.date, method=spec.method,
                          url=self._url(version, spec.path), explanation=exc.explanation, fix=exc.fix,
                          retry_after=exc.retry_after)

    def _context(self, path: str) -> dict:
        return {"auth_kind": self.auth_kind, "cloud": self.profile.cloud, "client_id": self.profile.client_id,
                "organizer": self._organizer_label(), "path": path}

    def _organizer_label(self) -> str:
        if self.auth_kind == "delegated":
            return ""
        if self._user_path:
            return self._user_path.rsplit("/", 1)[-1]
        return self.profile.organizer

    def _explained(self, status: int, code: str, message: str, path: str) -> dict:
        what, fix = explain(status, code, message, **self._context(path))
        return {"explanation": what, "fix": fix}

    def _token(self, method: str = "", url: str = "", force_refresh: bool = False) -> str:
        from lib.graph.signin import AuthError

        try:
            return self.tokens.get_token(force_refresh=force_refresh) if force_refresh else self.tokens.get_token()
        except AuthError as exc:
            raise SignInFailed(exc, method=method, url=url) from None

    def _check_cancel(self, method: str, url: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise GraphError(0, "Cancelled", "the run was cancelled", method=method, url=url)

    def _wait(self, seconds: float, method: str, url: str) -> None:
        if interruptible_sleep(seconds, self.cancel):
            self._check_cancel(method, url)


def _retryable(status: int, retry_after: float | None, idempotent: bool = True) -> bool:
    # The first-time provisioning 409 comes with Retry-After; any other 409 is final. A gateway
    # timeout may come after the work was done, so a request that must not run twice (SMS) is not
    # repeated: its 504 is reported for the person to decide.
    if status == 504 and not idempotent:
        return False
    return status in RETRY_STATUSES or (status == 409 and retry_after is not None)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (so repeating it is harmless)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0]) if exc.args else ""
        return "NewConnectionError" in text or "Connection refused" in text
    return False


def _describe(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "RemoteDisconnected", "Connection reset", "Connection aborted",
                   "IncompleteRead", "Read timed out", "CERTIFICATE_VERIFY_FAILED", "timed out"):
        if marker in text:
            return f"{type(exc).__name__}: {marker}"
    return f"{type(exc).__name__}: {redact(text)[:200]}"


def _text_of(reply: requests.Response) -> str:
    try:
        return reply.text[:500]
    except Exception:  # undecodable body: the status says enough
        return ""


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
