"""Small builders shared by tests: spreadsheets and appointments with unique ids."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lib.model.appointment import Appointment, Client


def unique_tag(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def clients_csv(n: int, tag: str, *, with_times: bool = True, bad_rows: dict[int, dict] | None = None,
                start: datetime = datetime(2027, 3, 1, 9, 0)) -> bytes:
    """A realistic CSV of ``n`` clients whose Appointment IDs start with ``tag``, 30 minutes apart from ``start``
    (a fixed day the meeting tests name; Bookings, which refuses past days, takes one from tests/dates.py)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["Name", "Email", "Phone", "Appointment ID"] + (["Date", "Time"] if with_times else [])
    writer.writerow(header)
    for i in range(n):
        when = start + timedelta(minutes=30 * i)
        row = {"Name": f"Client {i}", "Email": f"client{i}@example.com", "Phone": f"+1 212 555 {1000 + i:04d}",
               "Appointment ID": f"{tag}-{i:04d}", "Date": when.strftime("%Y-%m-%d"), "Time": when.strftime("%H:%M")}
        row.update((bad_rows or {}).get(i, {}))
        writer.writerow([row[h] for h in header])
    return out.getvalue().encode("utf-8")


def write_csv(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def appointments(n: int, tag: str) -> list[Appointment]:
    start = datetime(2027, 4, 5, 9, tzinfo=timezone.utc)
    return [Appointment(f"Visit {i}", start + timedelta(minutes=30 * i), start + timedelta(minutes=30 * i + 30),
                        clients=(Client(f"Client {i}", f"c{i}@example.com", "+12125550100"),),
                        external_appointment_id=f"{tag}-{i:04d}", source_rows=(i + 2,))
            for i in range(n)]


def meetings_with_prefix(sandbox, prefix: str) -> Counter:
    """How many stored meetings carry each externalId starting with ``prefix``."""
    meetings = sandbox.meetings()
    if isinstance(meetings, dict):
        meetings = meetings["value"]
    return Counter(m["externalId"] for m in meetings if (m.get("externalId") or "").startswith(prefix))
