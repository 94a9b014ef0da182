"""The notification ledger: which client was told about which appointment, and whether it is certain.

A notification is recorded as `pending` (with the id its draft will carry) **before** anything is sent,
so after a crash or a lost reply the next run knows to ask Graph whether that id already went out.
It lives in its own table of the journal's SQLite file (WAL, busy timeout), opened by path.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    appointment_key TEXT NOT NULL,          -- the journal's appointment key
    client_email TEXT NOT NULL,             -- lower case
    notification_id TEXT NOT NULL UNIQUE,   -- carried by the message as an extended property
    kind TEXT NOT NULL,                     -- request | update | cancel
    sequence INTEGER NOT NULL,              -- the .ics SEQUENCE sent
    status TEXT NOT NULL,                   -- pending | sent | failed
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    mailbox TEXT NOT NULL,                  -- /me or /users/{id}
    draft_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (appointment_key, client_email)
);
"""
PENDING, SENT, FAILED = "pending", "sent", "failed"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Notification:
    appointment_key: str
    client_email: str
    notification_id: str
    kind: str
    sequence: int
    status: str
    start_utc: str
    end_utc: str
    mailbox: str
    draft_id: str | None
    error: str | None
    created_at: str
    updated_at: str


class Ledger:
    """Notifications by (appointment key, client email); safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def get(self, appointment_key: str, client_email: str) -> Notification | None:
        """What is known about telling this client about this appointment, if anything."""
        with self._lock:
            row = self._db.execute("SELECT * FROM notifications WHERE appointment_key=? AND client_email=?",
                                   (appointment_key, client_email.lower())).fetchone()
        return Notification(**dict(row)) if row else None

    def for_appointment(self, appointment_key: str) -> list[Notification]:
        """Every client's notification for one appointment."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM notifications WHERE appointment_key=? ORDER BY client_email",
                                    (appointment_key,)).fetchall()
        return [Notification(**dict(r)) for r in rows]

    def begin(self, appointment_key: str, client_email: str, *, notification_id: str, kind: str, sequence: int,
              start_utc: str, end_utc: str, mailbox: str) -> None:
        """Record a notification as pending before it is sent (replacing what was known for this client)."""
        stamp = _now()
        with self._lock:
            self._db.execute(
                """INSERT INTO notifications (appointment_key, client_email, notification_id, kind, sequence, status,
                       start_utc, end_utc, mailbox, draft_id, error, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,NULL,NULL,?,?)
                   ON CONFLICT(appointment_key, client_email) DO UPDATE SET notification_id=excluded.notification_id,
                       kind=excluded.kind, sequence=excluded.sequence, status=excluded.status,
                       start_utc=excluded.start_utc, end_utc=excluded.end_utc, mailbox=excluded.mailbox,
                       draft_id=NULL, error=NULL, updated_at=excluded.updated_at""",
                (appointment_key, client_email.lower(), notification_id, kind, sequence, PENDING, start_utc, end_utc,
                 mailbox, stamp, stamp))

    def update(self, notification_id: str, **fields) -> None:
        """Set status, draft_id, error or the times of the message being sent."""
        unknown = set(fields) - {"status", "draft_id", "error", "start_utc", "end_utc"}
        if unknown:
            raise ValueError(f"not ledger fields: {sorted(unknown)}")
        fields["updated_at"] = _now()
        sets = ", ".join(f"{name}=?" for name in fields)
        with self._lock:
            self._db.execute(f"UPDATE notifications SET {sets} WHERE notification_id=?",
                             (*fields.values(), notification_id))
