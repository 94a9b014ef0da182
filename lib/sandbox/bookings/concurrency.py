"""Bookings' documented throttle: at most 4 concurrent requests per app + booking mailbox (§14).

A pure-ASGI middleware outside the faults middleware, so a request counts as in flight from its
arrival (including any `--latency`) until its reply is sent."""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import unquote

from ..graph.asgi import authenticate, error_reply, is_graph_path, request_ids, send_reply
from ..graph.exceptions import TooManyRequests
from ..identity.tokens import InvalidToken

MAX_CONCURRENT = 4
_MAILBOX = re.compile(r"/(?:v1\.0|beta)/solutions/bookingBusinesses/([^/?]+)", re.IGNORECASE)


def mailbox_of(path: str) -> str | None:
    """The booking mailbox a Graph path addresses, lower-cased, or None."""
    m = _MAILBOX.match(path)
    return unquote(m.group(1)).lower() if m else None


class MailboxConcurrencyLimit:
    """Refuses the fifth concurrent request for one app + mailbox with 429 and `Retry-After: 1`."""

    def __init__(self, app, verifier, stats, limit: int = MAX_CONCURRENT):
        self.app = app
        self.verifier = verifier
        self.stats = stats
        self.limit = limit
        self.in_flight: Counter = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not is_graph_path(scope["path"]):
            return await self.app(scope, receive, send)
        mailbox = mailbox_of((scope.get("raw_path") or scope["path"].encode()).decode("latin-1"))
        claims = authenticate(scope, self.verifier) if mailbox else None
        if mailbox is None or isinstance(claims, InvalidToken):
            return await self.app(scope, receive, send)
        key = (claims.get("appid", ""), mailbox)
        if self.in_flight[key] >= self.limit:
            self.stats.requests += 1
            self.stats.throttled += 1
            err = TooManyRequests(f"Too many concurrent requests: Bookings allows {self.limit} at a time per app "
                                  f"and booking mailbox ({mailbox}). Retry after the seconds in Retry-After.",
                                  headers={"Retry-After": "1"})
            request_id, client_request_id = request_ids(scope)
            return await send_reply(send, error_reply(err, request_id, client_request_id), request_id,
                                    client_request_id)
        self.in_flight[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[key] -= 1
            if not self.in_flight[key]:
                del self.in_flight[key]
