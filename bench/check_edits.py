"""How long one cell edit takes to re-check on a 10,000-row file (the bulk page's Check step).

    python bench/check_edits.py [ROWS] [EDITS]

Reads and checks the file once, then edits one cell at a time (an email fixed, a time moved, a row
broken and mended) and times each re-check through ``CheckSession``, the check grid's logic the page
calls: the edited sheet, the check report, the grid frame and the timeline. The issue asks for under
0.2 s per edit at 10,000 rows.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_speed import make_csv  # noqa: E402
from days import monday_ahead  # noqa: E402
from lib.screens.check_grid import CheckSession  # noqa: E402
from lib.spreadsheet.check import SheetChecker  # noqa: E402
from lib.spreadsheet.columns import auto_map  # noqa: E402
from lib.spreadsheet.read import read_table  # noqa: E402
from lib.spreadsheet.schedule import Schedule, parse_hours  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    sheet = read_table(make_csv(n), "bench.csv")
    mapping = auto_map(sheet.headers)
    schedule = Schedule(start=monday_ahead(hour=9), tz="America/New_York", hours=parse_hours("09:00-17:00"),
                        weekdays_only=True)
    t0 = time.perf_counter()
    session = CheckSession(sheet, mapping, SheetChecker(mapping, schedule))
    report, _, _ = session.check({}, zone="America/New_York")
    first = time.perf_counter() - t0
    edits: dict[int, dict[str, str]] = {}
    times = []
    for i in range(count):
        number = sheet.row_numbers[(i * 331) % n]
        kind = i % 3
        if kind == 0:
            edits.setdefault(number, {})["E-mail Address"] = f"fixed.{i}@example.org"
        elif kind == 1:
            edits.setdefault(number, {})["E-mail Address"] = "broken-address"
        else:
            edits.setdefault(number, {})["Duration (minutes)"] = "45"
        began = time.perf_counter()
        report, frame, timeline = session.check(edits, zone="America/New_York")
        times.append(time.perf_counter() - began)
    print(f"rows: {n:,}; first check {first:.2f} s")
    print(f"per edit: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"over {count} edits")
    print(f"result: {report.ok:,} ok, {report.error:,} error, {len(frame):,} grid lines, {len(timeline):,} bars")


if __name__ == "__main__":
    main()
