"""The bulk page's Check step: spreadsheet edits, the one-row-per-line check grid, the schedule timeline.

Edits are kept by spreadsheet row number and column header, so they survive paging, filtering and a
changed mapping; applying them gives a new ``Sheet`` that is validated like a freshly read file.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from zoneinfo import ZoneInfo

import pandas as pd

from lib.spreadsheet.check import CheckReport, SheetChecker, join_messages
from lib.spreadsheet.read import Sheet
from lib.spreadsheet.schedule import Schedule

# Symbols every system font has (emoji are missing on many Linux desktops), with a word for clarity.
OK, WARN, ERROR = "✓ Ready", "⚠ Ready", "✗ Fix"
# Internal names of the grid's own columns; spreadsheet columns are "c<index>" so no header can clash.
STATUS, ROW, CLIENT, TIME, PROBLEM = "_status", "_row", "_client", "_time", "_problem"

Edits = dict[int, dict[str, str]]  # spreadsheet row number -> {header: new text}


class CheckSession:
    """One file under check with one mapping, schedule and set of options, for the page to keep.

    ``check(edits)`` applies the user's edits and re-checks: the ``SheetChecker`` re-reads only the
    edited rows and their appointment groups, so an edit costs a fraction of the first check. One session
    may serve several reruns at once (Streamlit's cache_resource): checks take turns.
    """

    def __init__(self, sheet: Sheet, mapping: dict, checker: SheetChecker):
        self.sheet = sheet
        self.mapping = dict(mapping)
        self.checker = checker
        self._lock = threading.Lock()
        self._last: tuple | None = None
        self._lines: dict = {}
        self._bars: dict = {}

    @classmethod
    def start(cls, sheet: Sheet, mapping: dict, schedule: Schedule, *, organizer: str = "",
              date_order: str | dict | None = "auto", sms: bool = False) -> "CheckSession":
        """A session for ``sheet`` as read from the file; options as ``check_sheet`` takes them."""
        checker = SheetChecker(mapping, schedule, organizer=organizer, date_order=date_order, sms=sms)
        return cls(sheet, mapping, checker)

    def check(self, edits: Edits, *, zone: str | None = None) -> tuple[CheckReport, pd.DataFrame, pd.DataFrame]:
        """(report, check grid frame, timeline frame) for the sheet with ``edits`` applied."""
        with self._lock:
            return self._check(edits, zone)

    def _check(self, edits: Edits, zone: str | None) -> tuple[CheckReport, pd.DataFrame, pd.DataFrame]:
        key = (edits_key(edits), zone)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        table = apply_edits(self.sheet, edits)
        report = self.checker.check(table)
        result = (report, check_frame(report, table, self.mapping, zone=zone, memo=self._lines),
                  timeline_frame(report, zone=zone, memo=self._bars))
        self._last = (key, result)
        return result


def column_id(index: int) -> str:
    return f"c{index}"


def apply_edits(sheet: Sheet, edits: Edits) -> Sheet:
    """A copy of ``sheet`` with the user's cell edits; unknown rows or headers are ignored."""
    if not edits:
        return sheet
    position = {number: i for i, number in enumerate(sheet.row_numbers)}
    columns = {header: j for j, header in enumerate(sheet.headers)}
    rows = list(sheet.rows)
    for number, changes in edits.items():
        i = position.get(int(number))
        if i is None:
            continue
        row = list(rows[i]) + [""] * max(0, len(sheet.headers) - len(rows[i]))
        for header, value in changes.items():
            j = columns.get(header)
            if j is not None:
                row[j] = "" if value is None else str(value)
        rows[i] = row
    return replace(sheet, rows=rows)


def merge_grid_edits(edits: Edits, grid_edits: dict, shown_rows: list[int], shown_columns: dict[str, str]) -> bool:
    """Fold a data_editor's ``edited_rows`` (positions in the shown page) into ``edits``; True if any changed.

    ``shown_rows`` are the spreadsheet row numbers of the shown page, in order; ``shown_columns`` maps
    grid column ids to spreadsheet headers.
    """
    changed = False
    for position, cells in (grid_edits or {}).items():
        position = int(position)
        if not 0 <= position < len(shown_rows):
            continue
        number = shown_rows[position]
        for column, value in cells.items():
            header = shown_columns.get(column)
            if header is None:
                continue
            text = "" if value is None else str(value)
            if edits.get(number, {}).get(header) != text:
                edits.setdefault(number, {})[header] = text
                changed = True
    return changed


def edits_key(edits: Edits) -> tuple:
    """A hashable, order-free form of ``edits`` for caches."""
    return tuple(sorted((n, tuple(sorted(c.items()))) for n, c in edits.items()))


def status_icon(row) -> str:
    if row.status != "ok":
        return ERROR
    return WARN if row.warnings else OK


def problem_text(row) -> str:
    return join_messages([*row.errors, *row.warnings])


def when_text(appointment, zone: str | None = None) -> str:
    """``Mon 01 Mar 2027 09:00–09:30`` in ``zone`` (the user's), else the appointment's own zone."""
    if appointment is None:
        return ""
    tz = ZoneInfo(zone or appointment.time_zone)
    start, end = appointment.start.astimezone(tz), appointment.end.astimezone(tz)
    return f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M}"  # the app's one date format, with the weekday


def client_text(row) -> str:
    if row.appointment is not None:
        for client in row.appointment.clients:
            return client.label
    values = getattr(row, "values", None) or {}
    for key in ("name", "email", "phone", "first_name", "last_name"):
        if values.get(key):
            return str(values[key])
    return ""


def grid_columns(sheet: Sheet, mapping: dict) -> dict[str, str]:
    """Grid column id -> header for the spreadsheet columns the mapping uses, in the file's order."""
    used = {h for h in mapping.values() if h}
    return {column_id(j): header for j, header in enumerate(sheet.headers) if header in used}


def check_frame(report, sheet: Sheet, mapping: dict, *, zone: str | None = None,
                memo: dict | None = None) -> pd.DataFrame:
    """One line per spreadsheet row: status icon, row number, client, time, problem, then the editable cells.

    ``memo`` (a dict the caller keeps between calls) reuses the lines of rows whose result and cells are
    the same objects as last time: after an edit only the changed rows are formatted again.
    """
    columns = grid_columns(sheet, mapping)
    index = {header: j for j, header in enumerate(sheet.headers)}
    positions = [index[header] for header in columns.values()]
    by_number = dict(zip(sheet.row_numbers, sheet.rows))
    memo = {} if memo is None else memo
    layout = (tuple(columns.items()), zone)
    if memo.get("layout") != layout:
        memo.clear()
        memo["layout"] = layout
    lines = []
    for row in report.rows:
        cells = by_number.get(row.row, [])
        hit = memo.get(row.index)
        if hit is None or hit[0] is not row or hit[1] is not cells:
            line = (status_icon(row), int(row.row), client_text(row), when_text(row.appointment, zone),
                    problem_text(row), *(cells[j] if j < len(cells) else "" for j in positions))
            hit = memo[row.index] = (row, cells, line)
        lines.append(hit[2])
    return pd.DataFrame.from_records(lines, columns=[STATUS, ROW, CLIENT, TIME, PROBLEM, *columns])


def timeline_frame(report, *, zone: str | None = None, max_days: int = 21, memo: dict | None = None) -> pd.DataFrame:
    """Scheduled appointments as bars on the first ``max_days`` days: day, start and end hour, who, row.

    ``memo`` (kept by the caller) remembers each appointment's bar, so a re-check formats only new ones.
    """
    records = []
    seen = set()
    days: set[str] = set()
    memo = {} if memo is None else memo
    if memo.get("zone", ...) != zone:
        memo.clear()
        memo["zone"] = zone
    for row in report.rows:
        appt = row.appointment
        if appt is None or id(appt) in seen:
            continue
        seen.add(id(appt))
        hit = memo.get(id(appt))
        if hit is None or hit[0] is not appt or hit[1] != row.row:
            hit = memo[id(appt)] = (appt, row.row, _bar(appt, int(row.row), zone))
        bar = hit[2]
        if bar["date"] not in days:
            if len(days) >= max_days:
                continue
            days.add(bar["date"])
        records.append(bar)
    return pd.DataFrame(records, columns=["day", "date", "start", "end", "from", "to", "client", "row", "subject"])


def _bar(appt, row: int, zone: str | None) -> dict:
    tz = ZoneInfo(zone or appt.time_zone)
    start, end = appt.start.astimezone(tz), appt.end.astimezone(tz)
    end_hour = end.hour + end.minute / 60 if end.date() == start.date() else 24.0
    return {"day": start.strftime("%a %Y-%m-%d"), "date": start.date().isoformat(),
            "start": start.hour + start.minute / 60, "end": end_hour,
            "from": start.strftime("%H:%M"), "to": end.strftime("%H:%M"),
            "client": appt.clients_label, "row": row, "subject": appt.subject}


def timeline_chart(frame: pd.DataFrame):
    """An Altair chart: one lane per day, one bar per appointment, hours across."""
    import altair as alt

    days = frame.drop_duplicates("date").sort_values("date")["day"].tolist()
    low = max(0, int(frame["start"].min()) - 1) if len(frame) else 8
    high = min(24, int(frame["end"].max()) + 1) if len(frame) else 18
    return (
        alt.Chart(frame)
        .mark_bar(cornerRadius=3, height={"band": 0.7})
        .encode(
            x=alt.X("start:Q", title="Time of day", scale=alt.Scale(domain=[low, high], nice=False),
                    axis=alt.Axis(tickMinStep=1, labelExpr="format(floor(datum.value), '02') + ':00'")),
            x2="end:Q",
            # every day labelled: Vega hides labels it thinks overlap unless told not to
            y=alt.Y("day:N", title=None, sort=days, axis=alt.Axis(labelOverlap=False, labelLimit=0)),
            color=alt.value("#5b5fc7"),
            tooltip=[alt.Tooltip("row:Q", title="Row"), alt.Tooltip("client:N", title="Client"),
                     alt.Tooltip("day:N", title="Day"), alt.Tooltip("from:N", title="From"),
                     alt.Tooltip("to:N", title="To"), alt.Tooltip("subject:N", title="Subject")],
        )
        .properties(height=max(120, 28 * len(days)))
    )


def sample_values(sheet: Sheet, header: str | None, limit: int = 2) -> str:
    """The first non-empty values of a column, for the Match columns step."""
    if not header or header not in sheet.headers:
        return ""
    j = sheet.headers.index(header)
    found = []
    for row in sheet.rows:
        if j < len(row) and str(row[j]).strip():
            found.append(str(row[j]).strip())
            if len(found) >= limit:
                break
    return ", ".join(found)


def first_rows(sheet: Sheet, n: int = 5) -> pd.DataFrame:
    """The file's first rows exactly as read, with the row numbers Excel shows."""
    rows = [list(r) + [""] * (len(sheet.headers) - len(r)) for r in sheet.rows[:n]]
    frame = pd.DataFrame([r[:len(sheet.headers)] for r in rows], columns=_unique(sheet.headers))
    frame.insert(0, "Row", sheet.row_numbers[:n])
    return frame


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        name = str(h) if str(h).strip() else "(blank)"
        if name in seen or name == "Row":
            seen[name] = seen.get(name, 1) + 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out
