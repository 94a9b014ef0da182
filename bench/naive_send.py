"""The baseline: what a person would write first — requests + msal, one request after another.

Used by bench/bulk_send.py as comparison (a). It does the same requests as the product's flows
(createOrGet, then PUT virtualAppointment or GET the join link) with no batching, no parallelism.
"""

from __future__ import annotations

import json
import time
import uuid

import msal
import requests


def naive_send(profile: dict, meetings_and_appointments: list[tuple[dict, dict]], flow: str) -> float:
    """Send every appointment sequentially; returns the seconds it took."""
    base = profile["graph_base_url"].rstrip("/")
    verify = profile.get("ca_bundle") or True
    session = requests.Session()
    session.verify = verify
    session.trust_env = False  # this machine's REQUESTS_CA_BUNDLE would replace the sandbox CA
    if profile["auth"] == "client_credentials":
        app = msal.ConfidentialClientApplication(profile["client_id"], client_credential=profile["client_secret"],
                                                 authority=profile["authority"], http_client=session,
                                                 instance_discovery=False)
        token = app.acquire_token_for_client([f"{base}/.default"])["access_token"]
        user = f"/users/{profile['organizer']}"
    else:
        app = msal.PublicClientApplication(profile["client_id"], authority=profile["authority"], http_client=session,
                                           instance_discovery=False)
        flow_info = app.initiate_device_flow([f"{base}/OnlineMeetings.ReadWrite", f"{base}/VirtualAppointment.ReadWrite"])
        token = app.acquire_token_by_device_flow(flow_info)["access_token"]
        user = "/me"
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    for meeting, appointment in meetings_and_appointments:
        r = session.post(f"{base}/v1.0{user}/onlineMeetings/createOrGet", json=meeting,
                         headers={"client-request-id": str(uuid.uuid4())}, timeout=60)
        r.raise_for_status()
        meeting_id = requests.utils.quote(r.json()["id"], safe="")
        if flow == "virtual-appointment":
            r = session.put(f"{base}/beta{user}/onlineMeetings/{meeting_id}/virtualAppointment", json=appointment,
                            timeout=60)
        else:
            r = session.get(f"{base}/v1.0{user}/onlineMeetings/{meeting_id}/getVirtualAppointmentJoinWebUrl", timeout=60)
        r.raise_for_status()
        json.loads(r.content or b"{}")
    return time.perf_counter() - started
