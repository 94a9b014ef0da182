"""IANA to Windows zone names (for SMS) from CLDR's windowsZones table, and DST gaps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from tzlocal.windows_tz import tz_win

from lib.model.appointment import ModelError
from lib.model.timezones import IANA_FOR_WINDOWS, WINDOWS_ZONES, is_nonexistent, windows_zone_for


def test_every_zone_cldr_covers_maps_to_its_cldr_windows_name():
    covered = sorted(zone for zone in available_timezones() if zone in tz_win)
    assert len(covered) > 500
    for zone in covered:
        assert windows_zone_for(zone) == tz_win[zone], zone


def test_every_available_zone_maps_or_is_an_error_naming_it_never_utc_in_silence():
    for zone in sorted(available_timezones()):
        try:
            name = windows_zone_for(zone)
        except ModelError as exc:
            assert zone in str(exc) and "SMS" in str(exc)
            continue
        assert name in IANA_FOR_WINDOWS, (zone, name)
        if name == "UTC":
            assert ZoneInfo(zone).utcoffset(datetime(2027, 1, 15)).total_seconds() == 0, zone


@pytest.mark.parametrize("zone, windows", [
    ("Asia/Manila", "Singapore Standard Time"), ("Asia/Kathmandu", "Nepal Standard Time"),
    ("America/Montevideo", "Montevideo Standard Time"), ("America/New_York", "Eastern Standard Time"),
    ("Europe/Paris", "Romance Standard Time"), ("Asia/Kolkata", "India Standard Time"), ("UTC", "UTC"),
    ("GMT", "UTC"), ("Europe/Zaporozhye", "FLE Standard Time"),
])
def test_the_zones_the_old_table_got_wrong_and_common_ones(zone, windows):
    assert windows_zone_for(zone) == windows


def test_a_zone_without_a_windows_name_is_an_error_that_names_it():
    with pytest.raises(ModelError, match="Factory"):
        windows_zone_for("Factory")


def test_the_table_is_read_only():
    with pytest.raises(TypeError):
        WINDOWS_ZONES["Mars/Olympus"] = "Mars Standard Time"  # type: ignore[index]


def test_a_time_in_the_spring_forward_gap_does_not_exist():
    zone = ZoneInfo("America/New_York")
    assert is_nonexistent(datetime(2027, 3, 14, 2, 30, tzinfo=zone))
    assert not is_nonexistent(datetime(2027, 3, 14, 3, 30, tzinfo=zone))
    assert not is_nonexistent(datetime(2027, 11, 7, 1, 30, tzinfo=zone))  # repeated, but it exists
