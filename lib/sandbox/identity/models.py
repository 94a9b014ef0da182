"""Identity rules: clients, scopes, grants and device-code sign-ins (raises IdentityError)."""
from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..directory import APPLICATION_PERMISSIONS, DEFAULT_SIGN_IN_USER, DELEGATED_PERMISSIONS, App, Directory, User
from ..state import State
from .tokens import TokenIssuer, client_info

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class IdentityError(Exception):
    """An OAuth error in Entra's shape: `error`, an AADSTS code and its description."""

    def __init__(self, error: str, aadsts: int, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.aadsts, self.description, self.status = error, aadsts, description, status


@dataclass
class DeviceFlow:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires_at: float
    status: str = "pending"           # pending | approved | denied | redeemed
    user: User | None = None
    created_at: float = field(default_factory=time.time)


class IdentityService:
    """Issues tokens for the sandbox's apps and tracks device-code sign-ins (kept in memory)."""

    device_code_seconds = 900
    poll_interval = 5

    def __init__(self, directory: Directory, state: State, issuer: TokenIssuer, base_url: str,
                 auto_approve: bool = False):
        self.directory, self.state, self.issuer, self.base_url = directory, state, issuer, base_url
        self.auto_approve = auto_approve
        self.flows: dict[str, DeviceFlow] = {}
        self.by_user_code: dict[str, DeviceFlow] = {}

    # -- tenant and client ------------------------------------------------------------------
    def check_tenant(self, tenant: str) -> None:
        if tenant.lower() == "consumers":
            raise IdentityError("invalid_request", 9002331,
                                "Application is configured for use by Microsoft Account users only... "
                                "personal Microsoft accounts are not supported by the sandbox.")
        if not self.directory.is_tenant(tenant):
            raise IdentityError("invalid_request", 90002,
                                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                "and are signing into the correct cloud.")

    def client(self, client_id: str | None) -> App:
        if not client_id:
            raise IdentityError("invalid_request", 900144,
                                "The request body must contain the following parameter: 'client_id'.")
        app = self.directory.app(client_id)
        if app is None:
            raise IdentityError("unauthorized_client", 700016,
                                f"Application with identifier '{client_id}' was not found in the directory "
                                f"'{self.directory.tenant_domain}'.")
        return app

    def authenticate(self, app: App, secret: str | None) -> None:
        if app.public:
            if secret:
                raise IdentityError("invalid_client", 700025,
                                    "Client is public so neither 'client_assertion' nor 'client_secret' "
                                    "should be presented.", 401)
            return
        if not secret:
            raise IdentityError("invalid_client", 7000218,
                                "The request body must contain the following parameter: 'client_assertion' "
                                "or 'client_secret'.", 401)
        if not secrets.compare_digest(secret, app.secret or ""):
            raise IdentityError("invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent in the request is "
                                f"the client secret value, not the client secret ID, for a secret added to app "
                                f"'{app.client_id}'.", 401)

    # -- scopes -----------------------------------------------------------------------------
    def _resource_scopes(self, scope: str | None) -> list[str]:
        """The non-OIDC scopes, each checked to name this sandbox's resource."""
        prefix = self.base_url.lower() + "/"
        out = []
        for s in (scope or "").split():
            if s.lower() in RESERVED_SCOPES:
                continue
            if not s.lower().startswith(prefix):
                resource = s.rsplit("/", 1)[0] if "://" in s else "https://graph.microsoft.com"
                raise IdentityError(
                    "invalid_resource", 500011,
                    f"The resource principal named {resource} was not found in the tenant named "
                    f"{self.directory.tenant_domain}. This sandbox only issues tokens for {self.base_url} "
                    f"(scope '{self.base_url}/.default' or '{self.base_url}/<Permission>').")
            out.append(self.base_url + "/" + s[len(prefix):])
        return out

    def app_roles(self, app: App, scope: str | None) -> list[str]:
        scopes = self._resource_scopes(scope)
        if not scopes:
            raise IdentityError("invalid_scope", 1002012,
                                "The provided value for scope is not valid. Client credential flows must have a "
                                "scope value with /.default suffixed to the resource identifier "
                                "(application ID URI).")
        if scopes != [self.base_url + "/.default"]:
            raise IdentityError("invalid_scope", 1002012,
                                f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
                                "flows must have a scope value with /.default suffixed to the resource "
                                "identifier (application ID URI).")
        if not app.roles:
            raise IdentityError("unauthorized_client", 700016,
                                f"Application '{app.client_id}' has no application permissions on this resource.")
        return list(app.roles)

    def delegated_scopes(self, app: App, scope: str | None) -> list[str]:
        """Permission names granted for a delegated request (`.default` = all configured)."""
        scopes = self._resource_scopes(scope)
        names = [s[len(self.base_url) + 1:] for s in scopes] or [".default"]
        if ".default" in names:
            if len(names) > 1:
                raise IdentityError("invalid_scope", 70011,
                                    "The provided value for the input parameter 'scope' is not valid. "
                                    "The scope .default cannot be combined with resource-specific scopes.")
            return list(app.delegated)
        for name in names:
            if name not in DELEGATED_PERMISSIONS or name not in app.delegated:
                raise IdentityError("invalid_scope", 70011,
                                    f"The provided value for the input parameter 'scope' is not valid. The scope "
                                    f"'{self.base_url}/{name}' does not exist or is not configured for "
                                    f"application '{app.client_id}'.")
        return list(dict.fromkeys(names))

    # -- grants -----------------------------------------------------------------------------
    def client_credentials(self, app: App, scope: str | None) -> dict[str, Any]:
        if app.public:
            raise IdentityError("unauthorized_client", 700025,
                                "The client credentials grant requires a confidential client.", 400)
        roles = self.app_roles(app, scope)
        issued = self.issuer.app_token(app, roles)
        self._record(issued.claims, "app", app.client_id, None)
        return {"token_type": "Bearer", "expires_in": issued.expires_in, "ext_expires_in": issued.expires_in,
                "access_token": issued.token}

    def start_device_flow(self, app: App, scope: str | None) -> dict[str, Any]:
        if not app.public:
            raise IdentityError("unauthorized_client", 7000218,
                                "The sandbox's device code sign-in is for its public client application.")
        names = self.delegated_scopes(app, scope)
        self._expire_flows()
        flow = DeviceFlow(device_code=secrets.token_urlsafe(48), user_code=self._new_user_code(),
                          client_id=app.client_id, scopes=names,
                          expires_at=time.time() + self.device_code_seconds)
        if self.auto_approve:
            flow.status, flow.user = "approved", DEFAULT_SIGN_IN_USER
        self.flows[flow.device_code] = flow
        self.by_user_code[flow.user_code] = flow
        uri = f"{self.base_url}/devicelogin"
        return {"user_code": flow.user_code, "device_code": flow.device_code, "verification_uri": uri,
                "expires_in": self.device_code_seconds, "interval": self.poll_interval,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                           f"{flow.user_code} to authenticate."}

    def redeem_device_code(self, app: App, device_code: str | None) -> dict[str, Any]:
        flow = self.flows.get(device_code or "")
        if flow is None or flow.client_id != app.client_id:
            raise IdentityError("invalid_grant", 70000,
                                "The provided value for the input parameter 'device_code' is not valid.")
        if time.time() >= flow.expires_at:
            raise IdentityError("expired_token", 70019, "Verification code expired.")
        if flow.status == "pending":
            raise IdentityError("authorization_pending", 70016,
                                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        if flow.status == "denied":
            raise IdentityError("access_denied", 65004,
                                "The user declined to authorize the sign-in.")
        if flow.status == "redeemed":
            raise IdentityError("invalid_grant", 54005, "The device code was already redeemed.")
        flow.status = "redeemed"
        return self._user_tokens(app, flow.user, flow.scopes)

    def refresh(self, app: App, refresh_token: str | None, scope: str | None) -> dict[str, Any]:
        row = self.state.refresh_token(refresh_token or "")
        if row is None or row["client_id"] != app.client_id:
            raise IdentityError("invalid_grant", 9002313,
                                "Invalid request. Request is malformed or invalid: the refresh token is unknown.")
        user = self.directory.user_by_id(row["user_id"])
        granted = row["scopes"].split()
        wanted = self.delegated_scopes(app, scope) if self._resource_scopes(scope) else granted
        if not set(wanted) <= set(app.delegated):
            raise IdentityError("invalid_grant", 65001, "The user or administrator has not consented.")
        return self._user_tokens(app, user, wanted)

    def _user_tokens(self, app: App, user: User, names: list[str]) -> dict[str, Any]:
        issued = self.issuer.user_token(app, user, names)
        self._record(issued.claims, "user", app.client_id, user.id)
        refresh_token = "0.SB" + secrets.token_urlsafe(64)
        with self.state.write():
            self.state.add_refresh_token(refresh_token, app.client_id, user.id, " ".join(names))
        scope = " ".join([f"{self.base_url}/{n}" for n in names] + ["openid", "profile", "offline_access"])
        if set(names) == set(app.delegated):
            scope += f" {self.base_url}/.default"   # lets MSAL serve a `.default` request from its cache
        return {"token_type": "Bearer", "scope": scope, "expires_in": issued.expires_in,
                "ext_expires_in": issued.expires_in, "access_token": issued.token,
                "refresh_token": refresh_token, "id_token": self.issuer.id_token(app, user),
                "client_info": client_info(user, self.directory.tenant_id)}

    def _record(self, claims: dict[str, Any], kind: str, client_id: str, subject: str | None) -> None:
        with self.state.write():
            self.state.record_token(claims["jti"], kind, client_id, subject, claims["iat"], claims["exp"])

    # -- approval page ----------------------------------------------------------------------
    def decide(self, user_code: str, approve: bool, user_id: str | None = None) -> DeviceFlow:
        """Approve or deny a pending sign-in from the browser page."""
        flow = self.by_user_code.get(user_code.strip().upper().replace("-", "").replace(" ", ""))
        if flow is None or time.time() >= flow.expires_at:
            raise IdentityError("invalid_grant", 70000, "That code is unknown or has expired.")
        if flow.status != "pending":
            raise IdentityError("invalid_grant", 70000, "That code has already been used.")
        if approve:
            flow.user = self.directory.user_by_id(user_id or "") or DEFAULT_SIGN_IN_USER
            flow.status = "approved"
        else:
            flow.status = "denied"
        return flow

    def _new_user_code(self) -> str:
        while True:
            code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
            if code not in self.by_user_code:
                return code

    def _expire_flows(self) -> None:
        now = time.time()
        for code, flow in list(self.flows.items()):
            if now >= flow.expires_at + 600:
                del self.flows[code]
                self.by_user_code.pop(flow.user_code, None)


def new_trace_id() -> str:
    return str(uuid.uuid4())


__all__ = ["IdentityService", "IdentityError", "DEVICE_CODE_GRANT", "APPLICATION_PERMISSIONS"]
