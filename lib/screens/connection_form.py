"""The Connection page's form in a business user's words: labels, what each flow needs, the secret.

The client secret is held in memory for the session; on request it goes to the operating system's
credential store through ``keyring`` (never to a file the app writes).
"""

from __future__ import annotations

import re

from lib.graph.profile import ProfileError

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
    ],
    "client_credentials": [
        "Application permission `OnlineMeetings.ReadWrite.All` with admin consent, and an **application access "
        "policy** a Teams admin grants to this app (`New-CsApplicationAccessPolicy`, then "
        "`Grant-CsApplicationAccessPolicy`; it takes up to 30 minutes).",
        "`User.Read.All` to find the organizer by email address (UPN).",
        "The join link and text messages are **not available app-only**: Microsoft offers them only to a "
        "signed-in user. Choose “A person signs in” for the join-link flow.",
    ],
}

KEYRING_SERVICE = "Appointment Studio"


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
