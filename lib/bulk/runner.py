"""Bulk creation: many appointments through one Graph client, in parallel, batched, resumable.

Each appointment's requests go in order: the meeting (createOrGet), an update when an existing meeting
was edited, the second step (PUT virtualAppointment or the join-link function), then SMS if asked.
``concurrency`` senders each send one JSON batch of up to 20 at a time, taking from a shared pipeline
(``lib.bulk.pipeline``) either new appointments' first requests or the next requests of appointments
under way, so no sender idles while another still has a chunk to finish.

Graph is the truth, the journal a record: every appointment a run reports was confirmed by Graph in
that run (createOrGet and PUT are safe to repeat, the join link is a GET). The journal tells an
existing meeting (same id as last time) from one created again because Graph no longer held the
old one (its id goes to the journal's history), and keeps clients from being texted twice. Each
batch's outcomes are written in one short transaction as they arrive: a crash, a kill or a cancel
loses nothing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timezone
from typing import Callable, Iterable

from lib.model.appointment import Appointment, ModelError, parse_graph_time
from lib.model.flows import (JOIN_LINK, STEP_JOIN_LINK, STEP_MEETING, STEP_MEETING_UPDATE, STEP_SMS,
                             STEP_VIRTUAL_APPOINTMENT, VIRTUAL_APPOINTMENT, RequestSpec, SmsOptions, plan, update_meeting)
from lib.graph.client import MAX_BATCH, GraphClient, GraphError
from lib.bulk.journal import Journal, appointment_key
from lib.bulk.journal_writer import JournalWriter
from lib.bulk.pipeline import NEW, Batch, Pipeline

MONTHLY_MEETING_QUOTA = 2000
DONE = ("created", "existing", "updated")
TICK = 0.5  # seconds between progress reports while nothing finishes (a throttling pause shows its countdown)
HUNGRY_WAIT = 0.5  # at most this long the rest of a file waits for the senders to take what is ready


@dataclass
class Progress:
    """A snapshot for progress bars: counts, rate, time left, and what Graph asked us to wait for."""

    total: int
    done: int = 0
    created: int = 0
    existing: int = 0
    updated: int = 0
    failed: int = 0
    started_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    finished: bool = False
    cancelled: bool = False
    throttled: int = 0
    notice: str | None = None  # e.g. "Graph asked us to slow down: waiting 12 s"

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (until it finished, once it has)."""
        return (self.finished_at or time.monotonic()) - self.started_at

    @property
    def rate(self) -> float:
        """Appointments finished per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """An estimate from the rate so far; None before the first appointment or after the last."""
        if not self.done or self.finished:
            return None
        return (self.total - self.done) / self.rate if self.rate else None


@dataclass
class Outcome:
    """What became of one appointment."""

    key: str
    appointment: Appointment
    organizer_id: str = "me"
    status: str = "pending"  # created | existing | updated | failed (pending while in flight)
    meeting_id: str = ""
    join_web_url: str = ""
    client_join_web_url: str = ""
    error: str = ""
    explanation: str = ""
    fix: str = ""
    request_id: str = ""
    previous_meeting_id: str = ""  # the journal's meeting when Graph no longer held it
    _known: object | None = None  # the journal's Entry from before this run
    _recorded: bool = False  # in the journal as pending (or better) for this run
    _meeting_existed: bool = False
    _stale: bool = False
    _updated: bool = False
    _second_existed: bool = True
    _plan: list = field(default_factory=list)  # this run's requests for the appointment, in order
    _next: int = 0  # the index in _plan of the next request


@dataclass
class RunResult:
    """Every outcome in the order the appointments were given."""

    run_id: str
    outcomes: list[Outcome]
    cancelled: bool
    progress: Progress

    @property
    def all_done(self) -> bool:
        return all(o.status in DONE for o in self.outcomes)


class _Writes:
    """One batch's journal writes, handed to the writer thread at once instead of one per row."""

    def __init__(self, writer: JournalWriter):
        self.writer = writer
        self.updates: list = []
        self.requests: list = []
        self.history: list = []

    def flush(self) -> None:
        if self.updates or self.requests or self.history:
            self.writer.record(updates=self.updates, requests=self.requests, history=self.history)
            self.updates, self.requests, self.history = [], [], []


class Runner:
    """Sends appointments through ``client`` and records everything in ``journal``."""

    def __init__(self, client: GraphClient, journal: Journal, *, flow: str, concurrency: int = 8,
                 use_batch: bool = True, sms: SmsOptions | None = None,
                 on_progress: Callable[[Progress], None] | None = None, cancel: threading.Event | None = None,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 on_warning: Callable[[str], None] | None = None):
        self.client = client
        self.journal = journal
        self.flow = flow
        self.concurrency = max(1, int(concurrency))
        self.use_batch = use_batch
        self.sms = sms if flow == JOIN_LINK else None
        self.on_progress = on_progress
        self.on_outcome = on_outcome  # each appointment once Graph has settled it (called on a sending thread)
        self.on_warning = on_warning  # the monthly quota's warnings, once the run's appointments are all known
        self.cancel = cancel or threading.Event()
        self.progress = Progress(total=0)
        self._lock = threading.Lock()
        self._writer: JournalWriter | None = None
        self.run_id = ""

    # -- public ---------------------------------------------------------------------------------
    def prepare(self, appointments: list[Appointment]) -> list[Outcome]:
        """Resolve organizers and journal keys; raises GraphError when the profile can't run this flow."""
        self.client.check_supports(self.flow, sms=self.sms is not None)
        outcomes = []
        for appt in appointments:
            if not (appt.external_appointment_id and appt.external_id):
                appt = appt.with_ids()
            organizer_id, _ = self._organizer(appt.organizer)
            key = appointment_key(self.client.profile.key, organizer_id, appt.meeting_external_id)
            outcomes.append(Outcome(key=key, appointment=appt, organizer_id=organizer_id))
        return outcomes

    def quota_warnings(self, appointments: list[Appointment]) -> list[str]:
        """Warnings for organizers this run would take past the monthly meeting quota."""
        return self._quota(self._with_journal(self.prepare(appointments)))

    def _with_journal(self, outcomes: list[Outcome]) -> list[Outcome]:
        """``outcomes``, each with the journal's entry from before this run (``_known``)."""
        known = self.journal.get_many([o.key for o in outcomes])
        for outcome in outcomes:
            outcome._known = known.get(outcome.key)
        return outcomes

    def run(self, appointments: list[Appointment], *, source: str = "", invalid_rows: list[tuple[int, str]] = (),
            rest: Callable[[], Iterable[tuple[list[Appointment], list[tuple[int, str]]]]] | None = None,
            rest_size: int = 0) -> RunResult:
        """Send every appointment (Graph confirms even those the journal knows); returns when all are settled.

        ``rest``, when given, is iterated on a thread of its own while ``appointments`` go out (a spreadsheet's
        rest being checked, ``SheetChecker.check_ahead``). Each of its parts holds every appointment known so
        far, beginning with those of the part before (the same objects), and the invalid rows; the last part
        is the whole run. The next part is asked for once the senders have taken every full batch of what is
        known. ``rest_size``: at most how many more appointments it brings (the progress bar's total until then).
        """
        self.progress = Progress(total=len(appointments) + (rest_size if rest else 0))
        outcomes = self._with_journal(self.prepare(appointments))
        self.run_id = self.journal.start_run(profile_key=self.client.profile.key,
                                             profile_name=self.client.profile.name, flow=self.flow,
                                             source=source, total=self.progress.total)
        # the pace this tenant accepted last time: no cautious first round trip again
        self.client.throttle.resume(self.journal.last_pace(self.client.profile.key))
        self._notify()
        size = MAX_BATCH if self.use_batch else 1
        lanes = max(1, min(self.concurrency, -(-self.progress.total // size)))  # more senders than batches: idle
        pipeline = Pipeline(outcomes, size=size, cancel=self.cancel, tick=TICK, coming=rest is not None, senders=lanes)
        whole: list = [outcomes, list(invalid_rows), None]  # every outcome, the invalid rows, what ``rest`` raised
        feeder = None
        if rest is not None:
            feeder = threading.Thread(target=self._feed, args=(rest, appointments, pipeline, whole), name="rest",
                                      daemon=True)
            feeder.start()
        else:
            self._warn(outcomes)
        self._writer = JournalWriter(self.journal)
        try:
            with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="send") as pool:
                futures = [pool.submit(self._lane, pipeline) for _ in range(lanes)]
                while wait(futures, timeout=TICK).not_done:
                    self._notify()  # nothing finished for a while: say so (a throttling pause counts down)
                for future in futures:
                    future.result()
        finally:
            if feeder is not None:
                pipeline.close()  # a sender that failed: the rest is not sent, but still waited for
                feeder.join()
            self._writer.close()  # everything the workers handed over is committed before the run is closed
        if whole[2] is not None:
            raise whole[2]
        return self._finish(whole[0], whole[1])

    def _feed(self, rest, given: list[Appointment], pipeline: Pipeline, whole: list) -> None:
        """Add the parts of ``rest`` to ``pipeline`` (on the "rest" thread); ``whole`` gets every outcome in order."""
        try:
            sent = dict(zip(map(id, given), whole[0]))  # appointment (by identity) -> its outcome
            parts = iter(rest())
            everything = given
            while True:
                pipeline.wait_hungry(HUNGRY_WAIT)  # the senders of what is known first: they need the CPU a moment
                part = next(parts, None)
                if part is None:
                    break
                everything, whole[1] = part[0], list(part[1])
                new = [a for a in everything if id(a) not in sent]
                more = self._with_journal(self.prepare(new))
                sent.update(zip(map(id, new), more))
                pipeline.add(more)
            listed = {id(a) for a in everything}
            # the order of the whole file; an appointment sent in a part that the last one no longer lists is kept
            whole[0] = [sent[id(a)] for a in everything] + [o for a, o in sent.items() if a not in listed]
            with self._lock:
                self.progress.total = len(whole[0])
            self._warn(whole[0])
        except BaseException as exc:  # raised by run() once the senders have settled what they took
            whole[2] = exc
        finally:
            pipeline.close()

    def _warn(self, outcomes: list[Outcome]) -> None:
        """The monthly quota's warnings for the whole run, to ``on_warning``."""
        if self.on_warning is not None:
            for warning in self._quota(outcomes):
                self.on_warning(warning)

    def _quota(self, outcomes: list[Outcome]) -> list[str]:
        planned = [(o.organizer_id, o.appointment) for o in outcomes if not (o._known is not None and o._known.done)]
        return quota_warnings(self.journal, self.client.profile.key, planned)

    def _record_pending(self, outcomes: list[Outcome], record: Callable) -> None:
        """Put ``outcomes`` in the journal as pending for this run with ``record`` (the writer's, or the journal's)."""
        record(self.run_id, self.client.profile.key, self.flow, [(o.key, o.organizer_id, o.appointment) for o in outcomes])
        for outcome in outcomes:
            outcome._recorded = True

    def _finish(self, outcomes: list[Outcome], invalid_rows) -> RunResult:
        cancelled = self.cancel.is_set() and any(o.status == "pending" for o in outcomes)
        unsent = [o for o in outcomes if not o._recorded]  # rows a cancel stopped before any sender took them
        if unsent:
            self._record_pending(unsent, self.journal.upsert_pending)
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
        self.progress.finished_at = time.monotonic()
        self.progress.finished = True
        self.progress.cancelled = cancelled
        self.progress.notice = None
        self.progress.throttled = getattr(self.client.throttle, "throttled", 0)
        summary = {s: sum(o.status == s for o in outcomes) for s in ("created", "existing", "updated", "failed")}
        summary["invalid"] = len(invalid_rows)
        pace = self.client.throttle.pace()
        if pace:
            summary["pace"] = pace
        self.journal.finish_run(self.run_id, "cancelled" if cancelled else "finished", summary, total=len(outcomes))
        self._notify()
        return RunResult(self.run_id, outcomes, cancelled, self.progress)

    # -- one batch ------------------------------------------------------------------------------
    def _lane(self, pipeline: Pipeline) -> None:
        """One sender: batches from ``pipeline`` until none is left."""
        while (batch := pipeline.take()) is not None:
            later: list = []
            try:
                later = self._run_batch(batch)
            finally:
                pipeline.done(batch, later)

    def _run_batch(self, batch: Batch) -> list[tuple[Outcome, RequestSpec]]:
        """Send one batch and settle what it finished; returns the next step of every appointment still going."""
        writes = _Writes(self._writer)
        work: list = [(o, None) for o in batch.items] if batch.kind == NEW else batch.items
        later = []
        try:
            if batch.kind == NEW:
                # Recorded as pending by the sender that sends them: the first requests need not wait for every row.
                self._record_pending(batch.items, self._writer.pending)
                work = [(o, self._first_step(o)) for o in batch.items]
            results = self._send_all(work)
            for outcome, spec in work:
                result = results[outcome.key]
                if isinstance(result, GraphError):
                    self._fail(outcome, spec, result, writes)
                    continue
                self._apply(outcome, spec, result, writes)
                following = self._next_step(outcome, spec)
                if following is None:
                    self._succeed(outcome, writes)
                else:
                    later.append((outcome, following))
        except Exception as exc:  # a bug must not lose the other batches' rows: fail these, loudly
            later = []
            for outcome, spec in work:
                if outcome.status == "pending":
                    error = GraphError(status=0, code="InternalError", message=f"{type(exc).__name__}: {exc}")
                    self._fail(outcome, spec, error, writes)
        finally:
            writes.flush()
            if any(spec is not None and spec.step == STEP_SMS for _, spec in work):
                self._writer.wait()  # a text is not idempotent: its record is committed before going on
        return later

    def _first_step(self, outcome: Outcome) -> RequestSpec:
        outcome._plan = plan(outcome.appointment, self.flow, user_path=self._organizer(outcome.appointment.organizer)[1],
                             sms=self.sms)
        outcome._next = 1
        return outcome._plan[0]

    def _next_step(self, outcome: Outcome, done: RequestSpec) -> RequestSpec | None:
        """The appointment's request after ``done`` succeeded, or None when it is finished.

        createOrGet returns an existing meeting unchanged: one whose subject or times were edited is PATCHed
        first. No second text for a meeting already texted.
        """
        if done.step == STEP_MEETING and outcome._stale:
            user_path = self._organizer(outcome.appointment.organizer)[1]
            return update_meeting(outcome.appointment, user_path).with_meeting_id(outcome.meeting_id)
        while outcome._next < len(outcome._plan):
            spec = outcome._plan[outcome._next]
            outcome._next += 1
            if spec.step == STEP_SMS and outcome._known is not None and outcome._known.sms_sent_for == outcome.meeting_id:
                continue
            return spec.with_meeting_id(outcome.meeting_id) if spec.needs_meeting_id else spec
        return None

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

    def _apply(self, outcome: Outcome, spec: RequestSpec, response, writes: _Writes) -> None:
        body = response.body if isinstance(response.body, dict) else {}
        retried = getattr(response, "attempts", 1) > 1
        outcome.request_id = response.request_id or outcome.request_id
        if spec.step == STEP_MEETING:
            self._apply_meeting(outcome, body, response.status == 200 and not retried, writes)
        elif spec.step == STEP_VIRTUAL_APPOINTMENT:
            outcome.client_join_web_url = body.get("appointmentClientJoinWebUrl", "") or ""
            outcome._second_existed = response.status == 200 and not retried
        elif spec.step == STEP_JOIN_LINK:
            outcome.client_join_web_url = body.get("value", "") or ""
        elif spec.step == STEP_MEETING_UPDATE:
            outcome._updated = True
        elif spec.step == STEP_SMS:
            writes.updates.append((outcome.key, {"sms_sent_for": outcome.meeting_id}))
        writes.requests.append(_request_row(self.run_id, outcome.key, spec, response.status, response.request_id))

    def _apply_meeting(self, outcome: Outcome, body: dict, got_existing: bool, writes: _Writes) -> None:
        """Tell an existing meeting from one created again because Graph no longer held the journal's."""
        outcome.meeting_id = body.get("id", "") or ""
        outcome.join_web_url = body.get("joinWebUrl", "") or ""
        known = outcome._known
        known_id = known.meeting_id if known is not None else ""
        if known_id and known_id != outcome.meeting_id:
            outcome._meeting_existed = False
            outcome.previous_meeting_id = known_id
            reason = ("deleted from the app, created again" if known.status == "deleted"
                      else "Graph no longer held this meeting; a new one was created")
            writes.history.append(dict(key=outcome.key, run_id=self.run_id, meeting_id=known_id, reason=reason,
                                       join_web_url=known.join_web_url, client_join_web_url=known.client_join_web_url))
        else:
            # A retried createOrGet answers 200 for the meeting its lost first attempt made: the journal knows better.
            outcome._meeting_existed = bool(known_id) or got_existing
        outcome._stale = outcome._meeting_existed and _differs(body, outcome.appointment)
        writes.updates.append((outcome.key, dict(meeting_id=outcome.meeting_id, join_web_url=outcome.join_web_url,
                                                 request_id=outcome.request_id or None)))

    def _settled(self, outcome: Outcome) -> str:
        if not (outcome._meeting_existed and outcome._second_existed):
            return "created"
        known = outcome._known
        edited = (self.flow == VIRTUAL_APPOINTMENT and known is not None
                  and (known.document or {}).get("virtualAppointment")
                  != outcome.appointment.to_document().get("virtualAppointment"))
        return "updated" if outcome._updated or edited else "existing"

    def _succeed(self, outcome: Outcome, writes: _Writes) -> None:
        outcome.status = self._settled(outcome)
        writes.updates.append((outcome.key, dict(
            status=outcome.status, meeting_id=outcome.meeting_id, join_web_url=outcome.join_web_url,
            client_join_web_url=outcome.client_join_web_url, error=None, request_id=outcome.request_id or None)))
        self._count(outcome)

    def _fail(self, outcome: Outcome, spec: RequestSpec | None, error: GraphError, writes: _Writes) -> None:
        outcome.status = "failed"
        step = f"{spec.step}: " if spec is not None and spec.step != STEP_MEETING else ""
        outcome.error = step + (getattr(error, "explanation", "") or str(error))
        outcome.explanation = getattr(error, "explanation", "") or ""
        outcome.fix = getattr(error, "fix", "") or ""
        outcome.request_id = getattr(error, "request_id", "") or outcome.request_id
        if spec is not None and spec.step == STEP_SMS and outcome.meeting_id:
            outcome.status = self._settled(outcome)  # the appointment itself is there; only the text failed
        if spec is not None:
            writes.requests.append(_request_row(self.run_id, outcome.key, spec, getattr(error, "status", 0) or None,
                                                outcome.request_id or None, error=str(error)))
        writes.updates.append((outcome.key, dict(
            status=outcome.status, error=_with_fix(outcome), meeting_id=outcome.meeting_id or None,
            join_web_url=outcome.join_web_url or None, client_join_web_url=outcome.client_join_web_url or None,
            request_id=outcome.request_id or None)))
        self._count(outcome)

    # -- helpers --------------------------------------------------------------------------------
    def _organizer(self, organizer: str) -> tuple[str, str]:
        """(journal organizer id, Graph user path) for an appointment's organizer: the client decides."""
        return self.client.organizer(organizer)

    def _count(self, outcome: Outcome) -> None:
        with self._lock:
            self.progress.done += 1
            if outcome.status in ("created", "existing", "updated"):
                setattr(self.progress, outcome.status, getattr(self.progress, outcome.status) + 1)
            else:
                self.progress.failed += 1
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        self._notify()

    def _notify(self) -> None:
        throttle = self.client.throttle
        self.progress.throttled = getattr(throttle, "throttled", 0)
        if not self.progress.finished:
            self.progress.notice = getattr(throttle, "notice", lambda: None)()
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


def _request_row(run_id: str, key: str, spec: RequestSpec, status, request_id, error: str | None = None) -> dict:
    """A request's outcome as the journal logs it (the path holds ids only, no secret)."""
    return dict(run_id=run_id, key=key, step=spec.step, method=spec.method, path=spec.path, status=status,
                request_id=request_id or None, error=error)


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
        already = journal.count_in_month(profile_key, organizer, month, at_most=MONTHLY_MEETING_QUOTA + 1)
        if already + count > MONTHLY_MEETING_QUOTA:
            who = "you" if organizer == "me" else f"organizer {organizer}"
            if already > MONTHLY_MEETING_QUOTA:
                total, before = f"more than {MONTHLY_MEETING_QUOTA:,}", f"more than {MONTHLY_MEETING_QUOTA:,}"
            else:
                total, before = f"{already + count:,}", f"{already:,}"
            warnings.append(
                f"{month}: {who} would have {total} meetings ({before} already, {count:,} in this run); "
                f"Microsoft allows {MONTHLY_MEETING_QUOTA:,} per organizer per month, so some may be refused. "
                "Split the run across organizers or months."
            )
    return warnings
