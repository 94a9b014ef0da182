"""The official SDK peer (issue 12): msgraph-sdk for Python, 16 requests in flight, no `$batch`.

    python bench/peer_sdk.py clients.csv --connection PROFILE.json [--out sdk.csv]

What a Python user writes with Microsoft's own SDK: createOrGet, then getVirtualAppointmentJoinWebUrl,
per row, with 16 rows in flight (asyncio). It does not batch: msgraph-core 1.5.2's `$batch` returns
`body=None` for JSON item bodies (msgraph-sdk-python-core #835). Same CSV and sign-in as
`peer_httpx.py`; bench-only (`pip install -r bench/requirements.txt`).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import ssl
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as sdk_options
from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (
    CreateOrGetPostRequestBody)
from msgraph_core import GraphClientFactory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_httpx import sign_in  # noqa: E402

IN_FLIGHT = 16


def client_for(profile: dict, token: str) -> GraphServiceClient:
    tls = ssl.create_default_context(cafile=profile["ca_bundle"]) if profile.get("ca_bundle") else True
    http = httpx.AsyncClient(verify=tls, trust_env=False, headers={"Authorization": f"Bearer {token}"},
                             timeout=60, limits=httpx.Limits(max_connections=IN_FLIGHT))
    # The SDK's own middleware, with its own options (they turn /users/me-token-to-replace into /me).
    http = GraphClientFactory.create_with_default_middleware(client=http, options=sdk_options)
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
    adapter.base_url = profile["graph_base_url"].rstrip("/") + "/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def one(client, gate, row: dict, organizer: str | None) -> dict:
    start = datetime.fromisoformat(f"{row['Date']}T{row['Time']}").replace(tzinfo=timezone.utc)
    body = CreateOrGetPostRequestBody(external_id=row["Appointment ID"], subject="Virtual appointment",
                                      start_date_time=start, end_date_time=start + timedelta(minutes=30))
    meetings = client.me.online_meetings if organizer is None else \
        client.users.by_user_id(organizer).online_meetings
    async with gate:
        meeting = await meetings.create_or_get.post(body)
        link = await meetings.by_online_meeting_id(meeting.id).get_virtual_appointment_join_web_url.get()
    return {"id": row["Appointment ID"], "onlineMeetingId": meeting.id, "joinWebUrl": meeting.join_web_url,
            "clientJoinWebUrl": link.value if link else ""}


async def run(rows: list[dict], profile: dict, token: str) -> list[dict]:
    client = client_for(profile, token)
    organizer = None if profile["auth"] == "device_code" else profile["organizer"]
    gate = asyncio.Semaphore(IN_FLIGHT)
    return await asyncio.gather(*(one(client, gate, row, organizer) for row in rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--connection", required=True)
    parser.add_argument("--out", default="sdk-results.csv")
    args = parser.parse_args()
    profile = json.loads(Path(args.connection).read_text())
    with open(args.file, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    token = sign_in(profile, Path(args.connection).with_suffix(".peer-cache.json"))
    results = asyncio.run(run(rows, profile, token))
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
