"""SQL for mailboxes: messages by folder, the log of sent mail, calendar events (tables live in state.py)."""
from __future__ import annotations

import json
import time
from typing import Any

from ..state import State


class MailStore:
    """Reads and writes over the sandbox's SQLite connection; writes go inside `state.write()`."""

    def __init__(self, state: State):
        self.state = state
        self.db = state.db

    # -- messages in folders ------------------------------------------------------------------
    def insert_item(self, mailbox: str, folder: str, resource: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO mail_items (id, mailbox, folder, resource, created_at) VALUES (?, ?, ?, ?, ?)",
                        (resource["id"], mailbox, folder, json.dumps(resource), time.time()))

    def item(self, mailbox: str, item_id: str) -> tuple[str, dict[str, Any]] | None:
        """(folder, resource) of a message in this mailbox."""
        row = self.db.execute("SELECT folder, resource FROM mail_items WHERE mailbox = ? AND id = ?",
                              (mailbox, item_id)).fetchone()
        return None if row is None else (row["folder"], json.loads(row["resource"]))

    def delete_item(self, item_id: str) -> None:
        self.db.execute("DELETE FROM mail_items WHERE id = ?", (item_id,))

    def items(self, mailbox: str, folder: str | None) -> list[dict[str, Any]]:
        """Messages newest first (as Outlook lists them)."""
        if folder is None:
            rows = self.db.execute("SELECT resource FROM mail_items WHERE mailbox = ? ORDER BY seq DESC",
                                   (mailbox,))
        else:
            rows = self.db.execute("SELECT resource FROM mail_items WHERE mailbox = ? AND folder = ? "
                                   "ORDER BY seq DESC", (mailbox, folder))
        return [json.loads(r["resource"]) for r in rows]

    # -- the outside world's view: every message that left a mailbox ----------------------------
    def log_sent(self, mailbox: str, message: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO mail_sent (id, mailbox, resource, sent_at) VALUES (?, ?, ?, ?)",
                        (message["id"], mailbox, json.dumps(message), time.time()))
        self.state.bump("mailSent")

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(r["resource"]) for r in self.db.execute("SELECT resource FROM mail_sent ORDER BY seq")]

    # -- calendar events ----------------------------------------------------------------------
    def insert_event(self, mailbox: str, resource: dict[str, Any], transaction_id: str | None) -> None:
        self.db.execute("INSERT INTO calendar_events (id, mailbox, transaction_id, resource, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (resource["id"], mailbox, transaction_id, json.dumps(resource), time.time()))
        self.state.bump("events")

    def event(self, mailbox: str, event_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT resource FROM calendar_events WHERE mailbox = ? AND id = ?",
                              (mailbox, event_id)).fetchone()
        return None if row is None else json.loads(row["resource"])

    def event_by_transaction(self, mailbox: str, transaction_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT resource FROM calendar_events WHERE mailbox = ? AND transaction_id = ? "
                              "ORDER BY seq LIMIT 1", (mailbox, transaction_id)).fetchone()
        return None if row is None else json.loads(row["resource"])

    def update_event(self, event_id: str, resource: dict[str, Any]) -> None:
        self.db.execute("UPDATE calendar_events SET resource = ? WHERE id = ?", (json.dumps(resource), event_id))

    def delete_event(self, event_id: str) -> None:
        self.db.execute("DELETE FROM calendar_events WHERE id = ?", (event_id,))

    def events(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        if mailbox is None:
            rows = self.db.execute("SELECT mailbox, resource FROM calendar_events ORDER BY seq")
        else:
            rows = self.db.execute("SELECT mailbox, resource FROM calendar_events WHERE mailbox = ? ORDER BY seq",
                                   (mailbox,))
        return [json.loads(r["resource"]) for r in rows]

    def event_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM calendar_events").fetchone()[0]
