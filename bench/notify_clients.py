"""Notification benchmark (issue 13): N appointments created, then every client emailed, against the sandbox.

    python bench/notify_clients.py                     # N=1000, --latency 100
    python bench/notify_clients.py --count 200 --faults lost=0.05,503=0.05

Floor: each client needs two dependent Outlook requests (create the draft, send it), each takes at least
the latency, and Outlook allows 4 concurrent requests per app and mailbox, so
    floor = 2 * latency * ceil(N / 4).
For N = 1,000 and latency 100 ms: 50 s. Figures are printed as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.bulk.journal import Journal  # noqa: E402
from lib.bulk.runner import Runner  # noqa: E402
from lib.graph.client import GraphClient  # noqa: E402
from lib.graph.pacing import Throttle  # noqa: E402
from lib.graph.profile import Profile  # noqa: E402
from lib.model.appointment import Appointment, Client  # noqa: E402
from lib.notify.access import token_provider  # noqa: E402
from lib.notify.ledger import Ledger  # noqa: E402
from lib.notify.notifier import Notifier, Target  # noqa: E402
from lib.sandbox.process import start_sandbox_process  # noqa: E402


def appointments(n: int) -> list[Appointment]:
    start = datetime(2027, 2, 1, 9, tzinfo=timezone.utc)
    return [Appointment(f"Bench {i}", start + timedelta(minutes=30 * i), start + timedelta(minutes=30 * i + 30),
                        time_zone="Europe/Berlin", clients=(Client(f"Client {i}", f"bench-{i}@example.com"),),
                        external_appointment_id=f"bench-{i:05d}", source_rows=(i + 2,)) for i in range(n)]


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp, start_sandbox_process(Path(tmp) / "sb", latency=args.latency) as proc:
        profile = Profile.load(proc.profile_path)
        tokens = token_provider(profile)
        tokens.get_token()   # sign-in is not part of the measured run
        client = GraphClient(profile, tokens, throttle=Throttle())
        journal_path = Path(tmp) / "journal.sqlite3"
        journal = Journal(journal_path)
        started = time.perf_counter()
        result = Runner(client, journal, flow="virtual-appointment").run(appointments(args.count))
        created_s = time.perf_counter() - started
        journal.close()
        if args.faults:
            proc.configure(faults=args.faults, seed=7)
        targets = [Target(o.key, o.appointment, o.client_join_web_url, o.organizer_id, o.appointment.source_rows)
                   for o in result.outcomes]
        notifier = Notifier(client, Ledger(journal_path), settle_seconds=0.5)
        notifier.organizer()
        started = time.perf_counter()
        outcomes = notifier.notify(targets)
        notify_s = time.perf_counter() - started
        proc.configure(faults=None)
        counts = Counter(a for m in proc.mail() for a in m["toRecipients"])
        floor = 2 * args.latency / 1000 * math.ceil(args.count / 4)
        return {"appointments": args.count, "latency_ms": args.latency, "faults": args.faults or None,
                "create_seconds": round(created_s, 2), "notify_seconds": round(notify_s, 2),
                "floor_seconds": round(floor, 2), "ratio_to_floor": round(notify_s / floor, 2),
                "statuses": dict(Counter(o.status for o in outcomes)),
                "clients_emailed": len(counts), "clients_emailed_twice": sum(1 for c in counts.values() if c > 1),
                "faults_injected": proc.stats()["faultsInjected"], "throttled_429": proc.stats()["throttled"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=100, help="sandbox latency in ms")
    parser.add_argument("--faults", default="", help="faults while notifying, e.g. lost=0.05,503=0.05")
    print(json.dumps(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
