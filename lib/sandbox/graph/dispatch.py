"""Route matching, authorization (§4) and the error pipeline shared by requests and `$batch` items."""
from __future__ import annotations

import logging
from typing import Any

from .exceptions import BadRequest, Forbidden, General, GraphError, MethodNotAllowed, NotFound, error_body
from .models import Caller, GraphBackend
from .request import GraphRequest, GraphResponse
from .urls import NAVIGATION, Route, url_paths

log = logging.getLogger("lib.sandbox.graph")


def match(req: GraphRequest, routes: list[Route] = url_paths, navigation: list = NAVIGATION) -> Route:
    """The route for the request's path and method: unknown segment → 400, other method → 405."""
    path = req.path
    allowed = []
    for r in routes:
        if req.version not in r.versions:
            continue
        m = r.pattern.fullmatch(path)
        if m is None:
            continue
        if r.method == req.method:
            req.params = {k: v for k, v in m.groupdict().items() if v is not None}
            return r
        allowed.append(r.method)
    if allowed:
        raise MethodNotAllowed(f"The HTTP method '{req.method}' is not allowed for this resource.",
                               headers={"Allow": ", ".join(sorted(set(allowed)))})
    segments = req.segments
    for i in range(len(segments) - 1, 0, -1):
        prefix = "/".join(segments[:i])
        known = any(p.fullmatch(prefix) for p in navigation) or any(
            req.version in r.versions and r.pattern.fullmatch(prefix) for r in routes)
        if known:
            raise BadRequest(f"Resource not found for the segment '{segments[i]}'.")
    raise BadRequest(f"Resource not found for the segment '{segments[0] if segments else ''}'.")


class Dispatcher:
    """Runs one authenticated Graph request through match → 403 → handler, always returning a reply."""

    def __init__(self, backend: GraphBackend):
        self.backend = backend
        self.batch_runner = None   # set by the app: runs `$batch` bodies through this dispatcher
        self.services: dict[str, Any] = {"meetings": backend}
        self.routes: list[Route] = list(url_paths)
        self.navigation: list = list(NAVIGATION)

    def register(self, service: str, backend: Any, routes: list[Route], navigation: list = ()) -> None:
        """Serve another service's routes (mail, ...) with its own backend."""
        self.services[service] = backend
        self.routes.extend(routes)
        self.navigation.extend(navigation)

    def handle(self, req: GraphRequest) -> GraphResponse:
        try:
            route = match(req, self.routes, self.navigation)
            if route.handler is None:
                return self.batch_runner(req)
            self.authorize(route, req)
            return route.handler(self.services[route.service], req)
        except GraphError as e:
            return error_response(req, e)
        except Exception:  # a bug must cost one request, never the server
            log.exception("Unhandled error in %s /%s/%s", req.method, req.version, req.path)
            return error_response(req, GraphError("The sandbox hit an internal error."))

    def authorize(self, route: Route, req: GraphRequest) -> None:
        caller: Caller = req.caller
        path_user = req.params.get("user")
        # Bookings paths name a business, not a user: only user-scoped services have a /me form
        if path_user is None and caller.is_app and route.service != "bookings":
            raise Forbidden("/me request is only valid with delegated authentication flow.")
        needed = route.permissions.application if caller.is_app else route.permissions.delegated
        if not caller.permissions & set(needed):
            raise Forbidden(_missing(caller, needed))
        if not route.meeting_path:
            return
        directory = self.backend.directory
        if caller.is_app:
            req.user = self.backend.meeting_user(path_user)
            self.backend.check_access_policy(caller, req.user)
            return
        if path_user is not None and path_user.lower() != caller.oid:
            raise General(f"Organizer ID in token({caller.oid}) does not match organizer ID in request "
                          f"url({path_user}). With delegated permission only /me endpoint is supported.")
        req.user = directory.user_by_id(caller.oid)
        if req.user is None:
            raise NotFound(f"User '{caller.oid}' was not found in this tenant.")
        req.via_me = path_user is None


def _missing(caller: Caller, needed: tuple[str, ...]) -> str:
    held = ", ".join(sorted(caller.permissions))
    if caller.is_app:
        if not needed:
            return ("Application permissions are not supported for this API: it needs a delegated (signed-in "
                    f"user) token. Roles on the request '{held}'.")
        return f"Missing role permissions on the request. API requires one of '{', '.join(needed)}'. " \
               f"Roles on the request '{held}'."
    return f"Missing scope permissions on the request. API requires one of '{', '.join(needed)}'. " \
           f"Scopes on the request '{held}'."


def error_response(req: GraphRequest, err: GraphError) -> GraphResponse:
    return GraphResponse(err.status, error_body(err.code, err.message, req.request_id, req.client_request_id,
                                                err.inner_code), dict(err.headers))


def error_json(err: GraphError, request_id: str, client_request_id: str) -> dict[str, Any]:
    return error_body(err.code, err.message, request_id, client_request_id, err.inner_code)
