"""Re-checking an edited sheet with the same SheetChecker gives exactly what a fresh check gives."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime

from lib.screens.check_grid import apply_edits
from lib.spreadsheet.check import SheetChecker, check_sheet
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.read import read_table
from lib.spreadsheet.schedule import Schedule, parse_hours
from tests.dates import CHECKED_ON as NOW

SCHEDULE = Schedule(start=datetime(2027, 5, 3, 9), tz="America/New_York", hours=parse_hours("09:00-12:00"))
HEADERS = ["Name", "Email", "Phone", "Date", "Time", "Duration", "Appointment ID"]


def sample_sheet():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for i in range(60):
        timed = i % 4 != 0
        writer.writerow([f"Client {i}", f"c{i % 50}@example.com", f"(212) 555-{100 + i:04d}",
                         f"2027-05-{10 + i % 5:02d}" if timed or i % 8 == 0 else "",
                         f"{9 + i % 3}:00" if timed else "", "30", f"G{i // 3}" if i % 10 < 3 else ""])
    return read_table(out.getvalue().encode("utf-8"), "c.csv")


EDIT_VALUES = {
    "Email": ["c1@example.com", "broken", "", "new@example.org", "c2@example.com ::: c3@example.com"],
    "Time": ["", "10:00", "9:00", "25:00", "2 pm"],
    "Date": ["", "2027-05-10", "03/04/2027", "13/04/2027", "2027-05-11"],
    "Appointment ID": ["", "G1", "G2", "X"],
    "Phone": ["555-01", "(212) 555-0199", ""],
    "Duration": ["45", "0", "30"],
}


def random_edits(sheet, rnd: random.Random, count: int):
    """``count`` copies of ``sheet``, each with one more random cell edit than the one before."""
    edits: dict[int, dict[str, str]] = {}
    for _ in range(count):
        number = rnd.choice(sheet.row_numbers)
        header = rnd.choice(list(EDIT_VALUES))
        edits.setdefault(number, {})[header] = rnd.choice(EDIT_VALUES[header])
        yield apply_edits(sheet, edits), edits


def test_random_edits_rechecked_incrementally_match_a_fresh_check():
    sheet = sample_sheet()
    mapping = auto_map(sheet.headers)
    checker = SheetChecker(mapping, SCHEDULE, now=NOW)
    checker.check(sheet)
    for edited, edits in random_edits(sheet, random.Random(9), 40):
        again = checker.check(edited)
        fresh = check_sheet(edited, mapping, SCHEDULE, now=NOW)
        assert again.to_json() == fresh.to_json(), edits
        assert again.date_columns == fresh.date_columns
        assert [a.appointment_id for a in again.appointments] == [a.appointment_id for a in fresh.appointments]


def test_an_unchanged_row_keeps_its_result_object_and_an_edited_one_is_rechecked():
    sheet = sample_sheet()
    checker = SheetChecker(auto_map(sheet.headers), SCHEDULE, now=NOW)
    before = checker.check(sheet)
    after = checker.check(apply_edits(sheet, {sheet.row_numbers[5]: {"Email": "broken"}}))
    assert after.rows[0] is before.rows[0]
    assert after.rows[5].status == "error" and before.rows[5].status == "ok"
    assert 'Column "Email": "broken"' in after.rows[5].errors[0]
