"""Bulk creation benchmark (issue 5): speed, faults, rate limit and memory, against the sandbox.

    python bench/bulk_send.py                 # everything, N=1000
    python bench/bulk_send.py --only latency --count 300 --naive-count 100

Scenarios, each on a fresh sandbox and a fresh journal:
  latency  --latency 100: the product vs (a) bench/naive_send.py (sequential requests + msal) vs
           (b) the floor. Floor formula: every appointment needs two dependent requests, 2 * N in all,
           and C senders each keep one 20-item batch in flight (new rows' first steps and next steps of
           rows under way), so at best ceil(2 * N / (20 * C)) round trips: floor = latency * that.
  faults   --faults 429=0.05,503=0.05,504=0.03,reset=0.03,lost=0.05: zero duplicates and zero rows
           lost, counted through /_sandbox/meetings.
  rate     --rate-limit 20 with the client's ceiling at 20/s: 429s seen and time vs the minimum.
  memory   peak RSS of `python -m lib send` for 10,000 rows.
Figures are printed and written to bench/results/latest.json.
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
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from days import monday_ahead  # noqa: E402
from lib.model.appointment import Appointment, Client  # noqa: E402
from lib.graph.signin import token_provider_for  # noqa: E402
from lib.graph.client import GraphClient  # noqa: E402
from lib.graph.pacing import Throttle  # noqa: E402
from lib.bulk.journal import Journal  # noqa: E402
from lib.graph.profile import Profile  # noqa: E402
from lib.bulk.runner import Runner  # noqa: E402
from lib.sandbox.process import start_sandbox_process  # noqa: E402
from naive_send import naive_send  # noqa: E402

FLOWS = ("virtual-appointment", "join-link")
FAULTS = "429=0.05,503=0.05,504=0.03,reset=0.03,lost=0.05"


def make_appointments(n: int, tag: str) -> list[Appointment]:
    start = datetime(2027, 1, 4, 9, tzinfo=timezone.utc)
    return [Appointment(f"Bench {tag} {i}", start + timedelta(minutes=30 * i), start + timedelta(minutes=30 * i + 30),
                        clients=(Client(f"Client {i}", f"client{i}@example.com", "+12125550100"),),
                        external_appointment_id=f"{tag}-{i:05d}", source_rows=(i + 2,))
            for i in range(n)]


def product_run(proc, flow: str, appts: list[Appointment], workdir: Path, concurrency: int,
                max_rate: float | None = None):
    profile = Profile.load(proc.profile_path)
    tokens = token_provider_for(profile)
    tokens.get_token()  # sign-in is not part of the measured run
    client = GraphClient(profile, tokens, throttle=Throttle(max_per_second=max_rate))
    journal = Journal(workdir / f"journal-{flow}-{time.time_ns()}.sqlite3")
    runner = Runner(client, journal, flow=flow, concurrency=concurrency)
    started = time.perf_counter()
    result = runner.run(appts)
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed, result, client


def latency_scenario(args, workdir: Path) -> dict:
    figures = {}
    latency_s = args.latency / 1000
    with start_sandbox_process(workdir / "sb-latency", latency=args.latency) as proc:
        for flow in FLOWS:
            appts = make_appointments(args.count, f"lat-{flow}")
            elapsed, result, _ = product_run(proc, flow, appts, workdir, args.concurrency)
            naive_appts = make_appointments(args.naive_count, f"naive-{flow}")
            naive_s = naive_send(proc.profile, [(a.meeting_body(), a.virtual_appointment_body()) for a in naive_appts], flow)
            naive_full = naive_s * args.count / args.naive_count
            waves = math.ceil(2 * args.count / (20 * args.concurrency))  # round trips at best
            floor = latency_s * waves
            figures[flow] = {
                "appointments": args.count, "seconds": round(elapsed, 2),
                "done": sum(o.status in ("created", "existing") for o in result.outcomes),
                "naive_seconds": round(naive_full, 1), "naive_measured_on": args.naive_count,
                "speedup_vs_naive": round(naive_full / elapsed, 1),
                "floor_seconds": round(latency_s, 3), "waves": waves, "floor_x_waves": round(floor, 2),
                "ratio_to_floor_x_waves": round(elapsed / floor, 2),
            }
            print(f"latency {flow}: {figures[flow]}", flush=True)
    return figures


def count_duplicates(proc, prefix: str) -> tuple[int, int]:
    meetings = proc.meetings()
    meetings = meetings["value"] if isinstance(meetings, dict) else meetings
    ids = Counter(m["externalId"] for m in meetings if (m.get("externalId") or "").startswith(prefix))
    return len(ids), sum(c - 1 for c in ids.values())


def faults_scenario(args, workdir: Path) -> dict:
    figures = {}
    with start_sandbox_process(workdir / "sb-faults", faults=FAULTS, seed=7) as proc:
        for flow in FLOWS:
            tag = f"flt-{flow}"
            appts = make_appointments(args.count, tag)
            elapsed, result, client = product_run(proc, flow, appts, workdir, args.concurrency)
            failed = sum(o.status == "failed" for o in result.outcomes)
            distinct, duplicates = count_duplicates(proc, tag)
            figures[flow] = {
                "appointments": args.count, "seconds": round(elapsed, 2), "failed_first_run": failed,
                "meetings": distinct, "duplicates": duplicates, "rows_lost": args.count - distinct,
                "client_throttled": getattr(client.throttle, "throttled", None),
                "faults_injected": proc.stats().get("faultsInjected"),
            }
            print(f"faults {flow}: {figures[flow]}", flush=True)
    return figures


def rate_scenario(args, workdir: Path) -> dict:
    n = args.rate_count
    with start_sandbox_process(workdir / "sb-rate", rate_limit=20) as proc:
        elapsed, result, client = product_run(proc, "virtual-appointment", make_appointments(n, "rate"), workdir,
                                              args.concurrency, max_rate=20)
        requests_needed = 2 * n
        minimum = max(0.0, (requests_needed - 20) / 20)
        figures = {"appointments": n, "requests": requests_needed, "seconds": round(elapsed, 2),
                   "minimum_seconds": round(minimum, 2), "ratio_to_minimum": round(elapsed / minimum, 2),
                   "throttled_429": proc.stats().get("throttled"),
                   "done": sum(o.status in ("created", "existing") for o in result.outcomes)}
    print(f"rate: {figures}", flush=True)
    return figures


def memory_scenario(args, workdir: Path) -> dict:
    rows = args.memory_rows
    path = workdir / "memory.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone"])
        for i in range(rows):
            writer.writerow([f"Client {i}", f"client{i}@example.com", "+1 212 555 0100"])
    with start_sandbox_process(workdir / "sb-memory") as proc:
        env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(workdir / "home-memory"))
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "lib", "send", str(path), "--connection", str(proc.profile_path),
                                  "--out", str(workdir / "memory-results.csv"), "--start", f"{monday_ahead(hour=8):%Y-%m-%dT%H:%M}",
                                  "--duration", "15"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        peak_kb = 0
        while child.poll() is None:  # VmHWM is the kernel's own high-water mark of this process's RSS
            peak_kb = max(peak_kb, _vm_hwm_kb(child.pid))
            time.sleep(0.02)
        stderr = child.stderr.read()
        elapsed = time.perf_counter() - started
        peak_mb = peak_kb / 1024
        meetings = proc.stats().get("onlineMeetings")
        done = subprocess.CompletedProcess(child.args, child.returncode, "", stderr)
    figures = {"rows": rows, "exit_code": done.returncode, "seconds": round(elapsed, 1),
               "peak_rss_mb": round(peak_mb, 1), "meetings": meetings}
    if done.returncode:
        figures["stderr_tail"] = done.stderr[-500:]
    print(f"memory: {figures}", flush=True)
    return figures


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("latency", "faults", "rate", "memory"), action="append")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--naive-count", type=int, default=1000, help="appointments the naive script sends (scaled to --count)")
    parser.add_argument("--rate-count", type=int, default=200)
    parser.add_argument("--memory-rows", type=int, default=10000)
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    chosen = args.only or ["latency", "faults", "rate", "memory"]
    scenarios = {"latency": latency_scenario, "faults": faults_scenario, "rate": rate_scenario, "memory": memory_scenario}
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
               "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        os.environ["APPOINTMENT_STUDIO_HOME"] = str(Path(tmp) / "home")
        for name in chosen:
            results[name] = scenarios[name](args, Path(tmp))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
