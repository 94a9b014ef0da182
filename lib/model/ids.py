"""Identifiers as Entra writes them: object ids, tenant ids and client ids are GUIDs."""

from __future__ import annotations

import re

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_guid(value: str) -> bool:
    """True when ``value`` is exactly one GUID (any letter case), such as an Entra object id."""
    return bool(GUID.fullmatch(value or ""))
