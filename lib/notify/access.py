"""Sign-in for telling clients: delegated tokens must also carry Mail.Send, Mail.ReadWrite and
Calendars.ReadWrite (app-only `.default` tokens already hold whatever the app was granted)."""
from __future__ import annotations

import threading
from typing import Callable

from lib.graph.profile import Profile
from lib.graph.signin import MsalTokenProvider, TokenProvider, token_cache_path

MAIL_PERMISSIONS = ("Mail.Send", "Mail.ReadWrite", "Calendars.ReadWrite")


def token_provider(profile: Profile, *, on_device_code: Callable[[dict], None] | None = None,
                   cancel: threading.Event | None = None) -> TokenProvider:
    """Tokens for notifications; delegated ones ask for the mail and calendar permissions too.

    Kept in a cache file of its own, so the meetings' sign-in is never widened behind the user's back.
    """
    path = token_cache_path(profile)
    provider = MsalTokenProvider(profile, on_device_code=on_device_code, cancel=cancel,
                                 cache_path=path.with_name(path.stem + "-mail.json"))
    if profile.auth != "client_credentials":
        root = profile.graph_base_url.rstrip("/")
        provider.scopes = [*provider.scopes, *(f"{root}/{name}" for name in MAIL_PERMISSIONS)]
    return provider
