"""Durable sandbox state in SQLite: meetings, appointments, SMS, mail, events, issued tokens, counters.

All access happens on the server's event-loop thread in short synchronous calls, so one
request's read-check-write never interleaves with another's; BEGIN IMMEDIATE also guards
against a second process opening the same folder.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

DB_FILE = "sandbox.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meetings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    organizer_id TEXT NOT NULL,
    external_id TEXT,
    join_web_url TEXT NOT NULL,
    join_meeting_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    appointment TEXT,
    appointment_etag TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS meetings_external ON meetings (tenant_id, organizer_id, external_id);
CREATE INDEX IF NOT EXISTS meetings_join_url ON meetings (join_web_url);
CREATE INDEX IF NOT EXISTS meetings_join_id ON meetings (join_meeting_id);
CREATE TABLE IF NOT EXISTS sms (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS mail_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    resource TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mail_items_folder ON mail_items (mailbox, folder);
CREATE TABLE IF NOT EXISTS mail_sent (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    resource TEXT NOT NULL,
    sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS calendar_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    mailbox TEXT NOT NULL,
    transaction_id TEXT,
    resource TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calendar_events_tx ON calendar_events (mailbox, transaction_id);
CREATE TABLE IF NOT EXISTS tokens (
    jti TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS access_policies (
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    granted INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
"""


class State:
    """The sandbox's SQLite database (WAL) in the data folder."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / DB_FILE
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self._lock = threading.RLock()
        with self.write():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all or nothing."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")

    # -- counters and meta -------------------------------------------------------------------
    def bump(self, name: str, n: int = 1) -> None:
        """Add n to a lifetime counter; call inside write()."""
        self.db.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
                        (name, n, n))

    def counters(self) -> dict[str, int]:
        return {r["name"]: r["value"] for r in self.db.execute("SELECT name, value FROM counters")}

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- meetings ---------------------------------------------------------------------------
    def insert_meeting(self, row: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO meetings (id, tenant_id, organizer_id, external_id, join_web_url, join_meeting_id,"
            " resource, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row["id"], row["tenant_id"], row["organizer_id"], row["external_id"], row["join_web_url"],
             row["join_meeting_id"], json.dumps(row["resource"]), time.time()))

    def meeting(self, meeting_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM meetings WHERE id = ?", (meeting_id,)).fetchone()

    def meeting_by_external_id(self, tenant_id: str, organizer_id: str, external_id: str) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM meetings WHERE tenant_id = ? AND organizer_id = ? AND external_id = ?"
            " ORDER BY seq LIMIT 1", (tenant_id, organizer_id, external_id)).fetchone()

    def meetings_where(self, column: str, value: str) -> list[sqlite3.Row]:
        assert column in ("join_web_url", "join_meeting_id")
        return self.db.execute(f"SELECT * FROM meetings WHERE {column} = ? ORDER BY seq", (value,)).fetchall()

    def all_meetings(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM meetings ORDER BY seq").fetchall()

    def update_meeting(self, meeting_id: str, resource: dict[str, Any]) -> None:
        self.db.execute("UPDATE meetings SET resource = ? WHERE id = ?", (json.dumps(resource), meeting_id))

    def delete_meeting(self, meeting_id: str) -> None:
        self.db.execute("DELETE FROM meetings WHERE id = ?", (meeting_id,))

    def set_appointment(self, meeting_id: str, appointment: dict[str, Any] | None, etag: str | None) -> None:
        self.db.execute("UPDATE meetings SET appointment = ?, appointment_etag = ? WHERE id = ?",
                        (json.dumps(appointment) if appointment is not None else None, etag, meeting_id))

    def appointment_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM meetings WHERE appointment IS NOT NULL").fetchone()[0]

    # -- SMS --------------------------------------------------------------------------------
    def record_sms(self, meeting_id: str, kind: str, body: dict[str, Any], recipients: int) -> None:
        self.db.execute("INSERT INTO sms (meeting_id, kind, body, recipients, sent_at) VALUES (?, ?, ?, ?, ?)",
                        (meeting_id, kind, json.dumps(body), recipients, time.time()))

    # -- tokens -----------------------------------------------------------------------------
    def record_token(self, jti: str, kind: str, client_id: str, subject: str | None,
                     issued_at: float, expires_at: float) -> None:
        self.db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?)",
                        (jti, kind, client_id, subject, issued_at, expires_at))

    def token_known(self, jti: str) -> bool:
        return self.db.execute("SELECT 1 FROM tokens WHERE jti = ?", (jti,)).fetchone() is not None

    def add_refresh_token(self, token: str, client_id: str, user_id: str, scopes: str) -> None:
        self.db.execute("INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?)",
                        (token, client_id, user_id, scopes, time.time()))

    def refresh_token(self, token: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM refresh_tokens WHERE token = ?", (token,)).fetchone()

    # -- application access policies ----------------------------------------------------------
    def access_policy(self, client_id: str, user_id: str) -> bool | None:
        row = self.db.execute("SELECT granted FROM access_policies WHERE client_id = ? AND user_id = ?",
                              (client_id, user_id.lower())).fetchone()
        return None if row is None else bool(row["granted"])

    def set_access_policy(self, client_id: str, user_id: str, granted: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO access_policies VALUES (?, ?, ?)",
                        (client_id, user_id.lower(), int(granted)))
