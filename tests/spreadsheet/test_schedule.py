"""The slot scheduler: first slot, length, gap, working hours, weekdays, time zones and DST."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.model.appointment import ModelError
from lib.spreadsheet.schedule import Schedule, parse_hours

NY = ZoneInfo("America/New_York")


def starts(schedule: Schedule, n: int) -> list[str]:
    return [s.isoformat() for s, _ in schedule.slots(n)]


def test_the_first_slot_is_exactly_the_start_and_slots_follow_each_other():
    schedule = Schedule(start=datetime(2027, 3, 1, 9, 0), duration=30, tz="Europe/Paris")
    slots = list(schedule.slots(3))
    assert [s.isoformat() for s, _ in slots] == [
        "2027-03-01T09:00:00+01:00", "2027-03-01T09:30:00+01:00", "2027-03-01T10:00:00+01:00"]
    assert all(e - s == timedelta(minutes=30) for s, e in slots)
    assert all(s.tzinfo is not None and e.tzinfo is not None for s, e in slots)


def test_a_gap_separates_one_appointment_from_the_next():
    schedule = Schedule(start=datetime(2027, 3, 1, 9, 0), duration=45, gap=15, tz="UTC")
    assert starts(schedule, 3) == ["2027-03-01T09:00:00+00:00", "2027-03-01T10:00:00+00:00",
                                   "2027-03-01T11:00:00+00:00"]


def test_an_aware_start_is_read_in_the_schedule_zone():
    schedule = Schedule(start=datetime(2027, 3, 1, 14, 0, tzinfo=timezone.utc), tz="America/New_York")
    assert starts(schedule, 1) == ["2027-03-01T09:00:00-05:00"]


def test_a_slot_that_does_not_fit_the_working_hours_moves_to_the_next_days_first_hour():
    schedule = Schedule(start=datetime(2027, 1, 4, 16, 0), duration=45, gap=15, tz="Europe/Paris",
                        hours=parse_hours("09:00-17:00"))
    assert starts(schedule, 3) == ["2027-01-04T16:00:00+01:00", "2027-01-05T09:00:00+01:00",
                                   "2027-01-05T10:00:00+01:00"]


def test_a_start_before_the_working_hours_waits_for_them():
    schedule = Schedule(start=datetime(2027, 1, 4, 7, 0), tz="UTC", hours=(time(9), time(17)))
    assert starts(schedule, 1) == ["2027-01-04T09:00:00+00:00"]


def test_the_last_slot_of_the_day_may_end_exactly_at_closing_time():
    schedule = Schedule(start=datetime(2027, 1, 4, 16, 30), duration=30, tz="UTC", hours=(time(9), time(17)))
    assert starts(schedule, 2) == ["2027-01-04T16:30:00+00:00", "2027-01-05T09:00:00+00:00"]


def test_weekdays_only_skips_saturday_and_sunday():
    schedule = Schedule(start=datetime(2027, 3, 5, 16, 0), duration=60, tz="UTC", hours=(time(9), time(17)),
                        weekdays_only=True)  # Friday 16:00
    assert starts(schedule, 2) == ["2027-03-05T16:00:00+00:00", "2027-03-08T09:00:00+00:00"]


def test_a_weekend_start_moves_to_monday_when_weekdays_only():
    schedule = Schedule(start=datetime(2027, 3, 6, 10, 0), tz="UTC", weekdays_only=True)  # Saturday
    assert starts(schedule, 1) == ["2027-03-08T10:00:00+00:00"]


def test_without_weekdays_only_saturday_is_a_working_day():
    schedule = Schedule(start=datetime(2027, 3, 5, 16, 0), duration=60, tz="UTC", hours=(time(9), time(17)))
    assert starts(schedule, 2)[1] == "2027-03-06T09:00:00+00:00"


def test_working_hours_keep_their_wall_clock_time_across_the_dst_change():
    schedule = Schedule(start=datetime(2027, 3, 12, 16, 0), duration=60, tz="America/New_York",
                        hours=(time(9), time(17)), weekdays_only=True)
    assert starts(schedule, 2) == ["2027-03-12T16:00:00-05:00", "2027-03-15T09:00:00-04:00"]


def test_a_slot_starting_in_the_spring_forward_gap_moves_to_the_first_time_that_exists():
    schedule = Schedule(start=datetime(2027, 3, 14, 1, 0), duration=30, tz="America/New_York")
    slots = list(schedule.slots(3))
    assert [s.isoformat() for s, _ in slots] == [
        "2027-03-14T01:00:00-05:00", "2027-03-14T01:30:00-05:00", "2027-03-14T03:00:00-04:00"]
    # Real lengths, not wall-clock (same-zone datetimes subtract by wall clock, so compare in UTC).
    assert all(e.astimezone(timezone.utc) - s.astimezone(timezone.utc) == timedelta(minutes=30) for s, e in slots)


def test_a_first_start_inside_the_gap_moves_forward_too():
    schedule = Schedule(start=datetime(2027, 3, 14, 2, 30), tz="America/New_York")
    assert starts(schedule, 1) == ["2027-03-14T03:00:00-04:00"]


def test_slots_through_the_repeated_fall_back_hour_never_overlap():
    schedule = Schedule(start=datetime(2027, 11, 7, 0, 30), duration=30, tz="America/New_York")
    slots = list(schedule.slots(6))
    assert [s.isoformat() for s, _ in slots] == [
        "2027-11-07T00:30:00-04:00", "2027-11-07T01:00:00-04:00", "2027-11-07T01:30:00-04:00",
        "2027-11-07T01:00:00-05:00", "2027-11-07T01:30:00-05:00", "2027-11-07T02:00:00-05:00"]
    utc = [(s.astimezone(timezone.utc), e.astimezone(timezone.utc)) for s, e in slots]
    assert all(utc[i][1] <= utc[i + 1][0] for i in range(len(utc) - 1))


def test_without_a_start_the_first_slot_is_the_next_working_day_at_nine():
    monday_evening = datetime(2027, 3, 1, 22, 0, tzinfo=timezone.utc)
    friday = datetime(2027, 3, 5, 12, 0, tzinfo=timezone.utc)
    schedule = Schedule(tz="America/New_York")
    assert next(schedule.slots(1, now=monday_evening))[0].isoformat() == "2027-03-02T09:00:00-05:00"
    assert next(schedule.slots(1, now=friday))[0].isoformat() == "2027-03-08T09:00:00-05:00"
    with_hours = Schedule(tz="UTC", hours=(time(8, 30), time(12)))
    assert next(with_hours.slots(1, now=friday))[0].isoformat() == "2027-03-08T08:30:00+00:00"


def test_slots_yields_exactly_n():
    assert len(list(Schedule(start=datetime(2027, 1, 1)).slots(0))) == 0
    assert len(list(Schedule(start=datetime(2027, 1, 1)).slots(1000))) == 1000


@pytest.mark.parametrize("kwargs, words", [
    ({"duration": 0}, "at least 1 minute"),
    ({"duration": -5}, "at least 1 minute"),
    ({"duration": 2000}, "at most"),
    ({"gap": -1}, "0 or more"),
    ({"tz": "Mars/Olympus"}, "not a time zone"),
    ({"hours": (time(17), time(9))}, "end after they start"),
    ({"hours": (time(9), time(9, 20)), "duration": 30}, "shorter than one 30-minute appointment"),
])
def test_an_impossible_schedule_is_refused_with_a_message_naming_the_setting(kwargs, words):
    with pytest.raises(ModelError, match=words):
        Schedule(**kwargs)


@pytest.mark.parametrize("text, expected", [
    ("09:00-17:00", (time(9), time(17))),
    ("9-17", (time(9), time(17))),
    ("9:30 - 16:45", (time(9, 30), time(16, 45))),
    ("9am-5pm", (time(9), time(17))),
    ("08.00–12.00", (time(8), time(12))),
    ("10:00 to 14:00", (time(10), time(14))),
])
def test_parse_hours_reads_the_ways_people_write_opening_hours(text, expected):
    assert parse_hours(text) == expected


@pytest.mark.parametrize("text", ["", "nine to five", "17:00-09:00", "25:00-26:00", "13pm-2pm"])
def test_parse_hours_refuses_what_is_not_a_range(text):
    with pytest.raises(ModelError, match="09:00-17:00"):
        parse_hours(text)


def test_whole_number_floats_from_a_number_widget_are_accepted_but_fractions_are_not():
    assert Schedule(duration=30.0, gap=5.0).duration == 30
    with pytest.raises(ModelError, match="whole number"):
        Schedule(duration=30.5)
