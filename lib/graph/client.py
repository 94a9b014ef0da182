"""The Microsoft Graph client: the public surface of one connection.

``GraphClient`` sends requests and flow steps (``request``, ``send``, ``batch``), looks users up
(``resolve_user``, ``user_path``, ``organizer``), refuses before sending what the connection cannot
do (``check_supports``) and proves a connection (``whoami``). Sending, pacing and the one retry
policy live in ``lib.graph.transport``, ``lib.graph.pacing`` and ``lib.graph.retry``; failures are
``GraphError`` (``lib.graph.errors``) with a plain-language explanation and fix.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import requests

from lib.graph.capabilities import DELEGATED_ONLY, unsupported_flow, unsupported_request
from lib.graph.clouds import cloud_for
from lib.graph.errors import GraphError, SignInFailed
from lib.graph.pacing import MAX_BATCH, Throttle
from lib.graph.profile import Profile
from lib.model.ids import is_guid
from lib.graph.response import GraphResponse, parse_body
from lib.graph.retry import NEVER_RETRY, RETRY_STATUSES, Retry
from lib.graph.transport import GraphAdapter, Transport
from lib.model.flows import SIGNED_IN, RequestSpec, organizer_path

__all__ = ["GraphClient", "GraphError", "GraphResponse", "SignInFailed", "parse_body", "MAX_BATCH",
           "RETRY_STATUSES", "NEVER_RETRY", "DELEGATED_ONLY"]


class GraphClient:
    """Microsoft Graph for one connection profile.

    ``max_wait`` is how many seconds a request may spend waiting out throttling (429) before it
    fails; ``max_attempts`` bounds the retries of 503/504/409 and dropped connections.
    """

    def __init__(self, profile: Profile, token_provider=None, *, session: requests.Session | None = None,
                 throttle: Throttle | None = None, timeout=(10, 60), max_attempts: int = 6,
                 cancel: threading.Event | None = None, backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 max_wait: float = 900.0):
        if token_provider is None:
            from lib.graph.signin import token_provider_for

            token_provider = token_provider_for(profile, cancel=cancel)
        self.profile = profile
        self.tokens = token_provider
        self.throttle = throttle if throttle is not None else Throttle(profile.max_requests_per_second)
        self.timeout = timeout
        self.retry = Retry(total=max(1, int(max_attempts)), max_wait=float(max_wait), backoff_base=backoff_base,
                           backoff_cap=backoff_cap)
        self.cancel = cancel
        self.base_url = profile.graph_base_url.rstrip("/")
        self.verify = profile.verify
        self.cloud = cloud_for(profile)
        if session is None:
            session = requests.Session()
            adapter = GraphAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # The environment is read once, not at every request: a proxy it names is kept, a ~/.netrc entry
            # never replaces the bearer token, and the CA is the one passed with each request (``verify``).
            session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
            session.trust_env = False
        session.verify = self.verify
        self.session = session
        self.transport = Transport(session, base_url=self.base_url, graph_host=profile.graph_host,
                                   verify=self.verify, timeout=timeout, throttle=self.throttle, retry=self.retry,
                                   token=self._token, context=self._context, cancel=cancel)
        self._lock = threading.Lock()
        self._users: dict[str, dict] = {}
        self._user_path = ""
        self._organizers: dict[str, tuple[str, str]] = {}

    def __repr__(self) -> str:
        return f"<GraphClient {self.profile.name!r} {self.base_url} {self.auth_kind}>"

    @property
    def auth_kind(self) -> str:
        return "app" if self.profile.auth == "client_credentials" else "delegated"

    @property
    def max_attempts(self) -> int:
        return self.retry.total

    @property
    def max_wait(self) -> float:
        return self.retry.max_wait

    def close(self) -> None:
        self.session.close()

    # -- sending ----------------------------------------------------------------------------------
    def request(self, method: str, version: str, path: str, body=None, *, idempotent: bool = True,
                headers: dict | None = None) -> GraphResponse:
        """Send one request (retrying what is safe to retry); raises ``GraphError`` when it finally fails."""
        method = method.upper()
        url = self._url(version, path)
        self._refuse_unsupported(method, url, path)
        return self.transport.request(method, url, body, idempotent=idempotent, headers=headers, path=path)

    def send(self, spec: RequestSpec) -> GraphResponse:
        """Send one step of a flow."""
        if spec.needs_meeting_id:
            raise ValueError(f"{spec.step}: the meeting id is not known yet; call spec.with_meeting_id() first")
        return self.request(spec.method, spec.version, spec.path, spec.body, idempotent=spec.idempotent,
                            headers=spec.headers())

    def batch(self, version: str, items: list[tuple[str, RequestSpec]]) -> dict:
        """Send requests in ``$batch`` envelopes; returns key → GraphResponse | GraphError.

        An envelope carries at most 20 items, fewer while Graph throttles (``Throttle.reserve``).

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
        if len(sendable) == 1:
            key, spec = sendable[0]
            try:
                results[key] = self.send(spec)
            except GraphError as exc:
                results[key] = exc
        elif sendable:
            results.update(self.transport.batch(version, sendable, self._url))
        return results

    # -- users ------------------------------------------------------------------------------------
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
            return organizer_path(self.profile.auth)
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
        self._user_path = organizer_path(self.profile.auth, object_id)
        return self._user_path

    def organizer(self, organizer: str = "") -> tuple[str, str]:
        """(organizer id as the journal keeps it, Graph user path) for an appointment's organizer.

        ``("me", "/me")`` for delegated sign-in; for app-only the object id (a UPN is looked up once,
        the profile's organizer when ``organizer`` is empty) and ``/users/{object id}``.
        """
        if self.auth_kind == "delegated":
            return SIGNED_IN, organizer_path(self.profile.auth)
        wanted = organizer or self.profile.organizer
        with self._lock:
            if wanted in self._organizers:
                return self._organizers[wanted]
        if wanted == self.profile.organizer:
            path = self.user_path()
            object_id = path.rsplit("/", 1)[-1]
        else:
            object_id = self.resolve_user(wanted)["id"]
            path = organizer_path(self.profile.auth, object_id)
        with self._lock:
            self._organizers[wanted] = (object_id, path)
        return object_id, path

    # -- what this connection can do ----------------------------------------------------------------
    def check_supports(self, flow: str, sms: bool = False) -> None:
        """Raise ``GraphError(NotSupported)`` before sending anything this connection cannot do."""
        refusal = unsupported_flow(self.cloud, self.auth_kind, flow, sms)
        if refusal is not None:
            raise self._not_supported(*refusal)

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

    # -- helpers ----------------------------------------------------------------------------------
    def _url(self, version: str, path: str) -> str:
        if path.lower().startswith(("https://", "http://")):
            return path
        if not path.startswith("/"):
            path = "/" + path
        version = (version or "").strip("/")
        return f"{self.base_url}/{version}{path}" if version else f"{self.base_url}{path}"

    def _refuse_unsupported(self, method: str, url: str, path: str) -> None:
        self.transport.check_host(url)
        refusal = unsupported_request(self.cloud, self.auth_kind, path)
        if refusal is not None:
            raise self._not_supported(refusal, method=method, url=url)

    def _not_supported(self, message: str, fix: str = "", method: str = "", url: str = "") -> GraphError:
        explained = self.transport.explained(0, "NotSupported", message, "")
        if fix:
            explained = dict(explained, explanation=message, fix=fix)
        return GraphError(0, "NotSupported", message, method=method, url=url, **explained)

    def _context(self, path: str) -> dict:
        return {"auth_kind": self.auth_kind, "cloud": self.profile.cloud, "client_id": self.profile.client_id,
                "organizer": self._organizer_label(), "path": path}

    def _organizer_label(self) -> str:
        if self.auth_kind == "delegated":
            return ""
        if self._user_path:
            return self._user_path.rsplit("/", 1)[-1]
        return self.profile.organizer

    def _token(self, method: str = "", url: str = "", force_refresh: bool = False) -> str:
        from lib.graph.signin import AuthError

        try:
            return self.tokens.get_token(force_refresh=force_refresh) if force_refresh else self.tokens.get_token()
        except AuthError as exc:
            raise SignInFailed(exc, method=method, url=url) from None
