"""HTTP layer of the identity platform: read the form, call IdentityService, answer in Entra's shape."""
from __future__ import annotations

import base64
import html
import json
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..directory import USERS
from .models import DEVICE_CODE_GRANT, IdentityError, IdentityService

JSON_TYPE = "application/json; charset=utf-8"


def _service(request: Request) -> IdentityService:
    return request.app.state.sandbox.identity


def _base(request: Request) -> str:
    return request.app.state.sandbox.base_url


def _headers() -> dict[str, str]:
    return {"x-ms-request-id": str(uuid.uuid4()), "Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE, headers=_headers())


def oauth_error(err: IdentityError, request: Request) -> Response:
    """Entra's error body: error, AADSTS description, error_codes, timestamp, trace and correlation ids."""
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {"error": err.error,
            "error_description": f"AADSTS{err.aadsts}: {err.description} Trace ID: {trace_id} "
                                 f"Correlation ID: {correlation_id} Timestamp: {stamp}",
            "error_codes": [err.aadsts], "timestamp": stamp, "trace_id": trace_id,
            "correlation_id": correlation_id, "error_uri": f"{_base(request)}/error?code={err.aadsts}"}
    return _json(body, err.status)


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise IdentityError("invalid_request", 900144,
                            "The request body must be application/x-www-form-urlencoded.")
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _basic_auth(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user, password
        except ValueError:
            pass
    return None, None


def openid_configuration(request: Request) -> Response:
    tenant = request.path_params["tenant"]
    service = _service(request)
    try:
        service.check_tenant(tenant)
    except IdentityError as e:
        return oauth_error(e, request)
    base, tid = _base(request), service.directory.tenant_id
    issuer_tenant = tid if tenant.lower() not in ("common", "organizations") else "{tenantid}"
    root = f"{base}/{tenant}"
    return _json({
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                             "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                             "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": None,
        "cloud_instance_name": "sandbox",
        "cloud_graph_host_name": request.url.netloc,
        "msgraph_host": request.url.netloc,
        "rbac_url": base,
    })


def jwks(request: Request) -> Response:
    return _json(request.app.state.sandbox.signing_key.jwks())


async def token(request: Request) -> Response:
    service = _service(request)
    try:
        service.check_tenant(request.path_params["tenant"])
        form = await _form(request)
        basic_id, basic_secret = _basic_auth(request)
        app = service.client(form.get("client_id") or basic_id)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            service.authenticate(app, form.get("client_secret") or basic_secret)
            return _json(service.client_credentials(app, form.get("scope")))
        if grant == DEVICE_CODE_GRANT:
            service.authenticate(app, form.get("client_secret") or basic_secret)
            return _json(service.redeem_device_code(app, form.get("device_code")))
        if grant == "refresh_token":
            service.authenticate(app, form.get("client_secret") or basic_secret)
            return _json(service.refresh(app, form.get("refresh_token"), form.get("scope")))
        if not grant:
            raise IdentityError("invalid_request", 900144,
                                "The request body must contain the following parameter: 'grant_type'.")
        raise IdentityError("unsupported_grant_type", 70003,
                            f"The app requested an unsupported grant type '{grant}'. The sandbox supports "
                            "client_credentials, device_code and refresh_token.")
    except IdentityError as e:
        return oauth_error(e, request)


async def devicecode(request: Request) -> Response:
    service = _service(request)
    try:
        service.check_tenant(request.path_params["tenant"])
        form = await _form(request)
        app = service.client(form.get("client_id"))
        return _json(service.start_device_flow(app, form.get("scope")))
    except IdentityError as e:
        return oauth_error(e, request)


def authorize(request: Request) -> Response:
    return HTMLResponse(_page("Sign-in", "<p>The sandbox signs people in with the device code flow only. "
                                         "Use <a href='/devicelogin'>/devicelogin</a>.</p>"), status_code=400)


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}"
          "input,select,button{font-size:1.1rem;padding:.4rem;margin:.3rem 0}"
          "input[name=code]{letter-spacing:.2rem;text-transform:uppercase;width:12rem}"
          ".ok{color:#176c2d}.err{color:#a4262c}")


def _page(title: str, inner: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{inner}"
            "<p><small>Appointment Studio sandbox: a local stand-in for Microsoft sign-in.</small></p>"
            "</body></html>")


def _form_html(message: str = "", code: str = "") -> str:
    options = "".join(f"<option value='{u.id}'>{html.escape(u.display_name)} ({html.escape(u.upn)})</option>"
                      for u in USERS)
    return _page("Enter code", (
        f"{message}<form method='post' action='/devicelogin'>"
        "<p>Enter the code displayed by the application to allow it to sign in.</p>"
        f"<p><input name='code' autofocus autocomplete='off' value='{html.escape(code)}' placeholder='Code'></p>"
        f"<p><label>Sign in as <select name='user'>{options}</select></label></p>"
        "<p><button name='decision' value='approve'>Approve</button> "
        "<button name='decision' value='deny'>Deny</button></p></form>"))


async def devicelogin(request: Request) -> Response:
    """The page where a person types the user code and approves or denies the sign-in."""
    if request.method == "GET":
        return HTMLResponse(_form_html(code=request.query_params.get("code", "")))
    body = (await request.body()).decode("utf-8", "replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    approve = form.get("decision", "approve") != "deny"
    try:
        flow = _service(request).decide(form.get("code", ""), approve, form.get("user"))
    except IdentityError as e:
        return HTMLResponse(_form_html(f"<p class='err'>{html.escape(e.description)}</p>"), status_code=400)
    if approve:
        who = html.escape(flow.user.display_name)
        return HTMLResponse(_page("You're signed in", f"<p class='ok'>Signed in as {who}. "
                                                      "You can close this window and return to the app.</p>"))
    return HTMLResponse(_page("Sign-in declined", "<p class='err'>The sign-in was declined. "
                                                  "You can close this window.</p>"))
