"""Bookings' documented throttle: at most 4 concurrent requests per app + booking mailbox (§14).

The counting is the shared mailbox gate's (``lib/sandbox/mailbox_gate.py``, also used by Outlook's
limit); this module says which booking mailbox a path addresses and how Bookings words the 429."""
from __future__ import annotations

import re
from urllib.parse import unquote

from ..graph.exceptions import TooManyRequests

MAX_CONCURRENT = 4
_MAILBOX = re.compile(r"solutions/bookingBusinesses/([^/?]+)", re.IGNORECASE)


def mailbox_of(path: str) -> str | None:
    """The booking mailbox a Graph path (below the version) addresses, lower-cased, or None."""
    m = _MAILBOX.match(path.lstrip("/"))
    return unquote(m.group(1)).lower() if m else None


def too_many(mailbox: str):
    """The 429 Bookings answers the fifth concurrent request with."""
    def error() -> TooManyRequests:
        return TooManyRequests(f"Too many concurrent requests: Bookings allows {MAX_CONCURRENT} at a time per app "
                               f"and booking mailbox ({mailbox}). Retry after the seconds in Retry-After.",
                               headers={"Retry-After": "1"})
    return error


def find(path: str, oid: str):
    """For the mailbox gate: (booking mailbox, its 429) for a Bookings path, else None."""
    mailbox = mailbox_of(path)
    return (mailbox, too_many(mailbox)) if mailbox else None
