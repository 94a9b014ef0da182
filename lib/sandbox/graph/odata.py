"""OData strictness shared by every Graph body: property names, literals, times, filters, ETags."""
from __future__ import annotations

import base64
import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from .exceptions import BadRequest

_TICKS = 10_000_000
_EPOCH = datetime(1, 1, 1)
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})")


def check_properties(body: dict[str, Any], allowed: Iterable[str], type_name: str) -> None:
    """400 for a property the type lacks; `@odata.*` annotations are always allowed."""
    allowed = set(allowed)
    for name in body:
        if name not in allowed and not name.startswith("@odata.") and "@odata." not in name:
            raise BadRequest(f"The property '{name}' does not exist on type '{type_name}'. "
                             "Make sure to only use property names that are defined by the type.")


def expect_object(value: Any, type_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"Cannot convert the value to the expected type '{type_name}': a JSON object is "
                         "expected.")
    return value


def expect_string(value: Any, name: str, *, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Cannot convert a primitive value to the expected type 'Edm.String' for property "
                         f"'{name}'. See the inner exception for more details.")
    return value


def expect_bool(value: Any, name: str) -> bool | None:
    """A JSON boolean, or exactly "true"/"false" (the docs' examples send strings); null stays null."""
    if value is None or isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise BadRequest(f"Cannot convert the literal '{_literal(value)}' to the expected type 'Edm.Boolean' "
                     f"for property '{name}'.")


def expect_enum(value: Any, name: str, members: Iterable[str], type_name: str) -> str:
    if not isinstance(value, str) or value not in set(members):
        raise BadRequest(f"Requested value '{_literal(value)}' was not found for property '{name}' "
                         f"(enum '{type_name}').")
    return value


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


class Instant:
    """A point in time with Graph's 100 ns precision, kept as ticks since 0001-01-01 UTC."""
    __slots__ = ("ticks",)

    def __init__(self, ticks: int):
        self.ticks = ticks

    @classmethod
    def now(cls) -> "Instant":
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return cls((now - _EPOCH) // timedelta(microseconds=1) * 10)

    def plus_seconds(self, seconds: int) -> "Instant":
        return Instant(self.ticks + seconds * _TICKS)

    def iso(self) -> str:
        """UTC, `Z`, always seven fractional digits (as Graph returns)."""
        whole, frac = divmod(self.ticks, _TICKS)
        return (_EPOCH + timedelta(seconds=whole)).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:07d}Z"

    def __le__(self, other: "Instant") -> bool:
        return self.ticks <= other.ticks


def parse_time(value: Any) -> Instant:
    """An Edm.DateTimeOffset literal; naive, date-only or colon-less offsets give Graph's 400."""
    error = BadRequest(f"Cannot convert the literal '{_literal(value)}' to the expected type "
                       "'Edm.DateTimeOffset'.")
    if not isinstance(value, str):
        raise error
    m = _TIME.fullmatch(value)
    if not m:
        raise error
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    frac = int((m.group(7) or "").ljust(7, "0"))
    zone = m.group(8)
    offset = 0
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 14 or om > 59 or (oh == 14 and om):
            raise error
        offset = (oh * 60 + om) * (1 if zone[0] == "+" else -1)
    try:
        local = datetime(year, month, day, hour, minute, second)
        utc = local - timedelta(minutes=offset)
    except (ValueError, OverflowError):
        raise error from None
    return Instant((utc - _EPOCH) // timedelta(seconds=1) * _TICKS + frac)


_FILTER = re.compile(r"\s*([A-Za-z]+(?:/[A-Za-z]+)?)\s+eq\s+'((?:[^']|'')*)'\s*")


def parse_eq_filter(expression: str | None) -> tuple[str, str]:
    """`Property eq 'literal'` → (lower-cased property, literal); anything else → 400."""
    if not expression:
        raise BadRequest("This API requires a $filter: JoinWebUrl eq '{url}' or "
                         "joinMeetingIdSettings/joinMeetingId eq '{id}'.")
    m = _FILTER.fullmatch(expression)
    if not m:
        raise BadRequest(f"Invalid filter clause: the query specified in the URI is not valid: '{expression}'.")
    return m.group(1).lower(), m.group(2).replace("''", "'")


def new_etag() -> str:
    return 'W/"' + base64.b64encode(os.urandom(12)).decode() + '"'


_ETAG = re.compile(r'\s*(?:W/)?"([^"]*)"\s*')
ANY = object()


def parse_if_match(value: str | None):
    """None (absent), ANY (`*`), or the list of opaque tags; an unquoted tag → 400 malformedEntityTag."""
    if value is None:
        return None
    if value.strip() == "*":
        return ANY
    tags, rest = [], value
    while True:
        m = _ETAG.match(rest)
        if not m:
            break
        tags.append(m.group(1))
        rest = rest[m.end():]
        if not rest:
            return tags
        if rest[0] != ",":
            break
        rest = rest[1:]
    raise BadRequest(f"The If-Match header value '{value}' is not a valid entity tag; entity tags are "
                     'quoted, e.g. W/"abc".', inner_code="malformedEntityTag")


def etag_matches(condition, current: str | None) -> bool:
    """Weak comparison of an If-Match condition against the current ETag (None = no entity)."""
    if condition is None:
        return True
    if current is None:
        return False
    if condition is ANY:
        return True
    opaque = _ETAG.fullmatch(current).group(1)
    return opaque in condition
