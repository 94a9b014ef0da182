"""The app-only business rules and Bookings' time values as pure functions (no server needed):
the cases the sandbox's fixed business cannot reach, such as a policy that forbids choosing staff."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from lib.sandbox.bookings.business import default_business
from lib.sandbox.bookings.rules import check_app_booking
from lib.sandbox.bookings.times import format_duration, parse_date_time_zone, parse_duration
from lib.sandbox.directory import Directory
from lib.sandbox.graph.exceptions import BadRequest

BUSINESS = default_business(Directory())
INITIAL = BUSINESS.services[0]
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)        # a Monday, 07:00 in New York
MONDAY_10_NY = datetime(2027, 3, 8, 15, 0, tzinfo=timezone.utc)  # a week later, 10:00 EST


def test_a_booking_inside_the_rules_passes():
    check_app_booking(BUSINESS, INITIAL, MONDAY_10_NY, MONDAY_10_NY + timedelta(minutes=30), [], NOW)


def test_staff_selection_is_refused_when_the_policy_forbids_it():
    closed = replace(BUSINESS, policy={**BUSINESS.policy, "allowStaffSelection": False})
    staff = [BUSINESS.staff[0]["id"]]
    with pytest.raises(BadRequest, match="Business rule 'allowStaffSelection'"):
        check_app_booking(closed, INITIAL, MONDAY_10_NY, MONDAY_10_NY + timedelta(minutes=30), staff, NOW)
    check_app_booking(closed, INITIAL, MONDAY_10_NY, MONDAY_10_NY + timedelta(minutes=30), [], NOW)


def test_business_hours_are_new_york_time_across_daylight_saving():
    summer_10_ny = datetime(2027, 7, 5, 14, 0, tzinfo=timezone.utc)     # 10:00 EDT
    check_app_booking(BUSINESS, INITIAL, summer_10_ny, summer_10_ny + timedelta(minutes=30), [], NOW)
    summer_7_ny = datetime(2027, 7, 5, 11, 0, tzinfo=timezone.utc)      # 07:00 EDT
    with pytest.raises(BadRequest, match="businessHours.*07:00-07:30 America/New_York"):
        check_app_booking(BUSINESS, INITIAL, summer_7_ny, summer_7_ny + timedelta(minutes=30), [], NOW)
    ends_at_six = datetime(2027, 7, 5, 21, 30, tzinfo=timezone.utc)     # 17:30-18:00 EDT
    check_app_booking(BUSINESS, INITIAL, ends_at_six, ends_at_six + timedelta(minutes=30), [], NOW)


def test_date_time_zone_offset_wins_over_time_zone_and_naive_uses_it():
    with_offset = parse_date_time_zone({"dateTime": "2027-05-01T12:00:00.0000000+02:00", "timeZone": "UTC"}, "x")
    assert with_offset == datetime(2027, 5, 1, 10, 0, tzinfo=timezone.utc)
    naive = parse_date_time_zone({"dateTime": "2027-05-01T12:00:00", "timeZone": "Pacific Standard Time"}, "x")
    assert naive == datetime(2027, 5, 1, 19, 0, tzinfo=timezone.utc)
    with pytest.raises(BadRequest, match="timeZone of 'x' is missing"):
        parse_date_time_zone({"dateTime": "2027-05-01T12:00:00"}, "x")


@pytest.mark.parametrize("text, span", [("PT30M", timedelta(minutes=30)), ("P365D", timedelta(days=365)),
                                        ("PT1H", timedelta(hours=1)), ("PT0S", timedelta(0)),
                                        ("P1DT2H", timedelta(days=1, hours=2))])
def test_iso_durations_round_trip(text, span):
    assert parse_duration(text) == span and format_duration(span) == text
