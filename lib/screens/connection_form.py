"""The Connection page's form in a business user's words: labels, what each flow needs, the secret.

The client secret is held in memory for the session; on request it goes to the operating system's
credential store through ``keyring`` (never to a file the app writes).
"""

from __future__ import annotations

import re

from lib.graph.errors import GraphError
from lib.graph.profile import Profile, ProfileError
from lib.graph.bookings import BOOKINGS_PERMISSIONS
from lib.graph.signin import TokenProvider, token_provider_with
from lib.notify.access import granted

# Profile fields as the form labels them: errors speak the form's language, not the file's.
FORM_LABELS = {
    "name": "Name", "cloud": "Cloud", "tenant_id": "Tenant ID", "client_id": "Application (client) ID",
    "auth": "Sign-in", "client_secret": "Client secret", "client_secret_env": "Client secret",
    "organizer": "Organizer", "authority": "Sign-in address", "graph_base_url": "Graph address",
    "ca_bundle": "Certificate authority",
}

NEEDS = {
    "device_code": [
        "**Join-link flow** (real tenants): delegated `OnlineMeetings.ReadWrite`; to text clients also "
        "`VirtualAppointmentNotification.Send`, a **Teams Premium** licence for the organizer and SMS turned on "
        "in the Teams virtual appointments policy (`EnableSmsNotifications`); US numbers only.",
        "**Virtual-appointment flow** (retired beta, sandbox only): delegated `OnlineMeetings.ReadWrite` and "
        "`VirtualAppointment.ReadWrite`.",
        "An admin grants consent once in Microsoft Entra (App registrations → API permissions); the app must "
        "allow public client flows for device-code sign-in.",
        "**Bookings flow**: delegated `BookingsAppointment.ReadWrite.All` and `Bookings.Read.All`; the person "
        "must be staff of the booking business.",
    ],
    "client_credentials": [
        "Application permission `OnlineMeetings.ReadWrite.All` with admin consent, and an **application access "
        "policy** a Teams admin grants to this app (`New-CsApplicationAccessPolicy`, then "
        "`Grant-CsApplicationAccessPolicy`; it takes up to 30 minutes).",
        "`User.Read.All` to find the organizer by email address (UPN).",
        "The join link and text messages are **not available app-only**: Microsoft offers them only to a "
        "signed-in user. Choose “A person signs in” for the join-link flow.",
        "**Bookings flow**: application permissions `BookingsAppointment.ReadWrite.All`, `Bookings.Read.All` "
        "(and `Bookings.ReadWrite.All` to cancel), with admin consent.",
    ],
}

# The Bookings flow works with either sign-in; what it needs is the same apart from the permission kind.
BOOKINGS_NEEDS = [
    "A **Microsoft 365 plan that includes Bookings** (Business Standard or Premium, E3/E5, ...) and a booking "
    "business set up in Microsoft Bookings, with at least one service.",
    "`BookingsAppointment.ReadWrite.All` to create bookings, `Bookings.Read.All` to list the businesses, their "
    "services and staff; to cancel app-only, `Bookings.ReadWrite.All` (application). Delegated or application "
    "permissions both work; an admin grants consent once.",
    "Microsoft Bookings emails each customer their confirmation and Teams link itself: nothing else to send.",
]

KEYRING_SERVICE = "Appointment Studio"
BUSINESS_LIST_NOTE = ("Graph lists at most 500 booking businesses and offers no next page: if yours is not "
                      "shown, type part of its name or address in the search box.")


def bookings_token_provider(profile: Profile, *, on_device_code=None, cancel=None) -> TokenProvider:
    """Tokens that may also use Bookings (a sign-in of its own; the meetings' sign-in is not widened)."""
    return token_provider_with(profile, BOOKINGS_PERMISSIONS, "bookings", on_device_code=on_device_code,
                               cancel=cancel)


def lacks_bookings_sign_in(client) -> bool:
    """True when a signed-in connection's token was asked without the Bookings permissions (sign in again)."""
    if client.auth_kind != "delegated":
        return False
    held = granted(client)
    return held is not None and not set(BOOKINGS_PERMISSIONS) <= held


def bookings_error(exc: GraphError, auth: str) -> GraphError:
    """Graph's refusal to list booking businesses, in plain words with the fix (403/401: a permission)."""
    kind = "application" if auth == "client_credentials" else "delegated"
    if exc.status in (401, 403):
        return GraphError(exc.status, exc.code, exc.message, request_id=exc.request_id,
                          explanation="This connection may not read Microsoft Bookings: its app registration "
                                      "lacks the Bookings permissions (or the tenant has no Bookings plan).",
                          fix=f"In the Entra admin center → App registrations → API permissions, add the Microsoft "
                              f"Graph {kind} permissions Bookings.Read.All and BookingsAppointment.ReadWrite.All, "
                              "select \"Grant admin consent\", then connect again. The tenant needs a Microsoft 365 "
                              "plan that includes Bookings.")
    return exc


def no_businesses_message(query: str, auth: str) -> str:
    """Why no business is listed, and what to do."""
    if query.strip():
        return (f"No booking business matches “{query.strip()}”. Clear the search box or type another part of "
                "the business's name or address.")
    who = ("the app sees every business in the tenant" if auth == "client_credentials"
           else "the signed-in person sees only businesses where they are staff")
    return ("This connection sees no booking business. Create one in Microsoft Bookings (it needs a Microsoft "
            f"365 plan that includes Bookings) and add a service; {who}.")


def in_form_words(exc: ProfileError) -> ProfileError:
    """The same problem, naming the form's label ("Tenant ID") instead of the profile field (tenant_id)."""
    label = FORM_LABELS.get(exc.field, exc.field)
    message = exc.message
    for field_name, field_label in FORM_LABELS.items():
        message = re.sub(rf"\b{field_name}\b", field_label, message)
    return ProfileError(label, message)


def secret_account(tenant_id: str, client_id: str) -> str:
    """The credential store's account name for one app registration in one tenant."""
    return f"{tenant_id.strip().lower()}/{client_id.strip().lower()}"


class CredentialStoreMissing(RuntimeError):
    """No credential store on this computer that keyring can use."""


def store_secret(tenant_id: str, client_id: str, secret: str) -> str:
    """Keep ``secret`` in the OS credential store; returns where, in words. Raises CredentialStoreMissing."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, secret_account(tenant_id, client_id), secret)
    except KeyringError as exc:
        raise CredentialStoreMissing(
            "This computer has no credential store the app can use (no keyring backend), so the secret is kept "
            "for this session only. On Linux, install and unlock a Secret Service keyring (GNOME Keyring, "
            f"KWallet); Windows and macOS have one built in. ({exc})") from None
    return f"Saved in {_backend_name()} as “{KEYRING_SERVICE}”."


def stored_secret(tenant_id: str, client_id: str) -> str:
    """The secret kept for this app registration, or "" (also when there is no credential store)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, secret_account(tenant_id, client_id)) or ""
    except KeyringError:
        return ""


def _backend_name() -> str:
    import keyring

    backend = keyring.get_keyring()
    return getattr(backend, "name", type(backend).__name__)
