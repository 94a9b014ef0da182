"""The Microsoft Graph client: profiles and clouds, sign-in, transport with one retry policy, errors explained.

``open_client`` is the one way the CLI and the app build a client; the public names are exported here.
"""

from __future__ import annotations

import threading

from lib.graph.client import GraphClient
from lib.graph.errors import GraphError, SignInFailed
from lib.graph.pacing import Throttle
from lib.graph.profile import Profile
from lib.graph.response import GraphResponse
from lib.graph.retry import Decision, Retry

__all__ = ["open_client", "GraphClient", "GraphError", "SignInFailed", "GraphResponse", "Throttle", "Retry",
           "Decision", "Profile"]


def open_client(profile: Profile, tokens=None, *, max_per_second: float | None = None, max_wait: float = 900.0,
                cancel: threading.Event | None = None) -> GraphClient:
    """A client for ``profile``: its own throttle (``max_per_second``, else the profile's ceiling, else learned
    from Graph's 429s) and ``max_wait`` seconds of waiting out throttling before a request fails.

    ``tokens`` is a token provider (``lib.graph.signin.token_provider_for(profile)`` when None).
    """
    if tokens is None:
        from lib.graph.signin import token_provider_for

        tokens = token_provider_for(profile, cancel=cancel)
    throttle = Throttle(max_per_second=max_per_second or profile.max_requests_per_second)
    return GraphClient(profile, tokens, throttle=throttle, max_wait=max_wait, cancel=cancel)
