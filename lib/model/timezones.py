"""Time zone names: IANA (what people and zoneinfo use) to Windows (what Graph's SMS actions want)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# From the CLDR windowsZones table, the zones people book appointments in most.
WINDOWS_ZONES = {
    "America/New_York": "Eastern Standard Time", "America/Detroit": "Eastern Standard Time",
    "America/Toronto": "Eastern Standard Time", "America/Indiana/Indianapolis": "US Eastern Standard Time",
    "America/Chicago": "Central Standard Time", "America/Winnipeg": "Central Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)", "America/Denver": "Mountain Standard Time",
    "America/Edmonton": "Mountain Standard Time", "America/Boise": "Mountain Standard Time",
    "America/Phoenix": "US Mountain Standard Time", "America/Los_Angeles": "Pacific Standard Time",
    "America/Vancouver": "Pacific Standard Time", "America/Anchorage": "Alaskan Standard Time",
    "Pacific/Honolulu": "Hawaiian Standard Time", "America/Puerto_Rico": "SA Western Standard Time",
    "America/Halifax": "Atlantic Standard Time", "America/St_Johns": "Newfoundland Standard Time",
    "America/Sao_Paulo": "E. South America Standard Time", "America/Bogota": "SA Pacific Standard Time",
    "America/Argentina/Buenos_Aires": "Argentina Standard Time", "America/Santiago": "Pacific SA Standard Time",
    "Europe/London": "GMT Standard Time", "Europe/Dublin": "GMT Standard Time", "Europe/Lisbon": "GMT Standard Time",
    "Europe/Berlin": "W. Europe Standard Time", "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Vienna": "W. Europe Standard Time", "Europe/Rome": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time", "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Oslo": "W. Europe Standard Time", "Europe/Paris": "Romance Standard Time",
    "Europe/Brussels": "Romance Standard Time", "Europe/Madrid": "Romance Standard Time",
    "Europe/Copenhagen": "Romance Standard Time", "Europe/Warsaw": "Central European Standard Time",
    "Europe/Prague": "Central Europe Standard Time", "Europe/Budapest": "Central Europe Standard Time",
    "Europe/Athens": "GTB Standard Time", "Europe/Bucharest": "GTB Standard Time",
    "Europe/Helsinki": "FLE Standard Time", "Europe/Kiev": "FLE Standard Time", "Europe/Kyiv": "FLE Standard Time",
    "Europe/Istanbul": "Turkey Standard Time", "Europe/Moscow": "Russian Standard Time",
    "Africa/Cairo": "Egypt Standard Time", "Africa/Johannesburg": "South Africa Standard Time",
    "Africa/Lagos": "W. Central Africa Standard Time", "Africa/Nairobi": "E. Africa Standard Time",
    "Asia/Dubai": "Arabian Standard Time", "Asia/Jerusalem": "Israel Standard Time",
    "Asia/Riyadh": "Arab Standard Time", "Asia/Karachi": "Pakistan Standard Time",
    "Asia/Kolkata": "India Standard Time", "Asia/Calcutta": "India Standard Time",
    "Asia/Dhaka": "Bangladesh Standard Time", "Asia/Bangkok": "SE Asia Standard Time",
    "Asia/Jakarta": "SE Asia Standard Time", "Asia/Singapore": "Singapore Standard Time",
    "Asia/Hong_Kong": "China Standard Time", "Asia/Shanghai": "China Standard Time",
    "Asia/Taipei": "Taipei Standard Time", "Asia/Tokyo": "Tokyo Standard Time", "Asia/Seoul": "Korea Standard Time",
    "Australia/Perth": "W. Australia Standard Time", "Australia/Adelaide": "Cen. Australia Standard Time",
    "Australia/Brisbane": "E. Australia Standard Time", "Australia/Sydney": "AUS Eastern Standard Time",
    "Australia/Melbourne": "AUS Eastern Standard Time", "Pacific/Auckland": "New Zealand Standard Time",
    "UTC": "UTC", "Etc/UTC": "UTC", "GMT": "UTC", "Etc/GMT": "UTC",
}

# A short list for pickers; any IANA name is accepted.
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
    "America/Toronto", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
)


def windows_zone_for(iana_name: str) -> str:
    """The Windows zone id for an IANA name, or by the zone's current UTC offset when unlisted."""
    if iana_name in WINDOWS_ZONES:
        return WINDOWS_ZONES[iana_name]
    offset = datetime.now(ZoneInfo(iana_name)).utcoffset() or timedelta(0)
    hours = offset.total_seconds() / 3600
    by_offset = {-10: "Hawaiian Standard Time", -9: "Alaskan Standard Time", -8: "Pacific Standard Time",
                 -7: "Mountain Standard Time", -6: "Central Standard Time", -5: "Eastern Standard Time",
                 0: "UTC", 1: "W. Europe Standard Time", 2: "FLE Standard Time"}
    return by_offset.get(hours, "UTC")


def is_nonexistent(local: datetime) -> bool:
    """True when a wall-clock time falls in a DST gap (it does not exist on that day)."""
    utc_round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(local.tzinfo)
    return utc_round_trip.replace(tzinfo=None) != local.replace(tzinfo=None)


def is_ambiguous(local: datetime) -> bool:
    """True when a wall-clock time happens twice (the hour repeated when DST ends)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
