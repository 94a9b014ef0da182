"""The journal: a local SQLite record of every run, row, request outcome and created appointment.

Results survive a closed browser, a crash or a kill; a re-run reads the journal to do only what is
missing. Secrets and tokens are never written here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lib.model.appointment import Appointment

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    profile_key TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    flow TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    total INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'running',   -- running | finished | cancelled | interrupted
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS appointments (
    key TEXT PRIMARY KEY,                    -- profile key | organizer | meeting externalId
    profile_key TEXT NOT NULL,
    organizer TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL,
    external_appointment_id TEXT NOT NULL,
    run_id TEXT,
    rows TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL,
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    clients TEXT NOT NULL DEFAULT '[]',
    document TEXT NOT NULL,
    flow TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',  -- pending | created | existing | failed | deleted
    meeting_id TEXT,
    join_web_url TEXT,
    client_join_web_url TEXT,
    error TEXT,
    request_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_by_run ON appointments(run_id);
CREATE INDEX IF NOT EXISTS appointments_by_start ON appointments(profile_key, organizer, start_utc);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    run_id TEXT,
    appointment_key TEXT,
    step TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    request_id TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_appointment ON requests(appointment_key);
CREATE TABLE IF NOT EXISTS run_rows (
    run_id TEXT NOT NULL,
    row INTEGER NOT NULL,
    appointment_key TEXT,
    status TEXT NOT NULL,                    -- invalid rows are recorded here too
    error TEXT,
    PRIMARY KEY (run_id, row)
);
"""

DONE = ("created", "existing")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def appointment_key(profile_key: str, organizer: str, external_id: str) -> str:
    """Where an appointment lives: the same externalId under another organizer is another meeting."""
    return f"{profile_key}|{organizer}|{external_id}"


@dataclass(frozen=True)
class Entry:
    """One appointment as the journal knows it."""

    key: str
    profile_key: str
    organizer: str
    external_id: str
    external_appointment_id: str
    run_id: str | None
    rows: list[int]
    subject: str
    start_utc: str
    end_utc: str
    time_zone: str
    clients: list[dict]
    document: dict
    flow: str
    status: str
    meeting_id: str | None
    join_web_url: str | None
    client_join_web_url: str | None
    error: str | None
    request_id: str | None
    created_at: str
    updated_at: str

    @property
    def done(self) -> bool:
        return self.status in DONE and bool(self.meeting_id)

    def appointment(self) -> Appointment:
        """Rebuild the appointment that was sent."""
        return Appointment.from_document(self.document, organizer=self.organizer)


class Journal:
    """The SQLite journal; one per data folder, safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self):
        with self._lock:
            with self._db:
                yield self._db

    # -- runs -----------------------------------------------------------------------------------
    def start_run(self, *, profile_key: str, profile_name: str, flow: str, source: str, total: int) -> str:
        """Record a new run; returns its id."""
        run_id = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, started_at, profile_key, profile_name, flow, source, total) VALUES (?,?,?,?,?,?,?)",
                (run_id, now_iso(), profile_key, profile_name, flow, source, total),
            )
        return run_id

    def finish_run(self, run_id: str, state: str, summary: dict) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET finished_at=?, state=?, summary=? WHERE id=?",
                       (now_iso(), state, json.dumps(summary), run_id))

    def runs(self) -> list[dict]:
        """Every run, newest first; runs that never finished show as interrupted."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC").fetchall()
        result = []
        for r in rows:
            item = dict(r)
            item["summary"] = json.loads(item["summary"] or "{}")
            result.append(item)
        return result

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when no process runs them were killed or crashed."""
        with self._write() as db:
            return db.execute("UPDATE runs SET state='interrupted' WHERE state='running'").rowcount

    def record_rows(self, run_id: str, rows: list[tuple[int, str | None, str, str | None]]) -> None:
        """(row, appointment key, status, error) for each spreadsheet row of a run."""
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO run_rows (run_id, row, appointment_key, status, error) VALUES (?,?,?,?,?)",
                           [(run_id, *r) for r in rows])

    def run_rows(self, run_id: str) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM run_rows WHERE run_id=? ORDER BY row", (run_id,))]

    # -- appointments ---------------------------------------------------------------------------
    def get(self, key: str) -> Entry | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM appointments WHERE key=?", (key,)).fetchone()
        return _entry(row) if row else None

    def get_many(self, keys: list[str]) -> dict[str, Entry]:
        """Entries by key, for the keys the journal knows."""
        found: dict[str, Entry] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(f"SELECT * FROM appointments WHERE key IN ({marks})", chunk):
                    found[row["key"]] = _entry(row)
        return found

    def upsert_pending(self, run_id: str, profile_key: str, flow: str,
                       items: list[tuple[str, str, Appointment]]) -> None:
        """Record (key, organizer id, appointment) about to be sent; keeps what is already known about them."""
        stamp = now_iso()
        params = []
        for key, organizer, appt in items:
            params.append((
                key, profile_key, organizer, appt.meeting_external_id, appt.appointment_id, run_id,
                json.dumps(list(appt.source_rows)), appt.subject, utc_text(appt.start), utc_text(appt.end), appt.time_zone,
                json.dumps([c.to_graph() for c in appt.clients]), json.dumps(appt.to_document()), flow, stamp, stamp,
            ))
        with self._write() as db:
            db.executemany(
                """INSERT INTO appointments (key, profile_key, organizer, external_id, external_appointment_id, run_id,
                       rows, subject, start_utc, end_utc, time_zone, clients, document, flow, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, rows=excluded.rows,
                       subject=excluded.subject, start_utc=excluded.start_utc, end_utc=excluded.end_utc,
                       time_zone=excluded.time_zone, clients=excluded.clients, document=excluded.document,
                       flow=excluded.flow, updated_at=excluded.updated_at,
                       status=CASE WHEN appointments.status='deleted' THEN 'pending' ELSE appointments.status END""",
                params,
            )

    def update(self, key: str, **fields) -> None:
        """Set outcome fields of one appointment (status, meeting_id, join links, error, request_id)."""
        allowed = {"status", "meeting_id", "join_web_url", "client_join_web_url", "error", "request_id",
                   "subject", "start_utc", "end_utc", "document", "clients"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not journal fields: {sorted(unknown)}")
        fields["updated_at"] = now_iso()
        sets = ", ".join(f"{name}=?" for name in fields)
        with self._write() as db:
            db.execute(f"UPDATE appointments SET {sets} WHERE key=?", (*fields.values(), key))

    def log_request(self, *, run_id: str | None, key: str | None, step: str, method: str, path: str,
                    status: int | None, request_id: str | None, error: str | None = None) -> None:
        """One request's outcome (the path holds no secret: ids only)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO requests (at, run_id, appointment_key, step, method, path, status, request_id, error) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (now_iso(), run_id, key, step, method, path, status, request_id, error),
            )

    def requests_for(self, key: str) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(
                "SELECT * FROM requests WHERE appointment_key=? ORDER BY id", (key,))]

    def entries(self, *, run_id: str | None = None, status: str | None = None, organizer: str | None = None,
                start_from: str | None = None, start_to: str | None = None, profile_key: str | None = None,
                limit: int | None = None) -> list[Entry]:
        """Appointments matching every filter given, by start time."""
        where, params = [], []
        for column, value in (("run_id", run_id), ("status", status), ("organizer", organizer),
                              ("profile_key", profile_key)):
            if value is not None:
                where.append(f"{column}=?")
                params.append(value)
        if start_from:
            where.append("start_utc>=?")
            params.append(start_from)
        if start_to:
            where.append("start_utc<?")
            params.append(start_to)
        sql = "SELECT * FROM appointments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_utc, key"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return [_entry(r) for r in self._db.execute(sql, params)]

    def count_in_month(self, profile_key: str, organizer: str, month: str) -> int:
        """Meetings this organizer has through us in a calendar month (``YYYY-MM``, UTC)."""
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM appointments WHERE profile_key=? AND organizer=? AND status IN ('created','existing') "
                "AND substr(start_utc,1,7)=?", (profile_key, organizer, month)).fetchone()[0]

    def organizers(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT organizer FROM appointments ORDER BY 1")]


def utc_text(moment: datetime) -> str:
    """A time as the journal stores it: UTC, to the second, with Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(row: sqlite3.Row) -> Entry:
    data = dict(row)
    data["rows"] = json.loads(data["rows"] or "[]")
    data["clients"] = json.loads(data["clients"] or "[]")
    data["document"] = json.loads(data["document"] or "{}")
    return Entry(**data)


def default_journal_path() -> Path:
    """The journal in the user's data folder."""
    from lib.datafolder import studio_home
    return studio_home() / "journal.sqlite3"
