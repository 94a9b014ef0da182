"""Bulk booking through Microsoft Bookings: exactly once, without an idempotency key.

Bookings has no key that makes a create safe to repeat, and a create can fail after booking the
slot. So, for each appointment:

1. the journal knows its booking: GET it (Graph is the truth). Still there → ``existing`` (PATCHed
   and ``updated`` when the row's times changed); gone → its id goes to the journal's history and
   the appointment is booked again;
2. otherwise the run's ``calendarView`` (read once for the whole run) is searched for the same
   service, start and customer: a booking made by an earlier attempt whose reply was lost is found
   there and reported, never made twice;
3. otherwise the attempt is written to the journal, then the POST is sent. After an unknown outcome
   (lost reply, 5xx, timeout) the slot is looked up again before another attempt.

At most four requests are in flight (Bookings' limit per app and booking mailbox); the shared
retry and pacing policy of the Graph client applies on top.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Callable

from lib.bulk.journal import Journal, appointment_key
from lib.bulk.runner import DONE, TICK, Outcome, Progress, RunResult
from lib.graph.bookings import list_all
from lib.graph.client import GraphClient
from lib.graph.errors import GraphError
from lib.model.appointment import Appointment
from lib.model.bookings import (BOOKINGS, BookingsTarget, calendar_view_spec, create_spec, differs, find_booking,
                                get_spec, links, rule_problems, update_spec)
from lib.model.flows import RequestSpec

MAX_IN_FLIGHT = 4      # Bookings: 4 concurrent requests per app + booking mailbox
MAX_ATTEMPTS = 3       # creates tried after unknown outcomes (each after a look-up found nothing)
ATTEMPTED = "sending"  # journal status while a create's outcome is not known

UNKNOWN_ERROR_FIX = ("Likely causes: the staff member is not available at that time (the slot is taken), the "
                     "staff id is not one of the business's, or the time is outside the business hours. Choose "
                     "another time or staff member and send the row again.")


class BookingsRunner:
    """Books appointments through ``client`` into ``target`` and records everything in ``journal``."""

    def __init__(self, client: GraphClient, journal: Journal, target: BookingsTarget, *,
                 concurrency: int = MAX_IN_FLIGHT, on_progress: Callable[[Progress], None] | None = None,
                 cancel: threading.Event | None = None):
        self.client = client
        self.journal = journal
        self.target = target
        self.concurrency = max(1, min(int(concurrency), MAX_IN_FLIGHT))
        self.on_progress = on_progress
        self.cancel = cancel or threading.Event()
        self.progress = Progress(total=0)
        self.run_id = ""
        self._lock = threading.Lock()
        self._calendar: list[dict] = []
        self._logs: dict[str, list[dict]] = {}  # requests sent per appointment, written with its outcome

    def prepare(self, appointments: list[Appointment]) -> list[Outcome]:
        """Journal keys: the profile, the booking mailbox and the appointment's id."""
        self.client.check_supports(BOOKINGS)
        outcomes = []
        for appt in appointments:
            appt = appt if appt.external_appointment_id and appt.external_id else appt.with_ids()
            key = appointment_key(self.client.profile.key, self.target.business.lower(), appt.appointment_id)
            outcomes.append(Outcome(key=key, appointment=appt, organizer_id=self.target.business))
        return outcomes

    def run(self, appointments: list[Appointment], *, source: str = "",
            invalid_rows: list[tuple[int, str]] = ()) -> RunResult:
        """Book every appointment (confirming those the journal knows); returns when all are settled."""
        self.progress = Progress(total=len(appointments))
        outcomes = self.prepare(appointments)
        known = self.journal.get_many([o.key for o in outcomes])
        self.run_id = self.journal.start_run(profile_key=self.client.profile.key,
                                             profile_name=self.client.profile.name, flow=BOOKINGS,
                                             source=source, total=len(outcomes))
        self.journal.upsert_pending(self.run_id, self.client.profile.key, BOOKINGS,
                                    [(o.key, o.organizer_id, o.appointment) for o in outcomes])
        for outcome in outcomes:
            outcome._known = known.get(outcome.key)
        self._notify()
        outcomes = self._refuse_what_the_rules_refuse(outcomes)
        unconfirmed = [o for o in outcomes if o.status == "pending" and not (o._known and o._known.meeting_id)]
        if unconfirmed and not self.cancel.is_set():
            self._calendar = self._look_up([o.appointment for o in unconfirmed])
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="book") as pool:
            futures = [pool.submit(self._book, o) for o in outcomes if o.status == "pending"]
            while wait(futures, timeout=TICK).not_done:
                self._notify()
            for future in futures:
                future.result()
        return self._finish(outcomes, invalid_rows)

    def _refuse_what_the_rules_refuse(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Bookings' rules for apps (length, lead times, staff choice, hours), checked before anything is sent."""
        rules = self.target.rules
        if rules is None or self.client.auth_kind != "app":  # a signed-in person is not bound by them
            return outcomes
        now = datetime.now(timezone.utc)
        for outcome in outcomes:
            problems = rule_problems(outcome.appointment, rules, now=now, staff_chosen=bool(self.target.staff_ids))
            if problems:
                outcome.status = "failed"
                outcome.error = "Not sent: " + " ".join(problems)
                self.journal.update(outcome.key, status="failed", error=outcome.error)
                self._count(outcome)
        return outcomes

    # -- one appointment ------------------------------------------------------------------------
    def _book(self, outcome: Outcome) -> None:
        if self.cancel.is_set():
            return
        try:
            entry = outcome._known
            if entry is not None and entry.meeting_id and self._confirm(outcome, entry):
                return
            found = find_booking(self._calendar, outcome.appointment, self.target.service_id)
            if found is not None:
                self._succeed(outcome, found, "existing")
                return
            self._create(outcome)
        except GraphError as exc:
            self._fail(outcome, exc)

    def _confirm(self, outcome: Outcome, entry) -> bool:
        """True when Bookings still holds the journal's booking (now reported); False when it is gone."""
        try:
            booking = self._send(outcome, get_spec(self.target.business, entry.meeting_id)).body or {}
        except GraphError as exc:
            if exc.status != 404:
                raise
            self.journal.record(history=[dict(key=outcome.key, run_id=self.run_id, meeting_id=entry.meeting_id,
                                              join_web_url=entry.join_web_url,
                                              client_join_web_url=entry.client_join_web_url,
                                              reason="no longer in Bookings")])
            outcome.previous_meeting_id = entry.meeting_id
            return False
        status = "existing"
        if differs(booking, outcome.appointment):
            self._send(outcome, update_spec(self.target.business, entry.meeting_id, outcome.appointment))
            booking = self._send(outcome, get_spec(self.target.business, entry.meeting_id)).body or booking
            status = "updated"
        self._succeed(outcome, booking, status)
        return True

    def _create(self, outcome: Outcome) -> None:
        spec = create_spec(outcome.appointment, self.target)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.journal.update(outcome.key, status=ATTEMPTED, error=None)  # before sending: a crash leaves a trace
            try:
                booking = self._send(outcome, spec).body or {}
            except GraphError as exc:
                if not _unknown_outcome(exc):
                    raise
                found = find_booking(self._look_up([outcome.appointment]), outcome.appointment,
                                     self.target.service_id)
                if found is not None:  # the create went through; only its reply was lost
                    self._succeed(outcome, found, "created")
                    return
                if exc.status == 500 or attempt == MAX_ATTEMPTS:
                    raise
                continue
            self._succeed(outcome, booking, "created")
            return

    def _look_up(self, appointments: list[Appointment]) -> list[dict]:
        """Bookings in the business's calendar from the earliest start to the latest end (all pages)."""
        start = min(a.start for a in appointments)
        end = max(a.end for a in appointments) + timedelta(minutes=1)
        spec = calendar_view_spec(self.target.business, start, end)
        items = list_all(self.client, spec.path)
        self.journal.log_request(run_id=self.run_id, key=None, step=spec.step, method=spec.method,
                                 path=spec.path.split("?", 1)[0], status=200, request_id=None)
        return items

    def _send(self, outcome: Outcome, spec: RequestSpec):
        """Send one request; its log line waits for the outcome's own journal write (one commit, not two)."""
        try:
            response = self.client.send(spec)
        except GraphError as exc:
            self._logs.setdefault(outcome.key, []).append(dict(
                run_id=self.run_id, key=outcome.key, step=spec.step, method=spec.method, path=spec.path,
                status=exc.status or None, request_id=exc.request_id, error=str(exc)))
            raise
        self._logs.setdefault(outcome.key, []).append(dict(
            run_id=self.run_id, key=outcome.key, step=spec.step, method=spec.method, path=spec.path,
            status=response.status, request_id=response.request_id))
        outcome.request_id = response.request_id
        return response

    def _record(self, outcome: Outcome, **fields) -> None:
        """The outcome's fields and the requests sent for it, in one transaction."""
        with self._lock:
            requests = self._logs.pop(outcome.key, [])
        self.journal.record(updates=[(outcome.key, fields)], requests=requests)

    # -- outcomes -------------------------------------------------------------------------------
    def _succeed(self, outcome: Outcome, booking: dict, status: str) -> None:
        outcome.meeting_id = booking.get("id", "")
        outcome.join_web_url, outcome.client_join_web_url = links(booking)
        outcome.status = status
        if not outcome.join_web_url:
            outcome.error = "Bookings returned no Teams link: check that the service is online (isLocationOnline)."
        self._record(outcome, status=status, meeting_id=outcome.meeting_id, join_web_url=outcome.join_web_url,
                     client_join_web_url=outcome.client_join_web_url, error=None,
                     request_id=outcome.request_id or None)
        self._count(outcome)

    def _fail(self, outcome: Outcome, exc: GraphError) -> None:
        outcome.status = "failed"
        outcome.request_id = exc.request_id or outcome.request_id
        outcome.explanation = exc.explanation or ""
        outcome.fix = UNKNOWN_ERROR_FIX if exc.status == 500 else (exc.fix or "")
        outcome.error = " ".join(p for p in (exc.explanation or str(exc), outcome.fix) if p)
        self._record(outcome, status="failed", error=outcome.error, request_id=outcome.request_id or None)
        self._count(outcome)

    def _count(self, outcome: Outcome) -> None:
        with self._lock:
            p = self.progress
            p.done += 1
            if outcome.status in DONE:
                setattr(p, outcome.status, getattr(p, outcome.status) + 1)
            else:
                p.failed += 1
        self._notify()

    def _notify(self) -> None:
        notice = getattr(self.client.throttle, "notice", None)
        self.progress.notice = notice() if callable(notice) else None
        if self.on_progress:
            self.on_progress(self.progress)

    def _finish(self, outcomes: list[Outcome], invalid_rows) -> RunResult:
        cancelled = self.cancel.is_set() and any(o.status == "pending" for o in outcomes)
        for outcome in outcomes:
            if outcome.status == "pending":
                outcome.status = "failed"
                outcome.error = "Not sent: the run was cancelled. Run it again to book what is missing."
        rows = [(row, o.key, o.status, o.error or None) for o in outcomes for row in o.appointment.source_rows]
        rows += [(row, None, "invalid", message) for row, message in invalid_rows]
        self.journal.record_rows(self.run_id, rows)
        self.progress.finished_at = time.monotonic()
        self.progress.finished = True
        self.progress.cancelled = cancelled
        self.progress.notice = None
        summary = {s: sum(o.status == s for o in outcomes) for s in ("created", "existing", "updated", "failed")}
        summary["invalid"] = len(invalid_rows)
        self.journal.finish_run(self.run_id, "cancelled" if cancelled else "finished", summary)
        self._notify()
        return RunResult(self.run_id, outcomes, cancelled, self.progress)


def _unknown_outcome(exc: GraphError) -> bool:
    """A failure after which the booking may or may not exist: no reply, a 5xx or a gateway timeout."""
    return exc.code in ("UnknownOutcome", "ConnectionFailed") or exc.status >= 500
