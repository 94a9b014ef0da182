"""Checking rows: every rule, with messages a person can act on, and the contract's JSON."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lib.model.appointment import ModelError
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.samples import sample_clients_csv, template_csv, template_xlsx
from lib.spreadsheet.schedule import Schedule
from lib.spreadsheet.read import read_table
from lib.spreadsheet.check import CheckReport, RowResult, check_sheet
from tests.fixtures import make
from tests.dates import CHECKED_ON as NOW

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCHEDULE = Schedule(start=datetime(2027, 5, 3, 9, 0), duration=30, tz="America/New_York")


def table(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def check(data: bytes, name: str = "clients.csv", schedule: Schedule = SCHEDULE, **kwargs) -> CheckReport:
    sheet = read_table(data, name)
    kwargs.setdefault("now", NOW)
    return check_sheet(sheet, auto_map(sheet.headers), schedule, **kwargs)


def one(header: list[str], row: list[str], **kwargs) -> RowResult:
    return check(table(header, row), **kwargs).rows[0]


def error_of(header: list[str], row: list[str], **kwargs) -> str:
    result = one(header, row, **kwargs)
    assert result.status == "error" and result.appointment is None, result
    return " ".join(result.errors)


# -- a good row ------------------------------------------------------------------------------------
def test_a_good_row_becomes_one_appointment_with_its_client_and_times():
    report = check(table(["Name", "Email", "Phone", "Date", "Time", "Duration"],
                         ["Anna Müller", "anna@example.com", "(212) 555-0142", "2027-03-02", "09:30", "45"]))
    row = report.rows[0]
    assert (row.row, row.status, row.errors, row.warnings) == (2, "ok", [], [])
    assert row.values == {"name": "Anna Müller", "email": "anna@example.com", "phone": "(212) 555-0142",
                          "date": "2027-03-02", "time": "09:30", "duration": "45"}
    a = row.appointment
    assert a is report.appointments[0] and a.source_rows == (2,)
    assert a.start.isoformat() == "2027-03-02T09:30:00-05:00" and a.duration_minutes == 45
    assert a.time_zone == "America/New_York" and a.subject == "Virtual appointment"
    assert a.clients[0].email == "anna@example.com" and a.clients[0].phone == "+12125550142"
    assert a.external_appointment_id.startswith("AS-") and a.external_id == a.external_appointment_id
    assert (report.total, report.ok, report.error) == (1, 1, 0)


def test_to_json_is_the_contract_check_object():
    report = check(table(["Name", "Email", "Start", "Appointment ID"],
                         ["Anna", "anna@example.com", "2027-03-02T09:30", "BK-1"],
                         ["Bob", "bob.example.com", "2027-03-02T10:00", "BK-2"]))
    doc = report.to_json()
    assert doc["summary"] == {"total": 2, "ok": 1, "error": 1}
    good, bad = doc["rows"]
    assert set(good) == {"row", "status", "errors", "warnings", "appointment", "meeting"}
    assert good["appointment"] == {"settings": {"allowClientToJoinUsingBrowser": True},
                                   "appointmentClients": [{"displayName": "Anna", "emailAddress": "anna@example.com"}],
                                   "externalAppointmentId": "BK-1"}
    assert good["meeting"] == {"externalId": "BK-1", "subject": "Virtual appointment",
                               "startDateTime": "2027-03-02T09:30:00-05:00", "endDateTime": "2027-03-02T10:00:00-05:00"}
    assert bad["row"] == 3 and bad["status"] == "error" and bad["appointment"] is None and bad["meeting"] is None


# -- emails ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, words", [
    ("anna.example.com", "is missing the @ — write it like name@example.com."),
    ("anna@@example.com", "more than one @"),
    ("anna smith@example.com", "contains a space"),
    ("@example.com", "nothing before the @"),
    ("anna@", "missing the part after the @"),
    ("anna@gmail", "needs a dot"),
    ("anna..x@example.com", "not a valid email address"),
    ('=HYPERLINK("http://evil.example","anna@example.com")', "formula"),
])
def test_a_bad_email_names_the_column_the_value_and_the_fix(value, words):
    message = error_of(["Name", "Email"], ["Anna", value])
    assert message.startswith('Column "Email": "') and words in message


def test_the_example_message_reads_as_the_brief_says():
    assert error_of(["Name", "Email"], ["Anna", "anna.example.com"]) == \
        'Column "Email": "anna.example.com" is missing the @ — write it like name@example.com.'


def test_emails_are_normalised_and_common_wrappers_accepted():
    assert one(["Email"], ["Anna@EXAMPLE.COM"]).appointment.clients[0].email == "Anna@example.com"
    assert one(["Email"], ["mailto:bob@example.com"]).appointment.clients[0].email == "bob@example.com"
    wrapped = one(["Email"], ["Carla Diaz <carla@example.com>"]).appointment.clients[0]
    assert wrapped.email == "carla@example.com"


# -- phones ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["(212) 555-0142", "212.555.0142", "212 555 0142", "+1 212 555 0142",
                                   "1-212-555-0142", "12125550142", "+1 (212) 555-0142", "001 212 555 0142"])
def test_us_phone_numbers_in_any_common_format_become_e164(value):
    assert one(["Email", "Phone"], ["a@example.com", value]).appointment.clients[0].phone == "+12125550142"


def test_the_default_region_decides_numbers_written_without_a_country_code():
    row = one(["Email", "Mobile"], ["a@example.com", "07911 123456"], default_region="GB")
    assert row.appointment.clients[0].phone == "+447911123456"
    assert one(["Email", "Mobile"], ["a@example.com", "+33 6 12 34 56 78"]).appointment.clients[0].phone == "+33612345678"


@pytest.mark.parametrize("value, words", [
    ("555-0142", "not a valid phone number"),
    ("12", "too short"),
    ("call me", "not a phone number"),
    ("+1 212 555 0142 99999999", "too long"),
    ("+999 1234 5678", "country code"),
])
def test_a_bad_phone_number_names_the_cell_and_blocks_the_row_when_sms_is_requested(value, words):
    message = error_of(["Email", "Phone"], ["a@example.com", value], sms=True)
    assert message.startswith('Column "Phone": "') and words in message and "Text messages (SMS) are requested" in message


def test_a_bad_phone_beside_a_good_email_is_dropped_with_a_warning_saying_what_sms_would_need():
    row = one(["Email", "Phone"], ["a@example.com", "555-0142"])
    assert row.status == "ok" and row.errors == [] and row.appointment.clients[0].phone == ""
    assert row.appointment.clients[0].email == "a@example.com"
    (warning,) = row.warnings
    assert warning.startswith('Column "Phone": "555-0142" is not a valid phone number in US')
    assert "left out" in warning and "Text messages (SMS) would need a valid mobile number" in warning


def test_a_bad_phone_that_is_the_only_contact_is_an_error():
    message = error_of(["Name", "Phone"], ["Anna", "555-0142"])
    assert message.startswith('Column "Phone": "555-0142" is not a valid phone number') and "only way" in message


def test_a_row_needs_an_email_or_a_phone():
    assert "No email or mobile phone" in error_of(["Name", "Email", "Phone"], ["Anna", "", ""])
    assert one(["Name", "Email", "Phone"], ["Anna", "", "212 555 0142"]).status == "ok"


# -- names -----------------------------------------------------------------------------------------
def test_the_name_comes_from_name_or_first_and_last_or_the_email():
    assert one(["Name", "Email"], ["  Anna   Müller ", "a@example.com"]).appointment.clients[0].display_name == "Anna Müller"
    first_last = one(["First Name", "Last Name", "Email"], ["José", "Álvarez", "j@example.com"])
    assert first_last.appointment.clients[0].display_name == "José Álvarez"
    from_email = one(["Email"], ["maria.lopez_garcia@example.com"])
    assert from_email.appointment.clients[0].display_name == "Maria Lopez Garcia" and from_email.warnings == []


# -- times -----------------------------------------------------------------------------------------
def start_of(header: list[str], row: list[str], **kwargs) -> str:
    result = one(header, row, **kwargs)
    assert result.status == "ok", result.errors
    return result.appointment.start.isoformat()


@pytest.mark.parametrize("value, expected", [
    ("2027-03-02T09:30", "2027-03-02T09:30:00-05:00"),
    ("2027-03-02 09:30", "2027-03-02T09:30:00-05:00"),
    ("2027-03-02 9:30 am", "2027-03-02T09:30:00-05:00"),
    ("2027-03-02 02:00 pm", "2027-03-02T14:00:00-05:00"),
    ("March 2, 2027 9:00 am", "2027-03-02T09:00:00-05:00"),
    ("Tuesday, March 2, 2027 at 9:00 AM", "2027-03-02T09:00:00-05:00"),
    ("2 Mar 2027 14:15", "2027-03-02T14:15:00-05:00"),
    ("03/02/2027 9:30 AM", "2027-03-02T09:30:00-05:00"),
    ("2027-03-02T14:30:00Z", "2027-03-02T09:30:00-05:00"),
    ("2027-03-02T09:30:00+01:00", "2027-03-02T03:30:00-05:00"),
    ("2027-03-02 09:30 +0100", "2027-03-02T03:30:00-05:00"),
])
def test_start_values_are_read_in_the_schedule_zone_and_explicit_offsets_are_honoured(value, expected):
    assert start_of(["Email", "Start"], ["a@example.com", value]) == expected


def test_day_and_month_order_follows_the_default_region():
    row = ["a@example.com", "02/03/2027", "09:30"]
    assert start_of(["Email", "Date", "Time"], row).startswith("2027-02-03")
    assert start_of(["Email", "Date", "Time"], row, default_region="FR").startswith("2027-03-02")
    assert start_of(["Email", "Date", "Time"], ["a@example.com", "25/03/2027", "09:30"]).startswith("2027-03-25")


def test_date_and_time_columns_combine_and_the_time_zone_column_wins():
    result = one(["Email", "Date", "Time", "Time Zone"], ["a@example.com", "2027-03-02", "2:30 PM", "Europe/Paris"])
    assert result.appointment.start.isoformat() == "2027-03-02T14:30:00+01:00"
    assert result.appointment.time_zone == "Europe/Paris"


def test_common_time_zone_names_are_understood():
    for name in ("Eastern", "Eastern Standard Time", "US/Eastern", "america/new_york"):
        result = one(["Email", "Start", "Time Zone"], ["a@example.com", "2027-07-02T09:30", name])
        assert result.appointment.start.isoformat() == "2027-07-02T09:30:00-04:00", name


def test_an_unknown_time_zone_is_an_error_naming_the_column():
    message = error_of(["Email", "Start", "Time Zone"], ["a@example.com", "2027-03-02T09:30", "Mars/Olympus"])
    assert message.startswith('Column "Time Zone": "Mars/Olympus" is not a time zone name')
    assert "America/New_York" in message


def test_duration_and_end_columns_set_the_length():
    assert one(["Email", "Start", "Duration (minutes)"], ["a@example.com", "2027-03-02T09:30", "45"]).appointment.duration_minutes == 45
    assert one(["Email", "Start", "Duration"], ["a@example.com", "2027-03-02T09:30", "1h"]).appointment.duration_minutes == 60
    with_end = one(["Email", "Start", "End"], ["a@example.com", "2027-03-02T09:30", "10:15"])
    assert with_end.appointment.end.isoformat() == "2027-03-02T10:15:00-05:00"
    assert one(["Email", "Start"], ["a@example.com", "2027-03-02T09:30"]).appointment.duration_minutes == 30


def test_an_end_before_the_start_is_an_error():
    message = error_of(["Email", "Start", "End"], ["a@example.com", "2027-03-02T09:30", "2027-03-02T09:00"])
    assert message.startswith('Column "End": the end (2027-03-02 09:00) is not after the start (2027-03-02 09:30)')


def test_an_end_equal_to_the_start_is_an_error():
    assert "is not after the start" in error_of(["Email", "Start", "End"], ["a@example.com", "2027-03-02T09:30", "09:30"])


@pytest.mark.parametrize("header, row, words", [
    (["Email", "Start"], ["a@example.com", "next tuesday"], 'Column "Start": "next tuesday" is not a date and time'),
    (["Email", "Date", "Time"], ["a@example.com", "2027-13-45", "09:00"], 'Column "Date": "2027-13-45" is not a date'),
    (["Email", "Date", "Time"], ["a@example.com", "2027-03-02", "25:99"], 'Column "Time": "25:99" is not a time'),
    (["Email", "Date", "Time"], ["a@example.com", "", "09:30"], "has a time but no date"),
    (["Email", "Start", "Duration"], ["a@example.com", "2027-03-02T09:30", "soon"], 'Column "Duration": "soon" is not a length'),
    (["Email", "Start", "Duration"], ["a@example.com", "2027-03-02T09:30", "0"], "is not a length in minutes"),
    (["Email", "Start", "End"], ["a@example.com", "", "10:00"], "has an end"),
])
def test_unreadable_or_incomplete_times_are_errors_that_say_how_to_write_them(header, row, words):
    assert words in error_of(header, row)


def test_a_local_time_in_the_spring_forward_gap_is_an_error_never_shifted():
    message = error_of(["Email", "Date", "Time", "Time Zone"], ["a@example.com", "2027-03-14", "02:30", "America/New_York"])
    assert message.startswith('Column "Time": 2027-03-14 02:30 does not exist in America/New_York')
    assert "jump forward" in message


def test_a_local_time_in_the_repeated_fall_back_hour_is_a_warning_saying_which_was_used():
    result = one(["Email", "Start", "Time Zone"], ["a@example.com", "2027-11-07 01:30", "America/New_York"])
    assert result.status == "ok"
    assert result.appointment.start.isoformat() == "2027-11-07T01:30:00-04:00"
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "happens twice" in warning and "the first one (-04:00" in warning and "2027-11-07T01:30-05:00" in warning


def test_an_explicit_offset_in_the_repeated_hour_picks_that_one_without_a_warning():
    result = one(["Email", "Start", "Time Zone"], ["a@example.com", "2027-11-07T01:30-05:00", "America/New_York"])
    assert result.warnings == [] and result.appointment.start.isoformat() == "2027-11-07T01:30:00-05:00"


def test_an_appointment_across_the_dst_change_lasts_its_real_length():
    result = one(["Email", "Start", "Duration"], ["a@example.com", "2027-03-14T01:30", "60"])
    assert result.appointment.end.isoformat() == "2027-03-14T03:30:00-04:00"


def test_a_time_in_the_past_is_a_warning():
    result = one(["Email", "Start"], ["a@example.com", "2026-01-05T09:00"])
    assert result.status == "ok" and "in the past" in result.warnings[0]


# -- the scheduler fills the gaps --------------------------------------------------------------------
def test_rows_without_times_get_consecutive_slots_in_file_order():
    report = check(table(["Email", "Start"], ["a@example.com", ""], ["b@example.com", "2027-03-02T15:00"],
                         ["c@example.com", ""], ["d@example.com", ""]))
    assert [r.appointment.start.isoformat() for r in report.rows] == [
        "2027-05-03T09:00:00-04:00", "2027-03-02T15:00:00-05:00", "2027-05-03T09:30:00-04:00",
        "2027-05-03T10:00:00-04:00"]


def test_a_row_with_errors_keeps_its_slot_so_fixing_it_moves_nothing():
    report = check(table(["Email"], ["a@example.com"], ["broken"], ["c@example.com"]))
    assert report.rows[1].status == "error"
    assert report.rows[2].appointment.start.isoformat() == "2027-05-03T10:00:00-04:00"


def test_a_slotted_row_uses_its_own_duration_and_the_schedule_subject():
    schedule = Schedule(start=datetime(2027, 5, 3, 9), duration=30, tz="UTC", subject="Check-in")
    report = check(table(["Email", "Duration"], ["a@example.com", "50"]), schedule=schedule)
    a = report.appointments[0]
    assert a.duration_minutes == 50 and a.subject == "Check-in" and a.time_zone == "UTC"


# -- groups and duplicates ---------------------------------------------------------------------------
def test_rows_sharing_an_appointment_id_become_one_appointment_with_several_clients():
    report = check(table(["Name", "Email", "Start", "Subject", "Appointment ID"],
                         ["Amélie", "amelie@example.com", "2027-03-02T10:00", "Family session", "BK-4"],
                         ["Other", "other@example.com", "2027-03-02T11:00", "", "BK-5"],
                         ["François", "francois@example.com", "", "", "BK-4"]))
    assert len(report.appointments) == 2 and report.ok == 3
    group = report.appointments[0]
    assert [c.display_name for c in group.clients] == ["Amélie", "François"]
    assert group.external_appointment_id == "BK-4" and group.source_rows == (2, 4) and group.subject == "Family session"
    assert report.rows[2].appointment is group
    doc = report.to_json()["rows"]
    assert doc[0]["appointment"] == doc[2]["appointment"] and doc[0]["meeting"]["externalId"] == "BK-4"


def test_a_group_member_with_a_different_time_gets_a_warning_and_the_first_rows_time():
    report = check(table(["Email", "Start", "Appointment ID"], ["a@example.com", "2027-03-02T10:00", "G"],
                         ["b@example.com", "2027-03-02T11:00", "G"]))
    assert report.appointments[0].start.isoformat() == "2027-03-02T10:00:00-05:00"
    assert report.rows[0].warnings == [] and "different time" in report.rows[1].warnings[0]
    assert "row 2" in report.rows[1].warnings[0]


def test_a_group_without_times_takes_one_slot():
    report = check(table(["Email", "Appointment ID"], ["a@example.com", "G"], ["b@example.com", "G"], ["c@example.com", ""]))
    starts = [a.start.isoformat() for a in report.appointments]
    assert starts == ["2027-05-03T09:00:00-04:00", "2027-05-03T09:30:00-04:00"]


def test_a_group_with_a_bad_row_is_held_back_whole_and_says_which_row_to_fix():
    report = check(table(["Email", "Start", "Appointment ID"], ["a@example.com", "2027-03-02T10:00", "G"],
                         ["b.example.com", "", "G"]))
    assert report.appointments == [] and report.error == 2
    assert "row 3" in report.rows[0].errors[0] and "needs fixing first" in report.rows[0].errors[0]


def test_the_same_client_twice_in_a_group_is_invited_once():
    report = check(table(["Email", "Appointment ID"], ["a@example.com", "G"], ["a@example.com", "G"]))
    assert len(report.appointments[0].clients) == 1 and "already in this appointment" in report.rows[1].warnings[0]


def test_the_same_client_at_the_same_time_twice_without_an_id_is_a_duplicate_error_on_the_later_row():
    report = check(table(["Email", "Start"], ["a@example.com", "2027-03-02T10:00"], ["b@example.com", "2027-03-02T10:00"],
                         ["A@example.com", "2027-03-02 10:00 am"]))
    assert [r.status for r in report.rows] == ["ok", "ok", "error"]
    assert report.rows[2].errors[0].startswith("This row repeats row 2: the same client (A@example.com)")
    assert len(report.appointments) == 2


def test_the_same_client_at_different_times_is_fine():
    report = check(table(["Email", "Start"], ["a@example.com", "2027-03-02T10:00"], ["a@example.com", "2027-03-03T10:00"]))
    assert report.error == 0 and len({a.external_appointment_id for a in report.appointments}) == 2


# -- settings columns --------------------------------------------------------------------------------
def test_the_organizer_comes_from_the_column_or_the_argument():
    assert one(["Email"], ["a@example.com"], organizer="boss@contoso.com").appointment.organizer == "boss@contoso.com"
    row = one(["Email", "Organizer"], ["a@example.com", "Dr.Chen@Contoso.com"], organizer="boss@contoso.com")
    assert row.appointment.organizer == "Dr.Chen@contoso.com"
    guid = "6e9f2b36-1c3a-4c2e-9f6e-2f1a4b7c8d90"
    assert one(["Email", "Organizer"], ["a@example.com", guid]).appointment.organizer == guid
    assert "sign-in address" in error_of(["Email", "Organizer"], ["a@example.com", "Dr Chen"])


@pytest.mark.parametrize("value, expected", [("yes", True), ("No", False), ("TRUE", True), ("false", False),
                                             ("1", True), ("0", False), ("", True)])
def test_browser_join_reads_yes_and_no(value, expected):
    assert one(["Email", "Browser Join"], ["a@example.com", value]).appointment.allow_browser_join is expected


def test_browser_join_that_is_not_yes_or_no_is_an_error():
    assert error_of(["Email", "Browser Join"], ["a@example.com", "maybe"]) == 'Column "Browser Join": "maybe" should be yes or no.'


def test_the_appointment_link_must_be_a_web_address():
    assert one(["Email", "Appointment URL"], ["a@example.com", "https://book.example.com/a/1"]).appointment.external_appointment_url
    assert "starting with https://" in error_of(["Email", "Appointment URL"], ["a@example.com", "book.example"])


# -- hostile cells -------------------------------------------------------------------------------------
def test_hostile_cells_stay_text_and_long_ones_are_cut_short_in_messages():
    report = check(make.hostile(), "hostile.csv", schedule=Schedule(start=datetime(2027, 5, 3, 9), tz="UTC"))
    formula_row, sum_row, big_row, ctrl_row, emoji_row, long_name_row = report.rows
    assert formula_row.status == "error" and "formula" in formula_row.errors[0]
    assert sum_row.status == "ok" and 'Column "Phone": "-2+3"' in sum_row.warnings[0]  # the email reaches them
    assert big_row.status == "ok" and big_row.warnings and len(big_row.appointment.subject) == 255
    assert all(len(m) < 400 for r in report.rows for m in r.errors + r.warnings)
    assert ctrl_row.status == "ok" and ctrl_row.appointment.clients[0].display_name == "CtrlChars"
    assert ctrl_row.appointment.subject == "Tab andescape"  # tab -> space, ESC dropped
    assert emoji_row.appointment.clients[0].display_name == "Emoji 😀 Person"
    assert long_name_row.status == "ok" and len(long_name_row.appointment.clients[0].display_name) == 256


def test_a_formula_in_a_name_is_sent_as_plain_text():
    row = one(["Name", "Email"], ["=1+1", "a@example.com"])
    assert row.status == "ok" and row.appointment.clients[0].display_name == "=1+1"


def test_a_very_long_bad_value_is_quoted_shortened():
    message = error_of(["Email"], ["x" * 5000])
    assert "…" in message and len(message) < 200


# -- real files end to end ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, ok, appointments", [
    ("outlook_contacts.csv", 3, 3), ("google_contacts.csv", 2, 2), ("google_contacts_new.csv", 2, 2),
    ("calendly_export.csv", 2, 2), ("acuity_export.csv", 2, 2), ("bookings_export.csv", 3, 2),
    ("semicolon_cp1252.csv", 2, 2), ("utf8_bom.csv", 2, 2), ("tab_separated.tsv", 2, 2), ("utf16.txt", 2, 2),
    ("two_sheets_header_row4.xlsx", 3, 3),
])
def test_every_fixture_checks_clean(name, ok, appointments):
    region = "FR" if "cp1252" in name else "US"
    report = check((FIXTURES / name).read_bytes(), name, default_region=region)
    assert [r.errors for r in report.rows if r.errors] == []
    assert report.ok == ok and len(report.appointments) == appointments


def test_calendly_times_keep_their_wall_clock_and_end():
    report = check((FIXTURES / "calendly_export.csv").read_bytes(), "calendly_export.csv")
    first = report.appointments[0]
    assert first.start.isoformat() == "2027-03-02T09:30:00-05:00" and first.duration_minutes == 30
    assert first.subject == "30 Minute Meeting" and first.clients[0].phone == "+14155550123"
    assert first.clients[0].display_name == "Björn Åkesson"


def test_the_outlook_export_uses_first_and_last_name_and_the_mobile_number():
    report = check((FIXTURES / "outlook_contacts.csv").read_bytes(), "outlook_contacts.csv")
    anna = report.appointments[0].clients[0]
    assert (anna.display_name, anna.email, anna.phone) == ("Anna Müller", "anna.mueller@example.com", "+19175550142")
    assert report.appointments[2].clients[0].phone == ""  # Zoë has only a business phone in another column


def test_the_bookings_export_groups_the_couple_and_reads_us_dates():
    report = check((FIXTURES / "bookings_export.csv").read_bytes(), "bookings_export.csv")
    couple = report.appointments[1]
    assert couple.external_appointment_id == "B-7002" and len(couple.clients) == 2
    assert couple.start.isoformat() == "2027-03-04T14:30:00-05:00" and couple.duration_minutes == 45


def test_the_sample_and_templates_check_without_errors():
    for data, name in ((sample_clients_csv(), "sample.csv"), (template_csv(), "template.csv"),
                       (template_xlsx(), "template.xlsx")):
        sheet = read_table(data, name)
        report = check_sheet(sheet, auto_map(sheet.headers), Schedule(tz="America/New_York"))
        assert report.error == 0, (name, [r.errors for r in report.rows])
    sample = read_table(sample_clients_csv(), "sample.csv")
    report = check_sheet(sample, auto_map(sample.headers), Schedule(tz="America/New_York"))
    assert 10 <= report.total <= 14 and len(report.appointments) == report.total - 1
    assert any(len(a.clients) == 2 for a in report.appointments)
    assert any(r.values.get("date") == "" for r in report.rows) and any(r.values.get("date") for r in report.rows)


def test_the_template_xlsx_keeps_the_plus_in_phone_numbers():
    sheet = read_table(template_xlsx(), "template.xlsx")
    assert sheet.rows[0][2] == "+1 212 555 0142"


# -- odds and ends -------------------------------------------------------------------------------------
def test_a_mapping_to_a_header_that_is_not_in_the_sheet_is_ignored():
    sheet = read_table(table(["Email"], ["a@example.com"]), "c.csv")
    report = check_sheet(sheet, {"email": "Email", "phone": "Gone"}, SCHEDULE, now=NOW)
    assert report.ok == 1


def test_the_schedule_zone_is_checked():
    sheet = read_table(table(["Email"], ["a@example.com"]), "c.csv")
    with pytest.raises(ModelError):
        check_sheet(sheet, {"email": "Email"}, Schedule(tz="Nowhere/Land"))


def test_checking_20000_rows_gives_20000_results():  # the time is measured in bench/check_speed.py
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Date", "Time", "Appointment ID"])
    for i in range(20_000):
        when = datetime(2027, 4, 5, 8) + timedelta(minutes=15 * i)
        writer.writerow(["Anna", f"Müller {i}", f"client.{i}@example.com", f"(212) 555-{i % 10000:04d}",
                         when.strftime("%m/%d/%Y") if i % 5 else "", when.strftime("%I:%M %p") if i % 5 else "",
                         f"A-{i}"])
    report = check(out.getvalue().encode("utf-8"), "big.csv")
    assert report.total == 20_000 and report.error == 0 and len(report.appointments) == 20_000


def test_mangled_files_give_a_spreadsheet_error_or_a_report_never_a_crash():
    import random

    from lib.spreadsheet.read import SpreadsheetError

    rnd = random.Random(7)
    seeds = [p.read_bytes() for p in sorted(FIXTURES.iterdir()) if p.suffix != ".py" and p.stat().st_size]
    pieces = ["0", ":", "/", "-", ",", ";", "\t", "\n", '"', "=", "+", "@", "pm", "é", "😀", "\x00", "\r", "G",
              "2027-11-07 01:30", "2027-03-14 02:30", "March", "+05:00"]
    for _ in range(400):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 8)):
            at = rnd.randrange(len(data) + 1)
            action = rnd.random()
            if action < 0.4 and data:
                data[at % len(data)] = rnd.randrange(256)
            elif action < 0.7:
                data[at:at] = rnd.choice(pieces).encode()
            elif action < 0.85:
                del data[at:at + rnd.randint(1, 50)]
            else:
                data = data[:at]
        try:
            sheet = read_table(bytes(data), rnd.choice(["a.csv", "a.xlsx", "a.txt"]))
        except SpreadsheetError:
            continue
        mapping = auto_map(sheet.headers)
        if rnd.random() < 0.3:  # a person's odd choices in the mapping dropdowns
            mapping = {k: rnd.choice(sheet.headers + [None]) for k in mapping}
        report = check_sheet(sheet, mapping, SCHEDULE, now=NOW)
        report.to_json()
        assert not any("could not be checked" in e for r in report.rows for e in r.errors)


def test_scheduled_rows_keep_their_ids_whatever_day_the_schedule_starts():
    """Re-sending a file without times on another day must not create the meetings again."""
    data = b"Name,Email\nAna,ana@example.com\nBo,bo@example.com\nAna,ana@example.com\n"
    sheet = read_table(data, "c.csv")
    mapping = auto_map(sheet.headers)
    monday = check_sheet(sheet, mapping, Schedule(start=datetime(2027, 1, 4, 9), tz="UTC"))
    tuesday = check_sheet(sheet, mapping, Schedule(start=datetime(2027, 1, 5, 14), tz="UTC"))
    ids = [a.appointment_id for a in monday.appointments]
    assert ids == [a.appointment_id for a in tuesday.appointments]
    assert len(set(ids)) == 3  # Ana's two rows are two appointments


# -- several values in one cell ----------------------------------------------------------------------
def test_a_list_of_addresses_uses_the_first_usable_one_and_names_the_others():
    row = one(["Name", "Email"], ["Anna", "not-an-address; anna@example.com, anna.work@example.com"])
    assert row.status == "ok" and row.appointment.clients[0].email == "anna@example.com"
    (warning,) = row.warnings
    assert '"anna@example.com" is used and "not-an-address", "anna.work@example.com" left out' in warning


def test_a_list_of_phones_uses_the_first_valid_number_and_names_the_others():
    row = one(["Email", "Phone"], ["a@example.com", "555-01; (212) 555-0142 ::: +1 646 555 0199"])
    assert row.appointment.clients[0].phone == "+12125550142"
    (warning,) = row.warnings
    assert 'holds 3 phone numbers; "(212) 555-0142" is used and "555-01", "+1 646 555 0199" left out' in warning


def test_a_name_with_a_comma_around_an_address_is_one_value():
    row = one(["Email"], ["Smith, Anna <anna@example.com>"])
    assert row.appointment.clients[0].email == "anna@example.com" and row.warnings == []


def test_with_sms_a_zone_windows_cannot_name_is_an_error_before_sending():
    message = error_of(["Email", "Start", "Time Zone"], ["a@example.com", "2027-03-02T09:30", "Antarctica/Troll"],
                       sms=True)
    assert message.startswith('Column "Time Zone": Antarctica/Troll has no Windows time zone name')
    assert one(["Email", "Start", "Time Zone"], ["a@example.com", "2027-03-02T09:30", "Antarctica/Troll"]).ok
