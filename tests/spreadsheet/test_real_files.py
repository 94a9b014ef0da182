"""Issue 9's files, made in code, through `python -m lib check --json`: the dates a person would read."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from lib.cli import main
from tests.fixtures import make

pytestmark = pytest.mark.usefixtures("checked_on_new_year")  # the files' dates are fixed


def check_json(tmp_path, data: bytes, *args: str, name: str = "clients.csv") -> tuple[int, dict, str]:
    path = tmp_path / name
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path), "--json", *args])
    return code, json.loads(out.getvalue()), err.getvalue()


def starts(report: dict) -> list[str | None]:
    return [(r["meeting"] or {}).get("startDateTime") for r in report["rows"]]


def test_the_german_dotted_file_reads_day_first_without_a_doubt(tmp_path):
    code, report, _ = check_json(tmp_path, make.german_dotted(), "--tz", "Europe/Berlin")
    assert code == 0
    assert starts(report) == ["2027-12-03T14:30:00+01:00", "2027-11-24T09:00:00+01:00", "2028-01-05T10:15:00+01:00"]
    assert [r["warnings"] for r in report["rows"]] == [[], [], []]
    names = [r["appointment"]["appointmentClients"][0]["displayName"] for r in report["rows"]]
    assert names == ["Jürgen Groß", "Änne Müller", "Björn Weiß"]  # Vorname + Nachname, cp1252 decoded


def test_a_french_file_with_every_day_under_13_is_read_day_first_and_warned(tmp_path):
    code, report, _ = check_json(tmp_path, make.french_low_days(), "--tz", "Europe/Paris")
    assert code == 0
    assert starts(report) == ["2027-04-03T14:30:00+02:00", "2027-06-05T09:00:00+02:00", "2027-07-07T10:45:00+02:00"]
    first, second, same_both_ways = report["rows"]
    (warning,) = first["warnings"]
    assert warning.startswith('Column "Date": 03/04/2027 was read as 3 April 2027 (day first, because the '
                              "headings are in French); it could also be March 4, 2027 (month first).")
    assert "--date-order MDY" in warning
    assert len(second["warnings"]) == 1 and same_both_ways["warnings"] == []  # 07/07 reads the same both ways
    client = first["appointment"]["appointmentClients"][0]
    assert client == {"displayName": "Hélène Dupré", "emailAddress": "helene@example.fr",
                      "smsCapablePhoneNumber": "+33612345678"}


def test_the_french_file_with_date_order_dmy_has_no_warning_and_mdy_reads_the_other_way(tmp_path):
    code, report, _ = check_json(tmp_path, make.french_low_days(), "--tz", "Europe/Paris", "--date-order", "DMY")
    assert code == 0 and [r["warnings"] for r in report["rows"]] == [[], [], []]
    assert starts(report)[0] == "2027-04-03T14:30:00+02:00"
    _, report, _ = check_json(tmp_path, make.french_low_days(), "--tz", "Europe/Paris", "--date-order", "MDY")
    assert starts(report)[:2] == ["2027-03-04T14:30:00+01:00", "2027-05-06T09:00:00+02:00"]


def test_a_us_file_with_am_pm_times_noon_and_just_after_midnight(tmp_path):
    code, report, _ = check_json(tmp_path, make.us_am_pm(), "--tz", "America/New_York")
    assert code == 0
    assert starts(report) == ["2027-11-24T14:30:00-05:00", "2027-03-04T14:00:00-05:00",
                              "2027-03-05T12:00:00-05:00", "2027-03-06T00:15:00-05:00"]
    assert all(r["warnings"] == [] for r in report["rows"])  # 11/24 proves month first for the column


def test_rows_after_cells_with_line_breaks_keep_their_excel_numbers(tmp_path):
    code, report, err = check_json(tmp_path, make.multiline_cells())
    assert code == 1
    assert [r["row"] for r in report["rows"]] == [2, 3, 4]
    assert report["rows"][2]["status"] == "error" and report["rows"][2]["errors"][0].startswith('Column "Email"')


def test_the_row_in_plain_check_messages_is_the_excel_row(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(make.multiline_cells())
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["check", str(path)]) == 1
    assert 'Row 4: Column "Email": "not-an-email"' in err.getvalue()


def test_google_multi_values_use_the_first_address_and_the_mobile_number_with_warnings(tmp_path):
    code, report, _ = check_json(tmp_path, make.google_multi_values(), "--tz", "America/New_York")
    assert code == 0
    renee = report["rows"][0]
    assert renee["appointment"]["appointmentClients"][0] == {
        "displayName": "Renée Côté", "emailAddress": "renee@example.org", "smsCapablePhoneNumber": "+12015550199"}
    email_warning, phone_warning = renee["warnings"]
    assert '"renee@example.org" is used and "renee.work@example.com" left out' in email_warning
    assert 'labelled "Mobile", "+1 201-555-0199", is used and "+1 201-555-0188" left out' in phone_warning
    assert report["rows"][1]["warnings"] == []


def test_an_unusable_phone_with_a_valid_email_is_a_warning_and_the_appointment_is_made(tmp_path):
    code, report, _ = check_json(tmp_path, make.clinic_bad_phones(), "--tz", "America/New_York")
    ana, bo, cal = report["rows"]
    assert ana["status"] == "ok" and ana["appointment"]["appointmentClients"][0] == {
        "displayName": "Ana Ruiz", "emailAddress": "ana@example.com"}
    assert "Text messages (SMS) would need a valid mobile number" in ana["warnings"][0]
    assert bo["status"] == "ok" and bo["warnings"] == []
    assert cal["status"] == "error" and "only way to reach this client" in cal["errors"][0]
    assert code == 1


def test_a_date_without_a_time_gets_the_next_free_slot_that_day(tmp_path):
    code, report, _ = check_json(tmp_path, make.date_without_time(), "--tz", "Europe/London",
                                 "--hours", "09:00-17:00")
    assert code == 0
    assert starts(report) == ["2027-03-02T09:00:00Z", "2027-03-02T09:30:00Z"]
    (note,) = report["rows"][1]["warnings"]
    assert note.startswith('Column "Date": this row has a date but no time, so it gets the first free slot '
                           "that day within working hours 09:00–17:00: 09:30–10:00.")


@pytest.mark.parametrize("order", ["dmy", "DMY"])
def test_date_order_is_accepted_in_either_case(tmp_path, order):
    code, report, _ = check_json(tmp_path, make.french_low_days(), "--date-order", order)
    assert code == 0 and report["rows"][0]["warnings"] == []


def test_plain_check_asks_the_date_question_once_per_undecided_column(tmp_path):
    path = tmp_path / "fr.csv"
    path.write_bytes(make.french_low_days())
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["check", str(path)]) == 0
    lines = err.getvalue().splitlines()
    question = [line for line in lines if line.startswith('Column "Date": does 03/04/2027')]
    assert question == ['Column "Date": does 03/04/2027 mean 3 April 2027 (day first) or March 4, 2027 (month first)? '
                        "2 rows were read day first because the headings are in French; to choose, add "
                        "--date-order DMY or --date-order MDY."]
