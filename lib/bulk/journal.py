"""The journal: a local SQLite record of every run, row, request outcome and created appointment.

It is a record, not the truth: a re-run confirms every appointment with Graph and uses the journal
to tell created from existing, to keep the ids of meetings Graph no longer holds (``history``) and
not to text a client twice. Secrets and tokens are never written here.

The app and the command line may write one journal at once: WAL, a busy timeout, short
``BEGIN IMMEDIATE`` transactions retried while another process holds the write lock, and a file
lock only around opening (schema upgrade, or setting aside a corrupt or newer file).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lib.model.appointment import Appointment

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # PRAGMA user_version; 0 with tables is the first layout (no history, no sms_sent_for)
BUSY_TIMEOUT = 30.0
BUSY_RETRIES = 5

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
    updated_at TEXT NOT NULL,
    sms_sent_for TEXT                        -- the meeting id the clients were last texted about
);
CREATE INDEX IF NOT EXISTS appointments_by_run ON appointments(run_id);
CREATE INDEX IF NOT EXISTS appointments_by_month ON appointments(profile_key, organizer, start_utc, status);
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
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    appointment_key TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id TEXT,
    meeting_id TEXT,                         -- the meeting Graph no longer holds
    join_web_url TEXT,
    client_join_web_url TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_appointment ON history(appointment_key);
"""

# The quota count reads only this index (no table row per meeting); it also serves what the index on
# (profile_key, organizer, start_utc) did, which it replaces. No new version: a journal of version 2 is
# changed when opened, and an older app reads it as before.
MONTH_INDEX = ("CREATE INDEX IF NOT EXISTS appointments_by_month ON appointments(profile_key, organizer, start_utc, status);"
               "DROP INDEX IF EXISTS appointments_by_start")

# From the first layout (user_version 0) to version 2.
UPGRADE_FROM_1 = "ALTER TABLE appointments ADD COLUMN sms_sent_for TEXT;"

DONE = ("created", "existing", "updated")



def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """A run's id: its start time (readable, sortable) and 48 random bits."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:12]


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
    sms_sent_for: str | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE and bool(self.meeting_id)

    def appointment(self) -> Appointment:
        """Rebuild the appointment that was sent."""
        return Appointment.from_document(self.document, organizer=self.organizer)


class JournalError(Exception):
    """The journal cannot be used; the message says what to do."""


class Journal:
    """The SQLite journal; one per data folder, safe to share between threads and processes.

    ``notice`` holds a plain sentence when opening had to set the old file aside (corrupt, or
    written by a newer version of the app) and start a fresh journal beside it; else None.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.notice: str | None = None
        try:
            self._db = self._open(upgrade=False)  # the usual case: no lock needed, nothing to change
        except (_NeedsUpgrade, _NewerJournal, sqlite3.DatabaseError):
            from filelock import FileLock  # here: ~15 ms of imports a `send` of a current journal skips

            # Only one process upgrades a journal, or sets a broken one aside, while others wait.
            with FileLock(str(self.path) + ".lock", timeout=BUSY_TIMEOUT):
                self._db = self._open_or_set_aside()

    def _open_or_set_aside(self) -> sqlite3.Connection:
        try:
            return self._open()
        except _NewerJournal as exc:
            kept = _set_aside(self.path, f"v{exc.version}")
            self.notice = (f"The journal {self.path} was written by a newer version of Appointment Studio "
                           f"(journal version {exc.version}; this one reads up to {SCHEMA_VERSION}). It is kept as "
                           f"{kept.name}; a fresh journal was started. Update the app to see its history.")
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise JournalError(f"The journal {self.path} is busy in another program ({exc}). "
                                   "Close other Appointment Studio windows or commands and try again.") from None
            kept = _set_aside(self.path, "corrupt")
            self.notice = (f"The journal {self.path} could not be read ({exc}). It is kept as {kept.name}; a fresh "
                           "journal was started. Re-running a spreadsheet confirms its appointments with Graph, "
                           "so nothing is duplicated.")
        log.warning("%s", self.notice)
        return self._open()

    def _open(self, upgrade: bool = True) -> sqlite3.Connection:
        _private_file(self.path)
        db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _NewerJournal(version)
            if version < SCHEMA_VERSION and not upgrade:
                raise _NeedsUpgrade()
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: no fsync per commit, still crash-safe
            if version == SCHEMA_VERSION:
                db.executescript(MONTH_INDEX)  # a no-op once done
            if version < SCHEMA_VERSION:
                legacy = db.execute("SELECT 1 FROM sqlite_master WHERE name='appointments'").fetchone()
                db.execute("BEGIN IMMEDIATE")
                if legacy and version == 0:
                    db.execute(UPGRADE_FROM_1)
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, work):
        """Run ``work(db)`` in one short write transaction, retried while another process writes."""
        for attempt in range(BUSY_RETRIES + 1):
            with self._lock:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not _busy(exc) or attempt == BUSY_RETRIES:
                        raise self._busy_error(exc) from None
                else:
                    try:
                        result = work(self._db)
                        self._db.execute("COMMIT")
                        return result
                    except sqlite3.DatabaseError as exc:
                        if self._db.in_transaction:
                            self._db.execute("ROLLBACK")
                        raise self._damaged(exc) from None
                    except BaseException:
                        if self._db.in_transaction:
                            self._db.execute("ROLLBACK")
                        raise
            time.sleep(0.05 * 2 ** attempt)

    def _damaged(self, exc: sqlite3.DatabaseError) -> Exception:
        if isinstance(exc, sqlite3.IntegrityError):
            return exc  # a bug of ours, not a damaged file
        if _busy(exc):
            return self._busy_error(exc)
        return JournalError(f"The journal {self.path} could not be written ({exc}). If it is damaged, rename it "
                            "and run again: a fresh journal is started, and re-sending confirms every appointment "
                            "with Graph, so nothing is duplicated.")

    def _busy_error(self, exc: Exception) -> Exception:
        if not _busy(exc):
            return exc
        return JournalError(f"The journal {self.path} stayed locked by another program for too long. Close other "
                            "Appointment Studio windows or commands and run again: nothing done so far is lost.")

    # -- runs -----------------------------------------------------------------------------------
    def start_run(self, *, profile_key: str, profile_name: str, flow: str, source: str, total: int) -> str:
        """Record a new run; returns its id."""
        def insert(db: sqlite3.Connection) -> str:
            # Other windows or commands may start runs on this journal in the same second: the write lock is
            # held here, so an id already taken is seen and another is drawn.
            run_id = new_run_id()
            while db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone():
                run_id = new_run_id()
            db.execute("INSERT INTO runs (id, started_at, profile_key, profile_name, flow, source, total) "
                       "VALUES (?,?,?,?,?,?,?)", (run_id, now_iso(), profile_key, profile_name, flow, source, total))
            return run_id
        return self._tx(insert)

    def finish_run(self, run_id: str, state: str, summary: dict, total: int | None = None) -> None:
        """Close a run with its state (finished | cancelled), its counts and (when it changed) its total."""
        self._tx(lambda db: db.execute("UPDATE runs SET finished_at=?, state=?, summary=?, total=coalesce(?, total) "
                                       "WHERE id=?", (now_iso(), state, json.dumps(summary), total, run_id)))

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

    def last_pace(self, profile_key: str) -> dict | None:
        """The pace the newest run against this profile's tenant left (``Throttle.pace``), or None."""
        with self._lock:
            row = self._db.execute("SELECT summary FROM runs WHERE profile_key=? AND summary LIKE '%\"pace\"%' "
                                   "ORDER BY started_at DESC LIMIT 1", (profile_key,)).fetchone()
        try:
            pace = json.loads(row["summary"] or "{}").get("pace") if row else None
        except (ValueError, AttributeError):
            return None
        return pace if isinstance(pace, dict) else None

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when no process runs them were killed or crashed."""
        return self._tx(lambda db: db.execute("UPDATE runs SET state='interrupted' WHERE state='running'").rowcount)

    def record_rows(self, run_id: str, rows: list[tuple[int, str | None, str, str | None]]) -> None:
        """(row, appointment key, status, error) for each spreadsheet row of a run."""
        self._tx(lambda db: db.executemany(
            "INSERT OR REPLACE INTO run_rows (run_id, row, appointment_key, status, error) VALUES (?,?,?,?,?)",
            [(run_id, *r) for r in rows]))

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
        self.write(pending_statements(run_id, profile_key, flow, items))

    def update(self, key: str, **fields) -> None:
        """Set outcome fields of one appointment (status, meeting_id, join links, error, request_id)."""
        self.record(updates=[(key, fields)])

    def log_request(self, *, run_id: str | None, key: str | None, step: str, method: str, path: str,
                    status: int | None, request_id: str | None, error: str | None = None) -> None:
        """One request's outcome (the path holds no secret: ids only)."""
        self.record(requests=[dict(run_id=run_id, key=key, step=step, method=method, path=path, status=status,
                                   request_id=request_id, error=error)])

    def record(self, *, updates=(), requests=(), history=()) -> None:
        """Several outcomes in one short transaction: a batch's replies cost one commit, not one per row.

        ``updates``: (key, fields) as for ``update``; ``requests``: dicts of ``log_request``'s arguments;
        ``history``: dicts (key, run_id, meeting_id, join_web_url, client_join_web_url, reason).
        """
        self.write(record_statements(updates=updates, requests=requests, history=history))

    def write(self, statements: list[tuple[str, list | tuple, bool]]) -> None:
        """(sql, parameters, many) statements from ``pending_statements``/``record_statements``, in one transaction."""
        if statements:
            self._tx(lambda db: [db.executemany(sql, params) for sql, params in _grouped(statements)])

    def history(self, key: str) -> list[dict]:
        """Meetings this appointment had before, oldest first (ids Graph no longer held when re-sent)."""
        with self._lock:
            return [dict(r) for r in self._db.execute(
                "SELECT * FROM history WHERE appointment_key=? ORDER BY id", (key,))]

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

    def count_in_month(self, profile_key: str, organizer: str, month: str, *, at_most: int | None = None) -> int:
        """Meetings this organizer has through us in a calendar month (``YYYY-MM``, UTC).

        ``at_most``: stop counting there (a quota check needs no more, however large the journal grows).
        """
        year, number = int(month[:4]), int(month[5:7])
        following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
        with self._lock:  # a range on start_utc, so the index finds the month instead of reading every row
            return self._db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM appointments WHERE profile_key=? AND organizer=? "
                "AND start_utc >= ? AND start_utc < ? AND status IN ('created','existing','updated') LIMIT ?)",
                (profile_key, organizer, month, following, -1 if at_most is None else at_most)).fetchone()[0]

    def organizers(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT organizer FROM appointments ORDER BY 1")]


_UPDATABLE = {"status", "meeting_id", "join_web_url", "client_join_web_url", "error", "request_id", "subject",
              "start_utc", "end_utc", "document", "clients", "sms_sent_for"}


class _NeedsUpgrade(Exception):
    pass


class _NewerJournal(Exception):
    def __init__(self, version: int):
        super().__init__(version)
        self.version = version


def _busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _private_file(path: Path) -> None:
    """Create the journal readable by its owner only (SQLite gives its -wal and -shm files the same mode)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        if os.name == "posix":
            os.chmod(path, 0o600)
    except OSError:  # a file system without modes: nothing more to do
        pass


def _set_aside(path: Path, why: str) -> Path:
    """Rename the journal (and its -wal/-shm) out of the way; never delete it. Returns the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    os.replace(path, kept)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
    return kept


def pending_statements(run_id: str, profile_key: str, flow: str,
                       items: list[tuple[str, str, Appointment]]) -> list[tuple[str, list, bool]]:
    """The statements of ``Journal.upsert_pending``: built apart so a writer thread can join them with others."""
    if not items:
        return []
    stamp = now_iso()
    params = []
    for key, organizer, appt in items:
        params.append((
            key, profile_key, organizer, appt.meeting_external_id, appt.appointment_id, run_id,
            json.dumps(list(appt.source_rows)), appt.subject, utc_text(appt.start), utc_text(appt.end), appt.time_zone,
            json.dumps([c.to_graph() for c in appt.clients]), json.dumps(appt.to_document()), flow, stamp, stamp,
        ))
    return [("""INSERT INTO appointments (key, profile_key, organizer, external_id, external_appointment_id, run_id,
                       rows, subject, start_utc, end_utc, time_zone, clients, document, flow, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, rows=excluded.rows,
                       subject=excluded.subject, start_utc=excluded.start_utc, end_utc=excluded.end_utc,
                       time_zone=excluded.time_zone, clients=excluded.clients, document=excluded.document,
                       flow=excluded.flow, updated_at=excluded.updated_at,
                       status=CASE WHEN appointments.status='deleted' THEN 'pending' ELSE appointments.status END""",
             params, True)]


def check_fields(updates) -> None:
    """Refuse (``ValueError``) an update of a field the journal does not have."""
    for _, fields in updates:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not journal fields: {sorted(unknown)}")


def record_statements(*, updates=(), requests=(), history=()) -> list[tuple[str, tuple | list, bool]]:
    """The statements of ``Journal.record`` (unknown fields refused)."""
    check_fields(updates)
    stamp = now_iso()
    statements = []
    for key, fields in updates:
        fields = {**fields, "updated_at": stamp}
        statements.append((f"UPDATE appointments SET {', '.join(f'{n}=?' for n in fields)} WHERE key=?",
                           (*fields.values(), key), False))
    if requests:
        statements.append((
            "INSERT INTO requests (at, run_id, appointment_key, step, method, path, status, request_id, error) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [(stamp, r.get("run_id"), r.get("key"), r["step"], r["method"], r["path"], r.get("status"),
              r.get("request_id"), r.get("error")) for r in requests], True))
    if history:
        statements.append((
            "INSERT INTO history (appointment_key, at, run_id, meeting_id, join_web_url, client_join_web_url, reason) "
            "VALUES (?,?,?,?,?,?,?)",
            [(h["key"], stamp, h.get("run_id"), h.get("meeting_id"), h.get("join_web_url"),
              h.get("client_join_web_url"), h["reason"]) for h in history], True))
    return statements


def _grouped(statements: list[tuple[str, list | tuple, bool]]) -> list[tuple[str, list]]:
    """Consecutive statements with the same SQL as one ``executemany`` each, in the same order.

    A batch's replies update twenty rows with one statement shape: one call instead of twenty, and the
    writer thread holds the CPU (and Python's lock, which the senders wait for) that much less.
    """
    grouped: list[tuple[str, list]] = []
    for sql, params, many in statements:
        rows = params if many else [params]
        if grouped and grouped[-1][0] == sql:
            grouped[-1][1].extend(rows)
        else:
            grouped.append((sql, list(rows)))
    return grouped


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
