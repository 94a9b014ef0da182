"""The Appointments page's table: journal entries as rows a person reads, and labels for runs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from lib.bulk.journal import Entry
from lib.model.flows import BOOKINGS

TEAMS, BOOKINGS_KIND = "Teams meeting", "Bookings"
# Statuses whose links lead nowhere: deleted here, gone from the service (a 404 on refresh), cancelled.
DEAD = ("deleted", "gone", "cancelled")

COLUMNS = ["key", "start", "kind", "status", "clients", "subject", "clientJoinWebUrl", "joinWebUrl", "organizer", "run",
           "timeZone", "externalAppointmentId", "onlineMeetingId", "error"]


def local_start(entry: Entry) -> str:
    """The start in the appointment's own time zone, as ``2026-12-01 09:00``."""
    try:
        moment = datetime.fromisoformat(entry.start_utc.replace("Z", "+00:00")).astimezone(ZoneInfo(entry.time_zone))
    except (ValueError, KeyError):
        return entry.start_utc
    return moment.strftime("%Y-%m-%d %H:%M")


def clients_text(entry: Entry) -> str:
    names = [c.get("displayName") or c.get("emailAddress") or c.get("smsCapablePhoneNumber") or "" for c in entry.clients]
    return ", ".join(n for n in names if n) or "(no client)"


def entry_rows(entries: list[Entry]) -> list[dict]:
    """One row per appointment, in COLUMNS order."""
    return [{
        "key": e.key,
        "start": local_start(e),
        "kind": BOOKINGS_KIND if e.flow == BOOKINGS else TEAMS,
        "status": e.status,
        "clients": clients_text(e),
        "subject": e.subject,
        # A deleted, gone or cancelled appointment's links no longer work: nothing to click.
        "clientJoinWebUrl": "" if e.status in DEAD else e.client_join_web_url or "",
        "joinWebUrl": "" if e.status in DEAD else e.join_web_url or "",
        "organizer": "signed-in user" if e.organizer == "me" else e.organizer,
        "run": e.run_id or "",
        "timeZone": e.time_zone,
        "externalAppointmentId": e.external_appointment_id,
        "onlineMeetingId": e.meeting_id or "",
        "error": e.error or "",
    } for e in entries]


def of_kind(entries: list[Entry], kind: str) -> list[Entry]:
    """Only Teams meetings or only Bookings appointments (``kind`` "" keeps all)."""
    if not kind:
        return entries
    return [e for e in entries if (e.flow == BOOKINGS) == (kind == BOOKINGS_KIND)]


def table_key(rows: list[dict]) -> str:
    """The table's widget key: a new one whenever the rows or their order change.

    A table's selection is a row position; under a new key the selection starts again from
    ``selection_for``, so a re-sort never moves the tick onto another appointment.
    """
    digest = hashlib.sha1("\n".join(r["key"] for r in rows).encode("utf-8")).hexdigest()[:12]
    return f"ap_table_{digest}"


def selection_for(rows: list[dict], key: str | None) -> dict | None:
    """The table selection that ticks the appointment ``key`` (None when it is not in ``rows``)."""
    for position, row in enumerate(rows):
        if row["key"] == key:
            return {"selection": {"rows": [position], "columns": []}}
    return None


def selected_key(rows: list[dict], positions: list[int]) -> str | None:
    """The appointment a table selection points at, by its journal key."""
    if positions and 0 <= positions[0] < len(rows):
        return rows[positions[0]]["key"]
    return None


def entry_label(entry: Entry) -> str:
    """A heading for one appointment: when, who, what."""
    return f"{local_start(entry)} ({entry.time_zone}) · {clients_text(entry)} · {entry.subject}"


def run_label(run: dict) -> str:
    """``2026-11-24 05:10 · clients.csv · 48 created, 2 failed`` for a run from ``Journal.runs()``."""
    started = (run.get("started_at") or "").replace("T", " ").replace("Z", "")[:16]
    source = (run.get("source") or "").replace("\\", "/").rsplit("/", 1)[-1] or "designer"
    summary = run.get("summary") or {}
    parts = [f"{summary[k]:,} {k}" for k in ("created", "existing", "failed") if summary.get(k)]
    state = run.get("state")
    if state and state != "finished":
        parts.append(state)
    return " · ".join([started + " UTC", source] + ([", ".join(parts)] if parts else []))
