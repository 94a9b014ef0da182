"""Throttling waited out (issue 12): `python -m lib send` with no client options against `sandbox --rate-limit N`.

    python bench/throttled.py                  # N = 5 and 20, 200 rows each
    python bench/throttled.py --limits 20 --rows 100

For each N: a fresh sandbox limited to N Graph requests per second per app (a `$batch` item counts
as one, as Graph counts it), a fresh journal, and `send` run as a user runs it: no `--max-rate`,
no `--concurrency`. The virtual-appointment flow needs 2 requests per row, so the ideal time is
2 * rows / N seconds. Targets: every row created, exit 0, wall time (process start to exit) within
1.3x of the ideal, and under 25% of the requests answered 429, where requests = the 2 * rows that
were needed + the 429s (each 429 is one more request the server had to answer).
Figures are printed and written to bench/results/throttled.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.sandbox.process import start_sandbox_process  # noqa: E402
from e2e_send import write_clients as write_rows  # noqa: E402  (the same client file)


def one_limit(limit: int, rows: int, workdir: Path) -> dict:
    csv_path = write_rows(workdir / f"rows-{limit}.csv", rows, f"THR{limit}")
    out = workdir / f"results-{limit}.csv"
    env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(workdir / f"home-{limit}"))
    with start_sandbox_process(workdir / f"sb-{limit}", rate_limit=limit) as proc:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "lib", "send", str(csv_path), "--connection",
                               str(proc.profile_path), "--out", str(out)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=3600)
        elapsed = time.perf_counter() - started
        stats = proc.stats()
    with out.open(encoding="utf-8-sig", newline="") as handle:
        statuses = [r["status"] for r in csv.DictReader(handle)]
    needed = 2 * rows
    ideal = needed / limit
    throttled = stats.get("throttled", 0)
    figures = {"rate_limit": limit, "rows": rows, "exit_code": done.returncode,
               "created": statuses.count("created"), "meetings": stats.get("onlineMeetings"),
               "seconds": round(elapsed, 2), "ideal_seconds": round(ideal, 2),
               "ratio_to_ideal": round(elapsed / ideal, 3), "requests_needed": needed, "answered_429": throttled,
               "share_429": round(throttled / (needed + throttled), 3)}
    figures["met"] = (done.returncode == 0 and figures["created"] == rows and figures["ratio_to_ideal"] <= 1.3
                      and figures["share_429"] < 0.25)
    if done.returncode != 0:
        figures["stderr_tail"] = done.stderr[-1500:]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limits", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args()
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-throttled-") as tmp:
        for limit in args.limits:
            figures = one_limit(limit, args.rows, Path(tmp))
            print(json.dumps(figures), flush=True)
            results["runs"].append(figures)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "throttled.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["met"] for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
