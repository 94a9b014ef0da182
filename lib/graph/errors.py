"""The Graph client's errors: one type, ``GraphError``, for every request that failed for good.

Its ``explanation`` and ``fix`` come from ``lib.graph.explain`` when whoever raised it did not give
them; they are looked up when first read, so building an error never depends on the wording table.
"""

from __future__ import annotations

from http import HTTPStatus

from requests.structures import CaseInsensitiveDict

from lib.graph.explain import explain
from lib.graph.pacing import parse_retry_after
from lib.graph.redaction import redact


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
        self._explained = (explanation, fix) if explanation or fix else None
        super().__init__(self.message or self.code)

    @property
    def explanation(self) -> str:
        """What happened, in plain words."""
        return self._explanation()[0]

    @explanation.setter
    def explanation(self, value: str) -> None:
        self._explained = (value, self._explanation()[1])

    @property
    def fix(self) -> str:
        """What the person can do about it."""
        return self._explanation()[1]

    @fix.setter
    def fix(self, value: str) -> None:
        self._explained = (self._explanation()[0], value)

    def _explanation(self) -> tuple[str, str]:
        if self._explained is None:
            self._explained = explain(self.status, self.code, self.message)
        return self._explained

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


