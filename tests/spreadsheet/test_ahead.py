"""Checking the first rows ahead (to send them while the rest is checked) never changes what the whole check says."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime
from pathlib import Path

import pytest

from lib.spreadsheet.check import SheetChecker, check_sheet
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.read import SpreadsheetError, read_table
from lib.spreadsheet.schedule import Schedule

from tests.spreadsheet.test_incremental import NOW, SCHEDULE, random_edits, sample_sheet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def sheet_of(rows: list[list[str]], headers=("Name", "Email", "Date", "Time", "Appointment ID")):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return read_table(out.getvalue().encode("utf-8"), "c.csv")


def assert_ahead_is_a_prefix(sheet, rows: int, schedule=SCHEDULE) -> list:
    mapping = auto_map(sheet.headers)
    checker = SheetChecker(mapping, schedule, now=NOW)
    ahead = []
    for cut in sorted({min(1, rows), rows // 2, rows}):  # as send does: a batch, then more, each part beginning with the last
        more = checker.check_ahead(sheet, cut)
        assert all(a is b for a, b in zip(ahead, more)) and len(more) >= len(ahead)
        ahead = more
    report = checker.check(sheet)
    fresh = check_sheet(sheet, mapping, schedule, now=NOW)
    assert report.to_json() == fresh.to_json()
    assert report.date_columns == fresh.date_columns
    assert len(ahead) <= len(report.appointments)
    assert all(a is b for a, b in zip(ahead, report.appointments)), "the whole check must reuse the very objects"
    last = sheet.row_numbers[min(rows, len(sheet.rows)) - 1] if rows else 0
    assert all(max(a.source_rows) <= last for a in ahead)
    return ahead


def test_every_cut_of_a_file_with_groups_slots_and_dated_rows_is_a_prefix_of_the_whole_check():
    sheet = sample_sheet()
    for rows in range(0, len(sheet.rows) + 2):
        assert_ahead_is_a_prefix(sheet, rows)


def test_random_edits_keep_the_part_ahead_a_prefix():
    sheet = sample_sheet()
    rnd = random.Random(12)
    for edited, _ in random_edits(sheet, rnd, 30):
        assert_ahead_is_a_prefix(edited, rnd.randrange(len(sheet.rows) + 1))


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".csv", ".tsv", ".txt",
                                                                                         ".xlsx")))
def test_the_fixture_files(name):
    try:
        sheet = read_table((FIXTURES / name).read_bytes(), name)
    except SpreadsheetError:
        pytest.skip("not a usable file (its own tests say so)")
    if not sheet.rows:
        pytest.skip("no rows")
    for rows in (1, 2, len(sheet.rows) // 2, len(sheet.rows)):
        assert_ahead_is_a_prefix(sheet, rows, Schedule(start=datetime(2027, 5, 3, 9), tz="UTC"))


def test_plain_timed_rows_are_all_ahead_up_to_the_cut():
    rows = [[f"C{i}", f"c{i}@example.com", "2027-05-10", f"{8 + i % 9}:00", f"A{i}"] for i in range(50)]
    ahead = assert_ahead_is_a_prefix(sheet_of(rows), 20)
    assert [a.appointment_id for a in ahead] == [f"A{i}" for i in range(20)]


def test_an_invalid_row_ahead_is_left_out_and_the_rest_goes_on():
    rows = [[f"C{i}", "broken" if i == 3 else f"c{i}@example.com", "2027-05-10", "9:00", f"A{i}"] for i in range(10)]
    ahead = assert_ahead_is_a_prefix(sheet_of(rows), 6)
    assert [a.appointment_id for a in ahead] == ["A0", "A1", "A2", "A4", "A5"]


def test_a_group_that_continues_below_the_cut_ends_the_part_ahead():
    rows = [["C0", "c0@example.com", "2027-05-10", "9:00", "A0"],
            ["C1", "c1@example.com", "2027-05-10", "10:00", "G"],
            ["C2", "c2@example.com", "2027-05-10", "11:00", "A2"],
            ["C3", "c3@example.com", "2027-05-10", "10:00", "G"]]  # joins row 3's appointment
    ahead = assert_ahead_is_a_prefix(sheet_of(rows), 3)
    assert [a.appointment_id for a in ahead] == ["A0"]


def test_a_date_without_a_time_ends_the_part_ahead():
    rows = [["C0", "c0@example.com", "2027-05-10", "9:00", "A0"],
            ["C1", "c1@example.com", "2027-05-10", "", "A1"],  # its slot depends on every row's time that day
            ["C2", "c2@example.com", "2027-05-10", "9:30", "A2"]]
    ahead = assert_ahead_is_a_prefix(sheet_of(rows), 3)
    assert [a.appointment_id for a in ahead] == ["A0"]


def test_a_duplicate_below_the_cut_leaves_the_first_one_valid():
    rows = [["C0", "c0@example.com", "2027-05-10", "9:00", "A0"],
            ["C1", "c1@example.com", "2027-05-10", "9:30", "A1"],
            ["C0", "c0@example.com", "2027-05-10", "9:00", ""]]  # the same client and time as row 2, no id
    sheet = sheet_of(rows)
    ahead = assert_ahead_is_a_prefix(sheet, 2)
    assert [a.appointment_id for a in ahead] == ["A0", "A1"]


def test_rows_without_times_take_their_schedule_slots_ahead():
    rows = [[f"C{i}", f"c{i}@example.com", "", "", ""] for i in range(12)]
    ahead = assert_ahead_is_a_prefix(sheet_of(rows), 5)
    assert len(ahead) == 5
