"""The fast peer (issue 12): what a skilled Python engineer writes by hand with msal + httpx asyncio.

    python bench/peer_httpx.py clients.csv --connection PROFILE.json [--flow join-link] [--out peer.csv]

Reads the CSV (Name, Email, Phone, Appointment ID, Date, Time; times in UTC), signs in with msal (token
cache in a file beside the profile), sends createOrGet in `$batch` chunks of 20 with 8 chunks in flight,
then the join link (or PUT virtualAppointment) for the meetings it got, honours Retry-After on
throttled items, and writes a results CSV. No row checks, no journal: the bare minimum, done well.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import msal

CHUNK, IN_FLIGHT = 20, 8


def sign_in(profile: dict, cache_file: Path) -> str:
    cache = msal.SerializableTokenCache()
    if cache_file.exists():
        cache.deserialize(cache_file.read_text())
    http = httpx.Client(verify=profile.get("ca_bundle") or True)
    base = profile["graph_base_url"].rstrip("/")
    common = dict(authority=profile["authority"], token_cache=cache, instance_discovery=False, http_client=http)
    if profile["auth"] == "client_credentials":
        app = msal.ConfidentialClientApplication(profile["client_id"], client_credential=profile["client_secret"], **common)
        result = app.acquire_token_for_client([f"{base}/.default"])
    else:
        app = msal.PublicClientApplication(profile["client_id"], **common)
        scopes = [f"{base}/OnlineMeetings.ReadWrite", f"{base}/VirtualAppointment.ReadWrite"]
        accounts = app.get_accounts()
        result = app.acquire_token_silent(scopes, account=accounts[0]) if accounts else None
        if not result:
            flow = app.initiate_device_flow(scopes)
            print(flow["message"], file=sys.stderr)
            result = app.acquire_token_by_device_flow(flow)
    if cache.has_state_changed:
        cache_file.write_text(cache.serialize())
    return result["access_token"]


def bodies(row: dict) -> tuple[dict, dict]:
    start = datetime.fromisoformat(f"{row['Date']}T{row['Time']}")
    meeting = {"externalId": row["Appointment ID"], "subject": "Virtual appointment",
               "startDateTime": start.isoformat() + "Z", "endDateTime": (start + timedelta(minutes=30)).isoformat() + "Z"}
    appointment = {"appointmentClients": [{"displayName": row["Name"], "emailAddress": row["Email"],
                                           "phone": row["Phone"]}], "externalAppointmentId": row["Appointment ID"]}
    return meeting, appointment


async def batch(http: httpx.AsyncClient, version: str, items: dict[str, dict]) -> dict[str, dict]:
    """POST one $batch; throttled or unavailable items go again after their Retry-After."""
    replies: dict[str, dict] = {}
    while items:
        r = await http.post(f"/{version}/$batch", json={"requests": [{"id": k, **v} for k, v in items.items()]})
        r.raise_for_status()
        retry, wait = {}, 0.0
        for reply in r.json()["responses"]:
            if reply["status"] in (429, 503, 504):
                retry[reply["id"]] = items[reply["id"]]
                wait = max(wait, float((reply.get("headers") or {}).get("Retry-After", 1)))
            else:
                replies[reply["id"]] = reply
        items = retry
        if items:
            await asyncio.sleep(wait)
    return replies


async def one_chunk(http, gate, rows, flow, user) -> list[dict]:
    async with gate:
        made = await batch(http, "v1.0", {str(i): {"method": "POST", "url": f"{user}/onlineMeetings/createOrGet",
                                                   "headers": {"Content-Type": "application/json"},
                                                   "body": bodies(row)[0]} for i, row in enumerate(rows)})
        ids = {k: v["body"]["id"] for k, v in made.items() if v["status"] in (200, 201)}
        if flow == "join-link":
            second = {k: {"method": "GET", "url": f"{user}/onlineMeetings/{quote(m, safe='')}/getVirtualAppointmentJoinWebUrl"}
                      for k, m in ids.items()}
        else:
            second = {k: {"method": "PUT", "url": f"{user}/onlineMeetings/{quote(m, safe='')}/virtualAppointment",
                          "headers": {"Content-Type": "application/json"}, "body": bodies(rows[int(k)])[1]}
                      for k, m in ids.items()}
        links = await batch(http, "v1.0" if flow == "join-link" else "beta", second)
    out = []
    for i, row in enumerate(rows):
        k, link = str(i), links.get(str(i), {})
        body = link.get("body") or {}
        out.append({"id": row["Appointment ID"], "status": made[k]["status"], "onlineMeetingId": ids.get(k, ""),
                    "joinWebUrl": (made[k].get("body") or {}).get("joinWebUrl", ""),
                    "clientJoinWebUrl": body.get("value") or body.get("appointmentClientJoinWebUrl", "")})
    return out


async def run(rows, profile, token, flow) -> list[dict]:
    user = "/me" if profile["auth"] == "device_code" else f"/users/{quote(profile['organizer'], safe='')}"
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(base_url=profile["graph_base_url"].rstrip("/"), verify=profile.get("ca_bundle") or True,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60, trust_env=False,
                                 limits=httpx.Limits(max_connections=IN_FLIGHT)) as http:
        chunks = [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]
        done = await asyncio.gather(*(one_chunk(http, gate, c, flow, user) for c in chunks))
    return [line for chunk in done for line in chunk]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--connection", required=True)
    parser.add_argument("--flow", choices=("join-link", "virtual-appointment"), default="join-link")
    parser.add_argument("--out", default="peer-results.csv")
    args = parser.parse_args()
    profile = json.loads(Path(args.connection).read_text())
    with open(args.file, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    token = sign_in(profile, Path(args.connection).with_suffix(".peer-cache.json"))
    results = asyncio.run(run(rows, profile, token, args.flow))
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    created = sum(r["status"] in (200, 201) and bool(r["clientJoinWebUrl"]) for r in results)
    print(f"{created} of {len(rows)} appointments with a join link", file=sys.stderr)
    return 0 if created == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
