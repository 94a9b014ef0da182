"""How long `check` takes on a big file: read_table + auto_map + check_sheet on 20,000 generated rows.

    python bench/check_speed.py [ROWS]

Prints the time of each step. The contract asks for "a few seconds" at 20,000 rows.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from days import monday_ahead  # noqa: E402
from lib.spreadsheet.columns import auto_map  # noqa: E402
from lib.spreadsheet.schedule import Schedule  # noqa: E402
from lib.spreadsheet.read import read_table  # noqa: E402
from lib.spreadsheet.check import check_sheet  # noqa: E402

FIRST = ["Anna", "José", "Zoë", "Björn", "Chloé", "Mateo", "Siobhán", "Łukasz", "Renée", "Tom"]
LAST = ["Müller", "Álvarez", "Lefèvre", "Åkesson", "Martin", "Peña", "O'Connor", "Wiśniewski", "Côté", "Becker"]
ZONES = ["America/New_York", "America/Chicago", "Europe/Paris", ""]


def make_csv(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Date", "Time",
                     "Duration (minutes)", "Time Zone", "Appointment ID"])
    start = monday_ahead(hour=8)
    for i in range(n):
        when = start + timedelta(minutes=15 * i)
        timed = i % 5 != 0  # every fifth row is left to the scheduler
        group = f"G-{i // 2}" if i % 50 < 4 else f"A-{i:06d}"  # a few two-person groups
        writer.writerow([
            FIRST[i % 10], LAST[(i // 10) % 10], f"client.{i}@example.com", f"(212) 555-{i % 10000:04d}",
            when.strftime("%Y-%m-%d") if timed else "", when.strftime("%I:%M %p") if timed else "",
            "30", ZONES[i % 4], group,
        ])
    return out.getvalue().encode("utf-8")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    data = make_csv(n)
    t0 = time.perf_counter()
    sheet = read_table(data, "bench.csv")
    t1 = time.perf_counter()
    mapping = auto_map(sheet.headers)
    t2 = time.perf_counter()
    report = check_sheet(sheet, mapping, Schedule(start=monday_ahead(hour=9), tz="America/New_York",
                                                   hours=(datetime(2000, 1, 1, 9).time(), datetime(2000, 1, 1, 17).time()),
                                                   weekdays_only=True))
    t3 = time.perf_counter()
    print(f"rows: {n:,} ({len(data) / 1e6:.1f} MB)")
    print(f"read_table:  {t1 - t0:6.2f} s")
    print(f"auto_map:    {t2 - t1:6.3f} s")
    print(f"check_sheet: {t3 - t2:6.2f} s")
    print(f"total:       {t3 - t0:6.2f} s")
    print(f"result: {report.ok:,} ok, {report.error:,} error, {len(report.appointments):,} appointments")


if __name__ == "__main__":
    main()
