"""Date order per column: proofs, conventions, evidence, warnings, contradictions, the app's question."""

from __future__ import annotations

import csv
import io

from lib.spreadsheet import dates
from lib.spreadsheet.check import check_sheet
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.read import read_table
from lib.spreadsheet.schedule import Schedule
from tests.dates import CHECKED_ON as NOW

UTC = Schedule(tz="UTC")


def sheet_of(*rows: list[str], delimiter: str = ","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return read_table(out.getvalue().encode("utf-8"), "c.csv")


def run(sheet, schedule=UTC, **kwargs):
    return check_sheet(sheet, auto_map(sheet.headers), schedule, now=NOW, **kwargs)


def days(report) -> list[str | None]:
    return [r.appointment.start.date().isoformat() if r.appointment else None for r in report.rows]


def test_a_day_over_12_anywhere_in_the_column_proves_day_first_for_every_row():
    sheet = sheet_of(["Email", "Date", "Time"], ["a@example.com", "03/12/2027", "14:30"],
                     ["b@example.com", "24/11/2027", "09:00"])
    report = run(sheet, Schedule(tz="America/New_York"))  # a US zone does not outvote the proof
    assert days(report) == ["2027-12-03", "2027-11-24"]
    assert [r.warnings for r in report.rows] == [[], []]
    (column,) = report.date_columns
    assert (column.header, column.order, column.decided_by, column.undecided) == ("Date", "DMY", "values", False)


def test_a_second_part_over_12_proves_month_first():
    sheet = sheet_of(["Email", "Start"], ["a@example.com", "03/04/2027 09:00"], ["b@example.com", "03/25/2027 10:00"])
    report = run(sheet, Schedule(tz="Europe/Paris"))
    assert days(report) == ["2027-03-04", "2027-03-25"] and report.undecided_dates == []


def test_values_that_contradict_the_column_are_errors_on_those_rows_only():
    sheet = sheet_of(["Email", "Date", "Time"], ["a@example.com", "25/03/2027", "09:00"],
                     ["b@example.com", "26/03/2027", "09:00"], ["c@example.com", "03/27/2027", "09:00"])
    report = run(sheet)
    assert [r.status for r in report.rows] == ["ok", "ok", "error"]
    (error,) = report.rows[2].errors
    assert error.startswith('Column "Date": 03/27/2027 can only be month first (March 27, 2027), but this column '
                            "is read day first")
    assert report.date_columns[0].contradicting_rows == 1


def test_without_proof_the_zone_decides_and_every_ambiguous_row_is_warned_with_both_readings():
    sheet = sheet_of(["Email", "Date", "Time"], ["a@example.com", "03/04/2027", "09:00"],
                     ["b@example.com", "05/05/2027", "09:00"])
    report = run(sheet, Schedule(tz="America/Chicago"))
    assert days(report) == ["2027-03-04", "2027-05-05"]
    (warning,) = report.rows[0].warnings
    assert "read as March 4, 2027 (month first, because the time zone America/Chicago is in the United States)" \
        in warning and "it could also be 3 April 2027 (day first)" in warning
    assert report.rows[1].warnings == []  # 05/05 is the same date either way
    (column,) = report.undecided_dates
    assert (column.example, column.example_row, column.ambiguous_rows) == ("03/04/2027", 2, 1)
    assert column.readings == {"DMY": "3 April 2027", "MDY": "March 4, 2027"}
    assert column.question == 'Column "Date": does 03/04/2027 mean 3 April 2027 (day first) or March 4, 2027 (month first)?'


def test_the_apps_answer_per_column_rereads_that_column_without_warnings():
    sheet = sheet_of(["Email", "Date", "Time"], ["a@example.com", "03/04/2027", "09:00"])
    report = run(sheet, Schedule(tz="America/Chicago"), date_order={"Date": "DMY"})
    assert days(report) == ["2027-04-03"] and report.rows[0].warnings == [] and report.undecided_dates == []
    assert report.date_columns[0].decided_by == "choice"


def test_a_semicolon_file_with_decimal_commas_is_evidence_for_day_first():
    sheet = sheet_of(["Email", "Date", "Time", "Price"], ["a@example.com", "03/04/2027", "09:00", "12,50"],
                     delimiter=";")
    report = run(sheet)
    assert days(report) == ["2027-04-03"]
    assert "uses ; between cells and decimal commas" in report.rows[0].warnings[0]


def test_a_time_zone_column_is_evidence_and_the_default_region_comes_last():
    sheet = sheet_of(["Email", "Date", "Time", "Time Zone"], ["a@example.com", "03/04/2027", "09:00", "Europe/Rome"])
    assert days(run(sheet)) == ["2027-04-03"]
    plain = sheet_of(["Email", "Date", "Time"], ["a@example.com", "03/04/2027", "09:00"])
    report = run(plain)  # UTC says nothing: the default region (US) decides, with a warning
    assert days(report) == ["2027-03-04"] and "the region is US" in report.rows[0].warnings[0]
    assert days(run(plain, default_region="GB")) == ["2027-04-03"]


def test_iso_and_month_names_need_no_decision():
    sheet = sheet_of(["Email", "Start"], ["a@example.com", "2027-03-04 09:00"], ["b@example.com", "4 March 2027 10:00"])
    report = run(sheet)
    assert days(report) == ["2027-03-04", "2027-03-04"] and report.undecided_dates == []
    assert [r.warnings for r in report.rows] == [[], []]


def test_dotted_dates_are_day_first_by_convention_and_a_dotted_month_over_12_is_an_error():
    sheet = sheet_of(["Email", "Start"], ["a@example.com", "03.04.2027 09:00"], ["b@example.com", "03.14.2027 09:00"])
    report = run(sheet, Schedule(tz="America/New_York"))
    assert report.rows[0].appointment.start.date().isoformat() == "2027-04-03" and report.rows[0].warnings == []
    assert report.rows[1].status == "error" and "can only be month first" in report.rows[1].errors[0]


def test_ymd_reads_two_digit_years_first():
    sheet = sheet_of(["Email", "Date", "Time"], ["a@example.com", "27/03/04", "09:00"])
    assert days(run(sheet, date_order="YMD")) == ["2027-03-04"]


def test_normal_choice_reads_the_forms_the_page_and_the_cli_pass():
    assert dates.normal_choice("auto") == (None, {})
    assert dates.normal_choice("dmy") == ("DMY", {})
    assert dates.normal_choice({"Date": "mdy", "Other": "nonsense"}) == (None, {"Date": "MDY"})


def test_a_column_without_proof_follows_another_date_column_of_the_file_that_has_it():
    sheet = sheet_of(["Email", "Start", "End"], ["a@example.com", "25/03/2027 09:00", "10:00"],
                     ["b@example.com", "03/04/2027 09:00", "03/04/2027 10:00"])
    report = run(sheet, Schedule(tz="America/New_York"))
    assert [r.appointment.start.isoformat() for r in report.rows] == ["2027-03-25T09:00:00-04:00",
                                                                     "2027-04-03T09:00:00-04:00"]
    assert report.rows[1].appointment.end.isoformat() == "2027-04-03T10:00:00-04:00"
    assert [r.warnings for r in report.rows] == [[], []] and report.undecided_dates == []
    assert report.date_columns[1].reason == 'the dates in column "Start" are day first'
