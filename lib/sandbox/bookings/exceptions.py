"""Bookings' own error: the opaque 500 it sends for slot conflicts and invalid staff ids (§14)."""
from __future__ import annotations

from ..graph.exceptions import GraphError


class UnknownError(GraphError):
    """500 `UnknownError`, with the empty message the service is reported to send."""
    status, code = 500, "UnknownError"

    def __init__(self):
        super().__init__("")
