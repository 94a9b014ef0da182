"""Bookings tables in the sandbox's SQLite database: customers, appointments, emails the business sent.

Kept beside `state.State` (same connection, same transactions) so the Bookings surface owns its schema.
"""
from __future__ import annotations

import json
import time
from typing import Any

from ..state import State

SCHEMA = """
CREATE TABLE IF NOT EXISTS booking_customers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    resource TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS booking_appointments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    resource TEXT NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    cancellation_message TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS booking_appointments_slot ON booking_appointments (business_id, start_utc);
"""


class BookingsStore:
    """Row access for the Bookings tables; writes happen inside `state.write()`."""

    def __init__(self, state: State):
        self.state = state
        self.db = state.db
        with state.write():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)

    # -- customers ----------------------------------------------------------------------------
    def insert_customer(self, business_id: str, resource: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO booking_customers (business_id, id, resource, created_at) VALUES (?, ?, ?, ?)",
                        (business_id, resource["id"], json.dumps(resource), time.time()))

    def customers(self, business_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT resource FROM booking_customers WHERE business_id = ? ORDER BY seq",
                               (business_id,))
        return [json.loads(r["resource"]) for r in rows]

    def customer_exists(self, business_id: str, customer_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM booking_customers WHERE business_id = ? AND id = ?",
                               (business_id, customer_id)).fetchone() is not None

    # -- appointments ------------------------------------------------------------------------
    def insert_appointment(self, business_id: str, resource: dict[str, Any], start: str, end: str) -> None:
        self.db.execute(
            "INSERT INTO booking_appointments (business_id, id, start_utc, end_utc, resource, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (business_id, resource["id"], start, end, json.dumps(resource), time.time()))

    def update_appointment(self, appointment_id: str, resource: dict[str, Any], start: str, end: str) -> None:
        self.db.execute("UPDATE booking_appointments SET resource = ?, start_utc = ?, end_utc = ? WHERE id = ?",
                        (json.dumps(resource), start, end, appointment_id))

    def appointment(self, business_id: str, appointment_id: str) -> dict[str, Any] | None:
        """A live (not cancelled) appointment's resource."""
        row = self.db.execute("SELECT resource FROM booking_appointments WHERE business_id = ? AND id = ?"
                              " AND cancelled = 0", (business_id, appointment_id)).fetchone()
        return json.loads(row["resource"]) if row else None

    def appointments(self, business_id: str, start: str | None = None, end: str | None = None) -> list[dict]:
        """Live appointments in creation order; with start/end, those overlapping [start, end)."""
        sql, args = "SELECT resource FROM booking_appointments WHERE business_id = ? AND cancelled = 0", [business_id]
        if start is not None:
            sql += " AND start_utc < ? AND end_utc > ?"
            args += [end, start]
        rows = self.db.execute(sql + " ORDER BY seq", args)
        return [json.loads(r["resource"]) for r in rows]

    def cancel(self, appointment_id: str, message: str | None) -> None:
        self.db.execute("UPDATE booking_appointments SET cancelled = 1, cancellation_message = ? WHERE id = ?",
                        (message, appointment_id))

    def delete(self, appointment_id: str) -> None:
        self.db.execute("DELETE FROM booking_appointments WHERE id = ?", (appointment_id,))

    def all_appointments(self, business_id: str) -> list[dict[str, Any]]:
        """Every stored appointment, cancelled ones included (for inspection)."""
        rows = self.db.execute("SELECT resource, cancelled, cancellation_message FROM booking_appointments"
                               " WHERE business_id = ? ORDER BY seq", (business_id,))
        return [{**json.loads(r["resource"]), "cancelled": bool(r["cancelled"]),
                 "cancellationMessage": r["cancellation_message"]} for r in rows]
