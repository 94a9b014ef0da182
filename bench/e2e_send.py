"""End to end, process start to exit (issue 12): `python -m lib send` vs the hand-written peer, and re-run cost.

    python bench/e2e_send.py                   # N = 300 and 1,000, sandbox --latency 100
    python bench/e2e_send.py --count 300 --repeat 3

For each N, on one sandbox started with --latency 100 and the delegated (device-code) profile:
  send   `python -m lib send FILE --connection PROFILE --flow join-link` (checks, journal, RESULTS.csv)
  peer   `python bench/peer_httpx.py FILE --connection PROFILE` (msal + httpx asyncio, $batch 20 × 8)
  sdk    `python bench/peer_sdk.py FILE --connection PROFILE` (msgraph-sdk, 16 in flight, no $batch; --no-sdk skips)
  rerun  `send` of the same file again: every row confirmed by Graph; HTTP requests counted by the sandbox.
Run it from the README's venv: send uses this interpreter; each peer gets a venv of its own (bench/results/).
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

from days import monday_ahead  # noqa: E402
from lib.sandbox.process import start_sandbox_process  # noqa: E402

HAVE_SDK = True  # main() turns it off with --no-sdk


def write_clients(path: Path, n: int, tag: str) -> Path:
    start = monday_ahead(hour=8)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone", "Appointment ID", "Date", "Time"])
        for i in range(n):
            when = start + timedelta(minutes=30 * i)
            writer.writerow([f"Client {i}", f"client{i}@example.com", f"+1 212 555 {1000 + i % 9000:04d}",
                             f"{tag}-{i:05d}", when.strftime("%Y-%m-%d"), when.strftime("%H:%M")])
    return path


CLIENT_CPUS: set[int] | None = None  # main() sets it with --pin


def pin_server(pid: int) -> None:
    """Keep the sandbox (every thread of it) on the last CPU and the clients on the others, as Graph's own
    servers are not the client's machine: on 2 cores, a server sharing the client's CPU slows most the client
    that has more threads (send's senders, journal and results threads) than the asyncio peer."""
    global CLIENT_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    server, CLIENT_CPUS = {cpus[-1]}, set(cpus[:-1])
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), server)


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    pin = (lambda: os.sched_setaffinity(0, CLIENT_CPUS)) if CLIENT_CPUS else None
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, preexec_fn=pin)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed, done


PEER_PYTHON = SDK_PYTHON = sys.executable  # main() points them at venvs holding only what each peer needs


def own_venv(name: str, packages: list[str], given: str | None) -> str:
    """An interpreter with only ``packages`` (made once in bench/results/NAME), unless one is ``given``.

    Each program runs with what its own author would install: `send` with the project's requirements
    (run this script from the README's venv), the peers with theirs. In this project's venv `import httpx`
    also imports its command line (rich, click, pygments: ~70 ms), and msgraph-sdk brings msal-extensions,
    which MSAL then imports at sign-in (~80 ms): neither may slow the other side.
    """
    if given:
        return given
    venv = ROOT / "bench" / "results" / name
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        print(f"creating {venv} ({', '.join(packages)}) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return str(python)


def commands(proc, work: Path, csv_path: Path, name: str) -> dict[str, list[str]]:
    return {
        "send": [sys.executable, "-m", "lib", "send", str(csv_path), "--connection", str(proc.profile_path),
                 "--flow", "join-link", "--out", str(work / f"{name}-send.csv")],
        "peer": [PEER_PYTHON, str(ROOT / "bench" / "peer_httpx.py"), str(csv_path), "--connection",
                 str(proc.profile_path), "--flow", "join-link", "--out", str(work / f"{name}-peer.csv")],
        **({"sdk": [SDK_PYTHON, str(ROOT / "bench" / "peer_sdk.py"), str(csv_path), "--connection",
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
    parser.add_argument("--sdk-python", help="interpreter for the SDK peer (default: a venv with msgraph-sdk, made "
                                             "once in bench/results/sdk-venv)")
    parser.add_argument("--no-sdk", action="store_true", help="leave the (slow) official SDK peer out")
    parser.add_argument("--no-pin", action="store_true", help="let the sandbox and the clients share every CPU "
                                                            "(by default, where the OS allows, the sandbox gets a CPU of its own)")
    args = parser.parse_args()
    global PEER_PYTHON, SDK_PYTHON, HAVE_SDK
    PEER_PYTHON = own_venv("peer-venv", ["httpx>=0.27", "msal>=1.28"], args.peer_python)
    HAVE_SDK = not args.no_sdk
    if HAVE_SDK:
        SDK_PYTHON = own_venv("sdk-venv", ["msgraph-sdk>=1.5", "msal>=1.28"], args.sdk_python)
    results: dict = {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "latency_ms": args.latency}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, APPOINTMENT_STUDIO_HOME=str(work / "home"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules are cached after the warm-up
        with start_sandbox_process(work / "sandbox", latency=args.latency) as proc:
            pinned = not args.no_pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
            if pinned:
                pin_server(proc.pid)
            results["sandbox_on_its_own_cpu"] = pinned
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
