"""dateTimeTimeZone values and ISO 8601 durations as Bookings reads and writes them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..graph.exceptions import BadRequest

_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?")
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
UTC_NAMES = {"utc", "coordinated universal time", "etc/utc", "gmt", "z"}
# Windows names a Graph client is likely to send for the business's region (dateTimeTimeZone accepts both).
WINDOWS_TO_IANA = {
    "eastern standard time": "America/New_York", "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver", "pacific standard time": "America/Los_Angeles",
    "us mountain standard time": "America/Phoenix", "alaskan standard time": "America/Anchorage",
    "hawaiian standard time": "Pacific/Honolulu", "gmt standard time": "Europe/London",
    "w. europe standard time": "Europe/Berlin", "romance standard time": "Europe/Paris",
}


def zone(name: Any, field: str) -> timezone | ZoneInfo:
    """A time zone by IANA or Windows name; 400 naming the field otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f"The timeZone of '{field}' is missing; send e.g. \"UTC\" or \"America/New_York\".")
    key = name.strip().lower()
    if key in UTC_NAMES:
        return timezone.utc
    if key in WINDOWS_TO_IANA:
        return ZoneInfo(WINDOWS_TO_IANA[key])
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"The timeZone '{name}' of '{field}' is not a known time zone; send an IANA or "
                         "Windows time zone name, e.g. \"UTC\".") from None


def parse_date_time_zone(value: Any, field: str) -> datetime:
    """A dateTimeTimeZone object → aware UTC datetime; an offset in `dateTime` wins over `timeZone`."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise BadRequest(f"'{field}' must be a dateTimeTimeZone object: {{\"dateTime\": "
                         "\"2027-05-01T12:00:00.0000000+00:00\", \"timeZone\": \"UTC\"}.")
    text = value["dateTime"].strip()
    m = _DATE_TIME.fullmatch(text)
    if not m:
        raise BadRequest(f"Cannot convert the literal '{text}' of '{field}' to a date and time.")
    date, clock, fraction, offset = m.groups()
    if len(clock) == 5:
        clock += ":00"
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        local = datetime.fromisoformat(f"{date}T{clock}").replace(microsecond=micro)
    except ValueError:
        raise BadRequest(f"Cannot convert the literal '{text}' of '{field}' to a date and time.") from None
    if offset:
        tz = timezone.utc if offset == "Z" else datetime.strptime(offset.replace(":", ""), "%z").tzinfo
        return local.replace(tzinfo=tz).astimezone(timezone.utc)
    return local.replace(tzinfo=zone(value.get("timeZone"), field)).astimezone(timezone.utc)


def parse_query_instant(value: str | None, name: str) -> datetime:
    """`start`/`end` of calendarView: an ISO date-time (naive means UTC)."""
    if not value:
        raise BadRequest(f"The query parameter '{name}' is required for calendarView "
                         f"(e.g. {name}=2027-05-01T00:00:00Z).")
    m = _DATE_TIME.fullmatch(value.strip().replace(" ", "+"))
    if not m:
        raise BadRequest(f"The query parameter '{name}' value '{value}' is not a valid date and time.")
    return parse_date_time_zone({"dateTime": value.strip().replace(" ", "+"), "timeZone": "UTC"}, name)


def iso_utc(moment: datetime) -> str:
    """Graph's UTC form with seven fractional digits (fixed width, so strings sort as times)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond:06d}0Z"


def date_time_zone(moment: datetime) -> dict[str, str]:
    return {"dateTime": iso_utc(moment), "timeZone": "UTC"}


def parse_duration(text: str) -> timedelta:
    """`P365D`, `PT1H`, `PT30M`, `PT0S` (the forms the business and services use)."""
    m = _DURATION.fullmatch(text or "")
    if not m or text in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    days, hours, minutes, seconds = m.groups()
    return timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                     seconds=float(seconds or 0))


def format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    if clock or not days:
        out += "T" + (clock or "0S")
    return out
