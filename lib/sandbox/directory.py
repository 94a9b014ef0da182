"""The sandbox's fixed directory: one tenant, its users and its two app registrations."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

TENANT_ID = "c3853400-a1ea-4e58-9438-9c3023745331"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
TENANT_NAME = "Contoso (sandbox)"


@dataclass(frozen=True)
class User:
    id: str
    display_name: str
    upn: str

    @property
    def mail(self) -> str:
        return self.upn


@dataclass(frozen=True)
class App:
    client_id: str
    display_name: str
    public: bool
    secret: str | None = None
    roles: tuple[str, ...] = ()          # application permissions (app-only tokens)
    delegated: tuple[str, ...] = ()      # delegated permissions (user tokens)


USERS: tuple[User, ...] = (
    User("9d892f4c-f843-4fdc-9e82-c790f1a0f844", "Adele Vance", "adele.vance@contoso.onmicrosoft.com"),
    User("36c6fb45-6c0f-4878-9192-9fd2160d0f8e", "Megan Bowen", "megan.bowen@contoso.onmicrosoft.com"),
    User("ee57d7e1-a7eb-4697-b570-9f13bdad6470", "Lee Gu", "lee.gu@contoso.onmicrosoft.com"),
    User("a49bc48c-8ea4-49b8-9bcb-76e8998e3539", "Isaiah Langer", "isaiah.langer@contoso.onmicrosoft.com"),
)

CONFIDENTIAL_APP = App(
    client_id="b4367848-ec6e-45a5-99e2-5ce20d92cb64",
    display_name="Appointment Studio Sandbox (daemon)",
    public=False,
    secret="sandbox-demo-secret~not-a-real-credential",
    roles=("OnlineMeetings.ReadWrite.All", "User.Read.All", "Mail.Send", "Mail.ReadWrite", "Calendars.ReadWrite",
           "BookingsAppointment.ReadWrite.All", "Bookings.Read.All", "Bookings.ReadWrite.All"),
)

PUBLIC_APP = App(
    client_id="0509ff44-a864-484c-8c7f-3f3cd9724c39",
    display_name="Appointment Studio Sandbox",
    public=True,
    delegated=("OnlineMeetings.ReadWrite", "VirtualAppointment.Read", "VirtualAppointment.ReadWrite",
               "VirtualAppointmentNotification.Send", "User.Read", "Mail.Send", "Mail.ReadWrite",
               "Calendars.ReadWrite", "Bookings.Read.All", "BookingsAppointment.ReadWrite.All"),
)

APPS: tuple[App, ...] = (CONFIDENTIAL_APP, PUBLIC_APP)

# Every permission name the sandbox's resource knows; anything else in a scope is invalid.
DELEGATED_PERMISSIONS = frozenset({
    "OnlineMeetings.Read", "OnlineMeetings.ReadWrite", "VirtualAppointment.Read",
    "VirtualAppointment.ReadWrite", "VirtualAppointmentNotification.Send", "User.Read",
    "Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All",
    "Mail.Send", "Mail.Read", "Mail.ReadWrite", "Calendars.Read", "Calendars.ReadWrite",
})
APPLICATION_PERMISSIONS = frozenset({
    "OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All", "VirtualAppointment.Read.All",
    "VirtualAppointment.ReadWrite.All", "User.Read.All",
    "Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All",
    "Mail.Send", "Mail.Read", "Mail.ReadWrite", "Calendars.Read", "Calendars.ReadWrite",
})

DEFAULT_SIGN_IN_USER = USERS[0]


def with_permissions(permissions_of: dict[str, tuple[str, ...]]) -> tuple[App, ...]:
    """The two apps with `--permissions-of` applied: "app" sets the daemon's application permissions,
    "user" the public client's delegated ones (names are checked by the command line)."""
    confidential, public = CONFIDENTIAL_APP, PUBLIC_APP
    if "app" in permissions_of:
        confidential = replace(confidential, roles=tuple(permissions_of["app"]))
    if "user" in permissions_of:
        public = replace(public, delegated=tuple(permissions_of["user"]))
    return confidential, public


@dataclass
class Directory:
    """Lookups over the fixed identities (users by object id or UPN, apps by client id)."""
    tenant_id: str = TENANT_ID
    tenant_domain: str = TENANT_DOMAIN
    users: tuple[User, ...] = USERS
    apps: tuple[App, ...] = APPS
    _by_id: dict = field(default_factory=dict, repr=False)
    _by_upn: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._by_id = {u.id.lower(): u for u in self.users}
        self._by_upn = {u.upn.lower(): u for u in self.users}

    def user_by_id(self, object_id: str) -> User | None:
        """The user with this object id (case-insensitive GUID), else None."""
        return self._by_id.get(object_id.lower())

    def user_by_id_or_upn(self, key: str) -> User | None:
        return self._by_id.get(key.lower()) or self._by_upn.get(key.lower())

    def app(self, client_id: str) -> App | None:
        for app in self.apps:
            if app.client_id == client_id.lower():
                return app
        return None

    def is_tenant(self, tenant: str) -> bool:
        """Whether a path's `{tenant}` names this tenant (GUID, domain, or a multi-tenant alias)."""
        return tenant.lower() in (self.tenant_id, self.tenant_domain, "organizations", "common")
