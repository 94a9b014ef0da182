"""Sandbox throughput: 16 client threads over HTTPS (keep-alive) against a 0-latency sandbox.

Mixes createOrGet, GET meeting and join-link requests for ~10 s and prints requests/s.
Usage: python bench/sandbox_throughput.py [--seconds 10] [--threads 16] [--flow app|delegated]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lib.sandbox import start_sandbox_process  # noqa: E402


def session(ca: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False          # REQUESTS_CA_BUNDLE would override verify
    s.verify = ca
    return s


def delegated_token(sb) -> str:
    p = sb.profile
    s = session(sb.ca_path)
    base = f"{p['authority']}/oauth2/v2.0"
    flow = s.post(f"{base}/devicecode", data={"client_id": p["client_id"], "scope": f"{sb.url}/.default"}).json()
    r = s.post(f"{base}/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                      "client_id": p["client_id"], "device_code": flow["device_code"]})
    return r.json()["access_token"]


def app_token(sb) -> str:
    a = sb.app_profile
    r = session(sb.ca_path).post(f"{a['authority']}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": a["client_id"], "client_secret": a["client_secret"],
        "scope": f"{sb.url}/.default"})
    return r.json()["access_token"]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, start_sandbox_process(tmp, auto_approve=True) as sb:
        token = delegated_token(sb)   # the join link is delegated-only, so use the device-code user
        root = f"{sb.url}/v1.0/me/onlineMeetings"
        counts = [0] * args.threads
        errors = [0] * args.threads
        stop = threading.Event()
        start_line = threading.Barrier(args.threads + 1)

        def worker(i: int) -> None:
            s = session(sb.ca_path)
            s.headers["Authorization"] = f"Bearer {token}"
            n = 0
            meeting_id = None
            start_line.wait()
            while not stop.is_set():
                step = n % 3
                if step == 0:
                    r = s.post(f"{root}/createOrGet", json={"externalId": f"bench-{i}-{n % 60}",
                                                            "subject": "Benchmark visit"})
                    if r.ok:
                        meeting_id = r.json()["id"]
                elif step == 1:
                    r = s.get(f"{root}/{meeting_id}")
                else:
                    r = s.get(f"{root}/{meeting_id}/getVirtualAppointmentJoinWebUrl")
                if r.status_code >= 400:
                    errors[i] += 1
                n += 1
                counts[i] = n

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.threads)]
        for t in threads:
            t.start()
        start_line.wait()
        server_cpu0, client_cpu0 = _cpu_seconds(sb.pid), time.process_time()
        t0 = time.perf_counter()
        time.sleep(args.seconds)
        stop.set()
        elapsed = time.perf_counter() - t0
        for t in threads:
            t.join()
        total = sum(counts)
        server_cpu = _cpu_seconds(sb.pid) - server_cpu0
        client_cpu = time.process_time() - client_cpu0
        print(f"{total / elapsed:.0f} requests/s ({total} requests, {sum(errors)} errors, "
              f"{args.threads} threads, {elapsed:.1f} s, server-side count {sb.stats()['requests']}; "
              f"CPU: server {server_cpu / elapsed:.0%}, clients {client_cpu / elapsed:.0%} of one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
