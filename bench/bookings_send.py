"""Bookings at scale (issue 11): `python -m lib send --flow bookings` against the floor set by 4 in flight.

    python bench/bookings_send.py                 # N = 300, sandbox --latency 100
    python bench/bookings_send.py --count 100 --latency 50

Bookings allows 4 concurrent requests per app and booking mailbox, and every appointment is one
POST, so the floor of the sending part is ceil(N / 4) x latency. The run also reads the service list
and one calendarView before the first POST (3 round trips at the sandbox's page sizes), which the
figure includes. Timed: the whole command (process start to exit, sign-in cached by a warm-up run),
and the second run of the same file (every booking confirmed by a GET: N requests).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from days import monday_ahead  # noqa: E402
from lib.sandbox.process import start_sandbox_process  # noqa: E402


def write_clinic(path: Path, n: int, tag: str) -> Path:
    """``n`` 30-minute slots inside the sandbox business's hours (Mon-Fri 08:00-18:00 New York)."""
    day, slot, written = monday_ahead(), 0, 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Appointment ID", "Date", "Time"])
        while written < n:
            if day.weekday() >= 5 or slot >= 20:
                day, slot = day + timedelta(days=1), 0
                continue
            when = day.replace(hour=8) + timedelta(minutes=30 * slot)
            writer.writerow([f"Client {written}", f"{tag.lower()}-{written}@example.com", f"{tag}-{written:05d}",
                             when.strftime("%Y-%m-%d"), when.strftime("%H:%M")])
            slot, written = slot + 1, written + 1
    return path


def send(proc, csv_path: Path, out: Path, env: dict) -> float:
    cmd = [sys.executable, "-m", "lib", "send", str(csv_path), "--connection", str(proc.app_profile_path),
           "--flow", "bookings", "--tz", "America/New_York", "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"send exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--latency", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(work / "home"))
        with start_sandbox_process(work / "sandbox", latency=args.latency) as proc:
            send(proc, write_clinic(work / "warm.csv", 4, "WARM"), work / "warm.csv.out", env)
            tag = "B" + uuid.uuid4().hex[:6].upper()
            path = write_clinic(work / "clinic.csv", args.count, tag)
            before = proc.stats()["requests"]
            first = send(proc, path, work / "first.csv", env)
            first_requests = proc.stats()["requests"] - before
            before = proc.stats()["requests"]
            again = send(proc, path, work / "again.csv", env)
            again_requests = proc.stats()["requests"] - before
            booked = sum(1 for a in proc.bookings()["value"][0]["appointments"]
                         if a["customers"][0]["emailAddress"].startswith(tag.lower()))
    floor = math.ceil(args.count / 4) * args.latency / 1000
    figures = {"count": args.count, "latency_ms": args.latency, "first_run_s": round(first, 2),
               "floor_s": floor, "ratio_to_floor": round(first / floor, 2), "first_run_requests": first_requests,
               "rerun_s": round(again, 2), "rerun_requests": again_requests, "booked": booked}
    print(json.dumps(figures, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "bookings.json").write_text(json.dumps(figures, indent=2))
    return 0 if booked == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
