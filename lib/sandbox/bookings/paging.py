"""Server-driven paging with `@odata.nextLink` (small pages, so clients really follow them)."""
from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from ..graph.exceptions import BadRequest

# Items per page when the client sends no `$top` (Graph picks its own page size; the sandbox picks small ones).
PAGE_SIZES = {"services": 1, "staffMembers": 2, "customers": 2, "appointments": 3}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"The $skiptoken '{token}' is not valid; follow @odata.nextLink exactly as returned.")


def page(items: list[Any], query: dict[str, str], collection: str, link_base: str) -> tuple[list[Any], str | None]:
    """(this page's items, nextLink or None). With `$top`, the first N items and no nextLink, as
    Bookings does (the reason the reference says not to send `$top`)."""
    top = query.get("$top", query.get("top"))
    if top is not None:
        if not top.isdigit():
            raise BadRequest(f"Invalid value '{top}' for $top query option; a non-negative integer is expected.")
        return items[:int(top)], None
    token = query.get("$skiptoken", query.get("skiptoken"))
    start = _offset(token) if token else 0
    size = PAGE_SIZES[collection]
    chunk = items[start:start + size]
    if start + size >= len(items):
        return chunk, None
    return chunk, f"{link_base}?%24skiptoken={quote(_token(start + size))}"
