"""The check grid's session: edits re-checked, grid lines and bars reused for unchanged rows."""

from __future__ import annotations

from lib.screens import check_grid as grid
from lib.screens.check_grid import CheckSession, check_frame, problem_text, timeline_frame, PROBLEM, STATUS, ERROR
from lib.spreadsheet.check import RowResult, SheetChecker, check_sheet
from lib.spreadsheet.columns import auto_map
from lib.spreadsheet.read import read_table
from lib.spreadsheet.schedule import Schedule
from tests.dates import CHECKED_ON as NOW

DATA = (b"Name,Email,Start\nAnna,anna@example.com,2027-03-02T09:00\nBen,ben@example.com,2027-03-02T10:00\n"
        b"Cy,cy@example.com,2027-03-03T09:00\n")


def session():
    sheet = read_table(DATA, "c.csv")
    mapping = auto_map(sheet.headers)
    return sheet, mapping, CheckSession(sheet, mapping, SheetChecker(mapping, Schedule(tz="UTC"), now=NOW))


def test_the_session_gives_what_a_fresh_check_and_fresh_frames_give():
    sheet, mapping, grid = session()
    grid.check({}, zone="UTC")
    edits = {3: {"Email": "not-an-email"}}
    report, frame, bars = grid.check(edits, zone="UTC")
    from lib.screens.check_grid import apply_edits
    edited = apply_edits(sheet, edits)
    fresh = check_sheet(edited, mapping, Schedule(tz="UTC"), now=NOW)
    assert report.to_json() == fresh.to_json()
    assert frame.equals(check_frame(fresh, edited, mapping, zone="UTC"))
    assert bars.equals(timeline_frame(fresh, zone="UTC"))
    assert frame[STATUS].tolist()[1] == ERROR and frame[PROBLEM].tolist()[1].startswith('Column "Email"')
    assert len(bars) == 2


def test_the_same_edits_twice_return_the_same_objects():
    _, _, grid = session()
    first = grid.check({2: {"Name": "Anna M"}}, zone="UTC")
    assert grid.check({2: {"Name": "Anna M"}}, zone="UTC") is first


def test_problems_are_joined_as_sentences_without_doubled_punctuation():
    row = RowResult(row=2, status="error", errors=['Column "Email": "x" is missing the @ — write it like '
                                                   "name@example.com."], warnings=["Check the time"],
                    appointment=None, values={})
    assert problem_text(row) == ('Column "Email": "x" is missing the @ — write it like name@example.com. '
                                 "Check the time.")


def test_start_builds_a_session_with_the_checks_options():
    sheet = read_table(b"Name,Email,Phone,Date,Time\nAnna,anna@example.com,555-0142,03/04/2027,09:00\n", "c.csv")
    mapping = auto_map(sheet.headers)
    grid = CheckSession.start(sheet, mapping, Schedule(tz="UTC"), date_order={"Date": "DMY"}, sms=True)
    report, _, _ = grid.check({}, zone="UTC")
    assert report.rows[0].status == "error" and "Text messages (SMS) are requested" in report.rows[0].errors[0]
    assert report.date_columns[0].order == "DMY" and report.undecided_dates == []


SHEET = b"Name,Email,Date,Time\nAnn,ann@example.com,2027-03-01,09:00\nBen,ben.example.com,2027-03-01,09:30\n"


def test_edits_apply_by_row_number_and_header():
    sheet = read_table(SHEET, "c.csv")
    edited = grid.apply_edits(sheet, {3: {"Email": "ben@example.com"}, 99: {"Email": "x"}})
    assert edited.rows[1][1] == "ben@example.com" and sheet.rows[1][1] == "ben.example.com"


def test_grid_edits_fold_in_by_the_rows_and_columns_that_were_shown():
    edits: dict = {}
    changed = grid.merge_grid_edits(edits, {"1": {"c1": "ben@example.com", "_problem": "ignored"}}, [2, 3],
                                    {"c1": "Email"})
    assert changed and edits == {3: {"Email": "ben@example.com"}}
    assert not grid.merge_grid_edits(edits, {1: {"c1": "ben@example.com"}}, [2, 3], {"c1": "Email"})


def test_the_check_frame_has_one_line_per_row_with_status_and_problem():
    from lib.spreadsheet.columns import auto_map
    from lib.spreadsheet.schedule import Schedule
    from lib.spreadsheet.check import check_sheet

    sheet = read_table(SHEET, "c.csv")
    mapping = auto_map(sheet.headers)
    report = check_sheet(sheet, mapping, Schedule(tz="UTC"), now=NOW)
    frame = grid.check_frame(report, sheet, mapping, zone="UTC")
    assert list(frame[grid.ROW]) == [2, 3]
    assert list(frame[grid.STATUS]) == [grid.OK, grid.ERROR]
    assert "ben.example.com" in frame[grid.PROBLEM][1]
    assert frame[grid.TIME][0] == "Mon 2027-03-01 09:00–09:30"
    timeline = grid.timeline_frame(report, zone="UTC")
    assert len(timeline) == 1 and timeline["start"][0] == 9.0
    chart = grid.timeline_chart(timeline).to_dict()
    assert chart["mark"]["type"] == "bar" and chart["encoding"]["y"]["axis"]["labelOverlap"] is False
