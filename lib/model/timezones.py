"""Time zone names: IANA (what people and zoneinfo use) to Windows (what Graph's SMS actions want).

The mapping is CLDR's windowsZones table as tzlocal ships and maintains it; the few IANA names CLDR
leaves out are old links and POSIX-style rules, mapped here to the zone they stand for. A zone with no
Windows name is an error naming it, never "UTC" in silence.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win, win_tz

from lib.model.appointment import ModelError

# IANA names CLDR does not list (links and POSIX rules), with the Windows zone of what they stand for.
_NOT_IN_CLDR = {
    "GMT": "UTC", "US/East-Indiana": "US Eastern Standard Time", "EST5EDT": "Eastern Standard Time",
    "CST6CDT": "Central Standard Time", "MST7MDT": "Mountain Standard Time", "PST8PDT": "Pacific Standard Time",
    "Europe/Uzhgorod": "FLE Standard Time", "Europe/Zaporozhye": "FLE Standard Time",
}

WINDOWS_ZONES = MappingProxyType({**_NOT_IN_CLDR, **tz_win})  # IANA name -> Windows zone id
IANA_FOR_WINDOWS = MappingProxyType(dict(win_tz))  # Windows zone id -> its main IANA zone

# A short list for pickers; any IANA name is accepted.
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
    "America/Toronto", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
)


def windows_zone_for(iana_name: str) -> str:
    """The Windows zone id for an IANA name; ModelError naming the zone when Windows has none."""
    zone = WINDOWS_ZONES.get(iana_name)
    if zone is None:
        raise ModelError("timeZone", f"'{iana_name}' has no Windows time zone name, which text messages (SMS) "
                                     "need; use the city zone it belongs to, such as Europe/Oslo or America/Chicago.")
    return zone


def is_nonexistent(local: datetime) -> bool:
    """True when a wall-clock time falls in a DST gap (it does not exist on that day)."""
    utc_round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(local.tzinfo)
    return utc_round_trip.replace(tzinfo=None) != local.replace(tzinfo=None)
