"""Typed Graph errors and the one place that turns them into Graph's error body (§9)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


class GraphError(Exception):
    status = 500
    code = "InternalServerError"

    def __init__(self, message: str, *, inner_code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.inner_code = inner_code
        self.headers = headers or {}


class BadRequest(GraphError):
    status, code = 400, "BadRequest"


class InvalidAuthenticationToken(GraphError):
    status, code = 401, "InvalidAuthenticationToken"


class Forbidden(GraphError):
    status, code = 403, "Forbidden"


class General(GraphError):
    """403 with code `General`, as the meetings service sends for organizer and policy refusals."""
    status, code = 403, "General"


class NotFound(GraphError):
    status, code = 404, "NotFound"


class MethodNotAllowed(GraphError):
    status, code = 405, "MethodNotAllowed"


class Conflict(GraphError):
    status, code = 409, "Conflict"


class PreconditionFailed(GraphError):
    status, code = 412, "PreconditionFailed"


class RequestEntityTooLarge(GraphError):
    status, code = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(GraphError):
    status, code = 415, "UnsupportedMediaType"


class FailedDependency(GraphError):
    status, code = 424, "FailedDependency"


class TooManyRequests(GraphError):
    status, code = 429, "TooManyRequests"


class ServiceUnavailable(GraphError):
    status, code = 503, "ServiceUnavailable"


class GatewayTimeout(GraphError):
    status, code = 504, "GatewayTimeout"


def error_body(status_code: str, message: str, request_id: str, client_request_id: str,
               inner_code: str | None = None) -> dict[str, Any]:
    """Graph's error JSON: code, message, innerError {date, request-id, client-request-id}."""
    inner: dict[str, Any] = {}
    if inner_code:
        inner["code"] = inner_code
    inner.update({"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                  "request-id": request_id, "client-request-id": client_request_id})
    return {"error": {"code": status_code, "message": message, "innerError": inner}}
