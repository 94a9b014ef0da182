"""The bulk page's check grid (lib/screens/check_grid.py): edits by row number, the frame, the timeline."""

from __future__ import annotations

from lib.screens import check_grid as grid
from lib.spreadsheet.read import read_table

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
    report = check_sheet(sheet, mapping, Schedule(tz="UTC"))
    frame = grid.check_frame(report, sheet, mapping, zone="UTC")
    assert list(frame[grid.ROW]) == [2, 3]
    assert list(frame[grid.STATUS]) == [grid.OK, grid.ERROR]
    assert "ben.example.com" in frame[grid.PROBLEM][1]
    assert frame[grid.TIME][0] == "Mon 01 Mar 2027 09:00–09:30"
    timeline = grid.timeline_frame(report, zone="UTC")
    assert len(timeline) == 1 and timeline["start"][0] == 9.0
    assert grid.timeline_chart(timeline).to_dict()["mark"]["type"] == "bar"
