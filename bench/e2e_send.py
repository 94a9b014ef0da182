"""End to end, process start to exit (issue 12): `python -m lib send` vs the hand-written peer, and re-run cost.

    python bench/e2e_send.py                   # N = 300 and 1,000, sandbox --latency 100
    python bench/e2e_send.py --count 300 --repeat 3

For each N, on one sandbox started with --latency 100 and the delegated (device-code) profile:
  send   `python -m lib send FILE --connection PROFILE --flow join-link` (checks, journal, RESULTS.csv)
  peer   `python bench/peer_httpx.py FILE --connection PROFILE` (msal + httpx asyncio, $batch 20 × 8)
  sdk    `python bench/peer_sdk.py FILE --connection PROFILE` (msgraph-sdk, 16 in flight, no $batch), if installed
  rerun  `send` of the same file again: every row confirmed by Graph; HTTP requests counted by the sandbox.
Both sign in once beforehand (a warm-up run of 20 rows), so sign-in is cached for both as in daily use.
Each measured run uses new Appointment IDs (rows really created). Figures go to bench/results/e2e.json.
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
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.sandbox.process import start_sandbox_process  # noqa: E402

try:  # the official SDK peer runs when bench/requirements.txt is installed
    import msgraph  # noqa: F401
    HAVE_SDK = True
except ImportError:
    HAVE_SDK = False


def write_clients(path: Path, n: int, tag: str) -> Path:
    start = datetime(2027, 6, 1, 8, 0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone", "Appointment ID", "Date", "Time"])
        for i in range(n):
            when = start + timedelta(minutes=30 * i)
            writer.writerow([f"Client {i}", f"client{i}@example.com", f"+1 212 555 {1000 + i % 9000:04d}",
                             f"{tag}-{i:05d}", when.strftime("%Y-%m-%d"), when.strftime("%H:%M")])
    return path


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed, done


PEER_PYTHON = sys.executable  # main() points it at a venv holding only what the peer needs


def peer_python(given: str | None) -> str:
    """The interpreter the peer runs with: its own venv with only httpx and msal, as a script's author has.

    In this project's venv, `import httpx` also imports its command line (rich, click, pygments: ~70 ms),
    which Streamlit happens to install; the peer must not be slowed by what the app brought.
    """
    if given:
        return given
    venv = ROOT / "bench" / "results" / "peer-venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        print(f"creating {venv} (httpx + msal only) for the peer ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "httpx>=0.27", "msal>=1.28"], check=True)
    return str(python)


def commands(proc, work: Path, csv_path: Path, name: str) -> dict[str, list[str]]:
    return {
        "send": [sys.executable, "-m", "lib", "send", str(csv_path), "--connection", str(proc.profile_path),
                 "--flow", "join-link", "--out", str(work / f"{name}-send.csv")],
        "peer": [PEER_PYTHON, str(ROOT / "bench" / "peer_httpx.py"), str(csv_path), "--connection",
                 str(proc.profile_path), "--flow", "join-link", "--out", str(work / f"{name}-peer.csv")],
        **({"sdk": [sys.executable, str(ROOT / "bench" / "peer_sdk.py"), str(csv_path), "--connection",
                    str(proc.profile_path), "--out", str(work / f"{name}-sdk.csv")]} if HAVE_SDK else {}),
    }


def measure(proc, work: Path, env: dict, n: int, repeat: int) -> dict:
    who_runs = ("peer", "send", "sdk") if HAVE_SDK else ("peer", "send")
    figures: dict = {"rows": n, **{f"{who}_seconds": [] for who in who_runs}}
    for r in range(repeat):
        for who in who_runs:  # alternate, so none always runs on a warmer machine
            path = write_clients(work / f"{who}-{n}-{r}.csv", n, f"{who[0]}{uuid.uuid4().hex[:6]}")
            elapsed, _ = timed(commands(proc, work, path, f"{who}-{n}-{r}")[who], env)
            figures[f"{who}_seconds"].append(round(elapsed, 3))
    best_send, best_peer = min(figures["send_seconds"]), min(figures["peer_seconds"])
    figures["send_over_peer"] = round(best_send / best_peer, 2)
    if HAVE_SDK:
        figures["sdk_over_send"] = round(min(figures["sdk_seconds"]) / best_send, 2)
    # Re-run the last file `send` created: every row is confirmed by Graph, in batches.
    before = proc.stats()["requests"]
    elapsed, done = timed(commands(proc, work, path, f"rerun-{n}")["send"], env)
    figures["rerun_requests"] = proc.stats()["requests"] - before
    figures["rerun_ideal_requests"] = 2 * -(-n // 20)
    figures["rerun_seconds"] = round(elapsed, 3)
    figures["rerun_summary"] = done.stderr.strip().splitlines()[-1]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, action="append", help="rows (repeatable; default 300 and 1000)")
    parser.add_argument("--repeat", type=int, default=1, help="measured runs of each (the best is compared)")
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--peer-python", help="interpreter for the peer (default: a venv with httpx and msal only, "
                                              "made once in bench/results/peer-venv)")
    args = parser.parse_args()
    global PEER_PYTHON
    PEER_PYTHON = peer_python(args.peer_python)
    results: dict = {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "latency_ms": args.latency}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(work / "home"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules are cached after the warm-up
        with start_sandbox_process(work / "sandbox", latency=args.latency) as proc:
            warm = write_clients(work / "warm.csv", 20, f"w{uuid.uuid4().hex[:6]}")
            for cmd in commands(proc, work, warm, "warm").values():
                timed(cmd, env)  # sign in once (token caches), load the files into the OS cache
            for n in args.count or [300, 1000]:
                results[str(n)] = measure(proc, work, env, n, args.repeat)
                print(f"N={n}: {json.dumps(results[str(n)])}", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "e2e.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
