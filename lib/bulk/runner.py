"""Bulk creation: many appointments through one Graph client, in parallel, batched, resumable.

Appointments are cut into chunks of up to 20. A worker takes a chunk and sends its steps in order,
each step as one JSON batch: first every meeting (createOrGet), then every second step (PUT
virtualAppointment or the join-link function) for the meetings it got, then SMS if asked. So one
appointment's dependent steps stay in order while ``concurrency`` chunks are in flight at once.
Every outcome is written to the journal as it arrives: a crash, a kill or a cancel loses nothing,
and running again does only what is missing (createOrGet and PUT make repeats harmless).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timezone
from typing import Callable

from lib.model.appointment import Appointment, ModelError, parse_graph_time
from lib.model.flows import (JOIN_LINK, STEP_JOIN_LINK, STEP_MEETING, STEP_SMS, STEP_VIRTUAL_APPOINTMENT,
                    RequestSpec, SmsOptions, organizer_path, plan, update_meeting)
from lib.graph.client import GraphClient, GraphError
from lib.bulk.journal import Journal, appointment_key

MAX_BATCH = 20
MONTHLY_MEETING_QUOTA = 2000


@dataclass
class Progress:
    """A snapshot for progress bars: counts, rate and time left."""

    total: int
    done: int = 0
    created: int = 0
    existing: int = 0
    failed: int = 0
    started_at: float = field(default_factory=time.monotonic)
    finished: bool = False
    cancelled: bool = False
    throttled: int = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    @property
    def rate(self) -> float:
        """Appointments finished per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        if not self.done or self.finished:
            return None
        return (self.total - self.done) / self.rate if self.rate else None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass
class Outcome:
    """What became of one appointment."""

    key: str
    appointment: Appointment
    organizer_id: str = "me"
    status: str = "pending"  # created | existing | failed (pending while in flight)
    meeting_id: str = ""
    join_web_url: str = ""
    client_join_web_url: str = ""
    error: str = ""
    explanation: str = ""
    fix: str = ""
    request_id: str = ""
    from_journal: bool = False
    _meeting_existed: bool = False
    _stale: bool = False
    _second_existed: bool = True


@dataclass
class RunResult:
    """Every outcome in the order the appointments were given."""

    run_id: str
    outcomes: list[Outcome]
    cancelled: bool
    progress: Progress

    @property
    def all_done(self) -> bool:
        return all(o.status in ("created", "existing") for o in self.outcomes)


class Runner:
    """Sends appointments through ``client`` and records everything in ``journal``."""

    def __init__(self, client: GraphClient, journal: Journal, *, flow: str, concurrency: int = 8,
                 use_batch: bool = True, sms: SmsOptions | None = None,
                 on_progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None):
        self.client = client
        self.journal = journal
        self.flow = flow
        self.concurrency = max(1, int(concurrency))
        self.use_batch = use_batch
        self.sms = sms if flow == JOIN_LINK else None
        self.on_progress = on_progress
        self.cancel = cancel or threading.Event()
        self.progress = Progress(total=0)
        self._lock = threading.Lock()
        self._paths: dict[str, tuple[str, str]] = {}
        self.run_id = ""

    # -- public ---------------------------------------------------------------------------------
    def prepare(self, appointments: list[Appointment]) -> list[Outcome]:
        """Resolve organizers and journal keys; raises GraphError when the profile can't run this flow."""
        self.client.check_supports(self.flow, sms=self.sms is not None)
        outcomes = []
        for appt in appointments:
            appt = appt.with_ids()
            organizer_id, _ = self._organizer(appt.organizer)
            key = appointment_key(self.client.profile.key, organizer_id, appt.meeting_external_id)
            outcomes.append(Outcome(key=key, appointment=appt, organizer_id=organizer_id))
        return outcomes

    def quota_warnings(self, appointments: list[Appointment]) -> list[str]:
        """Warnings for organizers this run would take past the monthly meeting quota."""
        outcomes = self.prepare(appointments)
        known = self.journal.get_many([o.key for o in outcomes])
        planned = [(o.organizer_id, o.appointment) for o in outcomes
                   if not (o.key in known and known[o.key].done)]
        return quota_warnings(self.journal, self.client.profile.key, planned)

    def run(self, appointments: list[Appointment], *, source: str = "",
            invalid_rows: list[tuple[int, str]] = ()) -> RunResult:
        """Create every appointment not already done; returns when all are settled or cancelled."""
        outcomes = self.prepare(appointments)
        self.progress = Progress(total=len(outcomes))
        self.run_id = self.journal.start_run(profile_key=self.client.profile.key,
                                             profile_name=self.client.profile.name, flow=self.flow,
                                             source=source, total=len(outcomes))
        known = self.journal.get_many([o.key for o in outcomes])
        todo = []
        for outcome in outcomes:
            entry = known.get(outcome.key)
            if entry and entry.done and entry.flow == self.flow and entry.document == outcome.appointment.to_document():
                outcome.status, outcome.from_journal = "existing", True
                outcome.meeting_id = entry.meeting_id or ""
                outcome.join_web_url = entry.join_web_url or ""
                outcome.client_join_web_url = entry.client_join_web_url or ""
                self._count(outcome)
            else:
                todo.append(outcome)
        self.journal.upsert_pending(self.run_id, self.client.profile.key, self.flow,
                                    [(o.key, o.organizer_id, o.appointment) for o in todo])
        self._notify()

        chunk_size = MAX_BATCH if self.use_batch else 1
        chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="send") as pool:
            for future in [pool.submit(self._run_chunk, chunk) for chunk in chunks]:
                future.result()

        cancelled = self.cancel.is_set() and any(o.status == "pending" for o in outcomes)
        for outcome in outcomes:
            if outcome.status == "pending":
                outcome.status = "failed"
                outcome.error = "Not sent: the run was cancelled. Run it again to create what is missing."
        rows = []
        for outcome in outcomes:
            for row in outcome.appointment.source_rows:
                rows.append((row, outcome.key, outcome.status, outcome.error or None))
        for row, message in invalid_rows:
            rows.append((row, None, "invalid", message))
        self.journal.record_rows(self.run_id, rows)
        self.progress.finished = True
        self.progress.cancelled = cancelled
        self.progress.throttled = getattr(self.client.throttle, "throttled", 0)
        summary = {s: sum(o.status == s for o in outcomes) for s in ("created", "existing", "failed")}
        summary["invalid"] = len(invalid_rows)
        self.journal.finish_run(self.run_id, "cancelled" if cancelled else "finished", summary)
        self._notify()
        return RunResult(self.run_id, outcomes, cancelled, self.progress)

    # -- one chunk ------------------------------------------------------------------------------
    def _run_chunk(self, chunk: list[Outcome]) -> None:
        if self.cancel.is_set():
            return
        try:
            plans = {o.key: plan(o.appointment, self.flow, user_path=self._organizer(o.appointment.organizer)[1],
                                 sms=self.sms) for o in chunk}
            live = list(chunk)
            for step_index in range(max(len(p) for p in plans.values())):
                if self.cancel.is_set():
                    return
                work = []
                for outcome in live:
                    steps = plans[outcome.key]
                    if step_index < len(steps):
                        spec = steps[step_index]
                        if spec.needs_meeting_id:
                            spec = spec.with_meeting_id(outcome.meeting_id)
                        work.append((outcome, spec))
                results = self._send_all(work)
                survivors = []
                for outcome, spec in work:
                    result = results[outcome.key]
                    if isinstance(result, GraphError):
                        self._fail(outcome, spec, result)
                    else:
                        self._apply(outcome, spec, result)
                        survivors.append(outcome)
                live = survivors
                if step_index == 0:
                    live = self._update_stale_meetings(live)
            for outcome in live:
                self._succeed(outcome)
        except Exception as exc:  # a bug must not lose the other chunks' rows: fail these, loudly
            for outcome in chunk:
                if outcome.status == "pending":
                    error = GraphError(status=0, code="InternalError", message=f"{type(exc).__name__}: {exc}")
                    self._fail(outcome, None, error)

    def _update_stale_meetings(self, live: list[Outcome]) -> list[Outcome]:
        """createOrGet returns an existing meeting unchanged: PATCH those whose subject or times were edited."""
        work = [(o, update_meeting(o.appointment, self._organizer(o.appointment.organizer)[1]).with_meeting_id(o.meeting_id))
                for o in live if o._stale]
        if not work:
            return live
        results = self._send_all(work)
        for outcome, spec in work:
            result = results[outcome.key]
            if isinstance(result, GraphError):
                self._fail(outcome, spec, result)
            else:
                outcome._meeting_existed = False  # changed now, so not "already there" as it was
                self.journal.log_request(run_id=self.run_id, key=outcome.key, step=spec.step, method=spec.method,
                                         path=spec.path, status=result.status, request_id=result.request_id)
        return [o for o in live if o.status == "pending"]

    def _send_all(self, work: list[tuple[Outcome, RequestSpec]]) -> dict:
        """Send one step for several appointments: one batch per Graph version, or one by one."""
        results: dict = {}
        if len(work) > 1 and self.use_batch:
            by_version = defaultdict(list)
            for outcome, spec in work:
                by_version[spec.version].append((outcome.key, spec))
            for version, items in by_version.items():
                try:
                    results.update(self.client.batch(version, items))
                except GraphError as exc:
                    results.update({key: exc for key, _ in items})
        else:
            for outcome, spec in work:
                try:
                    results[outcome.key] = self.client.send(spec)
                except GraphError as exc:
                    results[outcome.key] = exc
        return results

    def _apply(self, outcome: Outcome, spec: RequestSpec, response) -> None:
        body = response.body if isinstance(response.body, dict) else {}
        retried = getattr(response, "attempts", 1) > 1
        outcome.request_id = response.request_id or outcome.request_id
        if spec.step == STEP_MEETING:
            outcome.meeting_id = body.get("id", "")
            outcome.join_web_url = body.get("joinWebUrl", "") or ""
            outcome._meeting_existed = response.status == 200 and not retried
            outcome._stale = response.status == 200 and _differs(body, outcome.appointment)
            self.journal.update(outcome.key, meeting_id=outcome.meeting_id, join_web_url=outcome.join_web_url,
                                request_id=outcome.request_id)
        elif spec.step == STEP_VIRTUAL_APPOINTMENT:
            outcome.client_join_web_url = body.get("appointmentClientJoinWebUrl", "") or ""
            outcome._second_existed = response.status == 200 and not retried
        elif spec.step == STEP_JOIN_LINK:
            outcome.client_join_web_url = body.get("value", "") or ""
        self.journal.log_request(run_id=self.run_id, key=outcome.key, step=spec.step, method=spec.method,
                                 path=spec.path, status=response.status, request_id=response.request_id)

    def _succeed(self, outcome: Outcome) -> None:
        existed = outcome._meeting_existed and outcome._second_existed
        outcome.status = "existing" if existed else "created"
        self.journal.update(outcome.key, status=outcome.status, meeting_id=outcome.meeting_id,
                            join_web_url=outcome.join_web_url, client_join_web_url=outcome.client_join_web_url,
                            error=None, request_id=outcome.request_id or None)
        self._count(outcome)

    def _fail(self, outcome: Outcome, spec: RequestSpec | None, error: GraphError) -> None:
        outcome.status = "failed"
        step = f"{spec.step}: " if spec is not None and spec.step != STEP_MEETING else ""
        outcome.error = step + (getattr(error, "explanation", "") or str(error))
        outcome.explanation = getattr(error, "explanation", "") or ""
        outcome.fix = getattr(error, "fix", "") or ""
        outcome.request_id = getattr(error, "request_id", "") or outcome.request_id
        if spec is not None and spec.step == STEP_SMS and outcome.meeting_id:
            # The appointment itself exists; only the text message failed.
            outcome.status = "created"
        if spec is not None:
            self.journal.log_request(run_id=self.run_id, key=outcome.key, step=spec.step, method=spec.method,
                                     path=spec.path, status=getattr(error, "status", 0) or None,
                                     request_id=outcome.request_id or None, error=str(error))
        self.journal.update(outcome.key, status=outcome.status, error=_with_fix(outcome),
                            meeting_id=outcome.meeting_id or None, join_web_url=outcome.join_web_url or None,
                            client_join_web_url=outcome.client_join_web_url or None,
                            request_id=outcome.request_id or None)
        self._count(outcome)

    # -- helpers --------------------------------------------------------------------------------
    def _organizer(self, organizer: str) -> tuple[str, str]:
        """(journal organizer id, Graph user path) for an appointment's organizer."""
        profile = self.client.profile
        if profile.auth == "device_code":
            return "me", "/me"
        wanted = organizer or profile.organizer
        with self._lock:
            if wanted in self._paths:
                return self._paths[wanted]
        if wanted == profile.organizer:
            path = self.client.user_path()
            object_id = path.rsplit("/", 1)[-1]
        else:
            object_id = self.client.resolve_user(wanted)["id"]
            path = organizer_path(profile.auth, object_id)
        with self._lock:
            self._paths[wanted] = (object_id, path)
        return object_id, path

    def _count(self, outcome: Outcome) -> None:
        with self._lock:
            self.progress.done += 1
            if outcome.status == "created":
                self.progress.created += 1
            elif outcome.status == "existing":
                self.progress.existing += 1
            else:
                self.progress.failed += 1
            self.progress.throttled = getattr(self.client.throttle, "throttled", 0)
        self._notify()

    def _notify(self) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(self.progress)
            except Exception:  # a broken progress display must not stop the run
                pass


def _differs(meeting: dict, appointment: Appointment) -> bool:
    """Whether a meeting Graph returned has another subject or other times than the appointment."""
    try:
        start = parse_graph_time(meeting.get("startDateTime"), "startDateTime")
        end = parse_graph_time(meeting.get("endDateTime"), "endDateTime")
    except ModelError:
        return False  # nothing to compare with: leave the meeting as Graph has it
    return (meeting.get("subject") != appointment.subject or abs((start - appointment.start).total_seconds()) >= 1
            or abs((end - appointment.end).total_seconds()) >= 1)


def _with_fix(outcome: Outcome) -> str | None:
    if not outcome.error:
        return None
    return f"{outcome.error} {outcome.fix}".strip() if outcome.fix and outcome.fix not in outcome.error else outcome.error


def quota_warnings(journal: Journal, profile_key: str, planned: list[tuple[str, Appointment]]) -> list[str]:
    """Warn when a run would take an organizer past Graph's 2,000 meetings per user per month.

    ``planned`` holds (journal organizer id, appointment) pairs not yet created.
    """
    by_month: dict[tuple[str, str], int] = defaultdict(int)
    for organizer, appt in planned:
        month = appt.start.astimezone(timezone.utc).strftime("%Y-%m")
        by_month[(organizer, month)] += 1
    warnings = []
    for (organizer, month), count in sorted(by_month.items()):
        already = journal.count_in_month(profile_key, organizer, month)
        if already + count > MONTHLY_MEETING_QUOTA:
            who = "you" if organizer == "me" else f"organizer {organizer}"
            warnings.append(
                f"{month}: {who} would have {already + count:,} meetings ({already:,} already, {count:,} in this run); "
                f"Microsoft allows {MONTHLY_MEETING_QUOTA:,} per organizer per month, so some may be refused. "
                "Split the run across organizers or months."
            )
    return warnings
