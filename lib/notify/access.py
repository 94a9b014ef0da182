"""Sign-in for telling clients: delegated tokens must also carry Mail.Send, Mail.ReadWrite and
Calendars.ReadWrite (app-only `.default` tokens already hold whatever the app was granted)."""
from __future__ import annotations

import threading
from typing import Callable

import jwt

from lib.graph.client import GraphClient, GraphError
from lib.graph.profile import Profile
from lib.graph.signin import AuthError, TokenProvider, token_provider_with

MAIL_PERMISSIONS = ("Mail.Send", "Mail.ReadWrite", "Calendars.ReadWrite")


def token_provider(profile: Profile, *, on_device_code: Callable[[dict], None] | None = None,
                   cancel: threading.Event | None = None) -> TokenProvider:
    """Tokens for notifications; delegated ones ask for the mail and calendar permissions too."""
    return token_provider_with(profile, MAIL_PERMISSIONS, "mail", on_device_code=on_device_code, cancel=cancel)


def granted(client: GraphClient) -> set[str] | None:
    """The permissions in the connection's access token (`roles` app-only, `scp` delegated); None if unreadable.

    Read only to explain a refusal before sending; Graph checks the token itself.
    """
    try:
        claims = jwt.decode(client.tokens.get_token(), options={"verify_signature": False})
    except (jwt.PyJWTError, AuthError, ValueError, TypeError):
        return None
    if "roles" in claims or "scp" not in claims:
        return set(claims.get("roles") or [])
    return set(str(claims.get("scp") or "").split())


def check_can_notify(client: GraphClient, *, calendar: bool = False) -> None:
    """A `NotSupported` GraphError with the exact fix when the token lacks what telling clients needs."""
    held = granted(client)
    if held is None:
        return
    needed = ["Mail.Send", "Mail.ReadWrite"] + (["Calendars.ReadWrite"] if calendar else [])
    missing = [name for name in needed if name not in held]
    if not missing:
        return
    app_only = client.auth_kind == "app"
    kind = "application" if app_only else "delegated"
    raise GraphError(
        0, "NotSupported", f"the connection's token lacks {', '.join(missing)}",
        explanation=(f"This connection may not {'send email' if 'Mail.Send' in missing else 'create drafts'}"
                     f"{' or write calendars' if 'Calendars.ReadWrite' in missing else ''}: its token holds "
                     f"{', '.join(sorted(held)) or 'no permissions'} but not {', '.join(missing)}. Nothing was sent."),
        fix=(f"In the Entra admin center → App registrations → {client.profile.client_id} → API permissions, add the "
             f"Microsoft Graph {kind} permissions {', '.join(missing)} and select \"Grant admin consent\""
             + ("; then sign in again." if not app_only else
                ". If Exchange limits the app to some mailboxes (New-ApplicationAccessPolicy), include the "
                "organizer's mailbox.")))
