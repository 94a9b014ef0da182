"""Email each client their own join link with an `.ics` invitation, at most once per client per appointment.

sendMail has no idempotency key, so every notification goes: ledger `pending` (with a fresh id) →
draft carrying that id as an extended property → send the draft. After an unknown outcome (a lost
reply, a 504, a crash), the mailbox is asked for a message with that id: sent → done; still a draft
→ send that draft; none → create it. Requests go in `$batch`es of at most 4, one batch at a time,
because Outlook allows 4 concurrent requests per app and mailbox.
"""
from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import timezone
from typing import Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lib.graph.client import GraphClient, GraphError, GraphResponse
from lib.graph.pacing import Throttle
from lib.model.appointment import Appointment, Client
from lib.model.flows import RequestSpec
from lib.notify import ics
from lib.notify.access import check_can_notify
from lib.notify.ledger import FAILED, SENT, Ledger
from lib.notify.templates import DEFAULT, Template, one_line

PROPERTY_ID = "String {7d3f6a52-1c8e-4b0a-9f65-2e4d8c1b7a90} Name AppointmentStudioNotification"
PER_MAILBOX = 4                      # Outlook: concurrent requests per app + mailbox
MESSAGES_PER_MINUTE = 30             # Exchange Online's sending limit per mailbox
DEFINITIVE = frozenset({400, 401, 403, 413, 415})
NOTIFIED, ALREADY, NO_EMAIL, FAILED_LABEL = "sent", "already sent", "no email address", "failed"
CHECK, CREATE, SEND, DONE, GAVE_UP = "check", "create", "send", "done", "failed"


@dataclass(frozen=True)
class Target:
    """One confirmed appointment to tell its clients about."""

    appointment_key: str
    appointment: Appointment
    join_link: str                   # the clients' link (Graph-issued)
    organizer: str = ""              # object id, for the stable UID
    rows: tuple[int, ...] = ()


@dataclass
class NoticeResult:
    """What happened for one client of one appointment."""

    target: Target
    client: Client
    status: str                      # sent | already sent | failed | no email address
    error: str = ""

    @property
    def label(self) -> str:
        """The `notified` column's words for this outcome."""
        return f"{FAILED_LABEL}: {self.error}" if self.status == FAILED_LABEL else self.status


@dataclass
class _Notice:
    target: Target
    client: Client
    notification_id: str
    kind: str
    sequence: int
    state: str
    draft_id: str = ""
    error: str = ""
    attempted: bool = False          # this run created or sent something for it
    drafts_seen: int = 0             # lookups that found it still a draft after an unknown send
    send_uncertain: bool = False
    refused: bool = False            # 403: this app may not use the mailbox
    message: dict = field(default_factory=dict)


class Notifier:
    """Notifications for one connection (one organizer mailbox)."""

    def __init__(self, client: GraphClient, ledger: Ledger, template: Template = DEFAULT, *,
                 on_progress: Callable[[int, int], None] | None = None, max_rounds: int = 8,
                 settle_seconds: float = 3.0, messages_per_minute: float | None | str = "auto"):
        self.client = client
        self.ledger = ledger
        self.template = template
        self.on_progress = on_progress
        self.max_rounds = max_rounds
        self.settle_seconds = settle_seconds
        # Exchange's sending limit (about 30 a minute per mailbox): sends are spaced out rather than
        # refused later. "auto": that limit on a real tenant, none on the sandbox (which does not model it).
        if messages_per_minute == "auto":
            messages_per_minute = None if client.profile.is_sandbox else MESSAGES_PER_MINUTE
        rate = float(messages_per_minute) / 60 if messages_per_minute else None
        self.send_pace = Throttle(max_per_second=rate, margin=0.0) if rate else None
        self._organizer: ics.Person | None = None
        self._finished = 0

    # -- public --------------------------------------------------------------------------------
    def notify(self, targets: list[Target], *, again: set[tuple[str, str]] = frozenset()) -> list[NoticeResult]:
        """Tell every client with an email (again: (appointment key, email) pairs to re-send explicitly)."""
        results, work = [], []
        if any(c.email for t in targets for c in t.appointment.clients):
            check_can_notify(self.client)
        mailbox = self.client.user_path()
        for target in targets:
            for client in target.appointment.clients:
                if not client.email:
                    results.append(NoticeResult(target, client, NO_EMAIL))
                    continue
                notice = self._plan(target, client, mailbox, again)
                if notice is None:
                    results.append(NoticeResult(target, client, ALREADY))
                else:
                    work.append(notice)
        order = {(t.appointment_key, c): i for i, (t, c) in
                 enumerate((t, c) for t in targets for c in t.appointment.clients)}
        results += self._run(work, mailbox)
        return sorted(results, key=lambda r: order[(r.target.appointment_key, r.client)])

    def cancel(self, targets: list[Target]) -> list[NoticeResult]:
        """Send METHOD:CANCEL to the clients who were told about these (deleted) appointments."""
        mailbox = self.client.user_path()
        work = []
        for target in targets:
            for client in target.appointment.clients:
                known = self.ledger.get(target.appointment_key, client.email) if client.email else None
                if known is None or known.status != SENT or known.kind == "cancel":
                    continue
                work.append(self._begin(target, client, mailbox, "cancel", known.sequence + 1))
        return self._run(work, mailbox)

    # -- planning -------------------------------------------------------------------------------
    def _plan(self, target: Target, client: Client, mailbox: str, again) -> _Notice | None:
        known = self.ledger.get(target.appointment_key, client.email)
        start, end = _utc(target.appointment.start), _utc(target.appointment.end)
        forced = (target.appointment_key, client.email.lower()) in again
        if known is None:
            return self._begin(target, client, mailbox, "request", 0)
        if known.status == SENT and not forced:
            if (known.start_utc, known.end_utc) == (start, end) and known.kind != "cancel":
                return None
            return self._begin(target, client, mailbox, "update", known.sequence + 1)
        if known.status == SENT or forced:
            return self._begin(target, client, mailbox, known.kind if known.kind != "cancel" else "request",
                               known.sequence + 1)
        # pending or failed before: it may have gone out; ask the mailbox before sending anything. The
        # ledger keeps the times of that message until a new one is made, so a change is sent next run.
        return _Notice(target, client, known.notification_id, known.kind, known.sequence, CHECK)

    def _begin(self, target: Target, client: Client, mailbox: str, kind: str, sequence: int) -> _Notice:
        notification_id = str(uuid.uuid4())
        self.ledger.begin(target.appointment_key, client.email, notification_id=notification_id, kind=kind,
                          sequence=sequence, start_utc=_utc(target.appointment.start),
                          end_utc=_utc(target.appointment.end), mailbox=mailbox)
        return _Notice(target, client, notification_id, kind, sequence, CREATE)

    # -- running --------------------------------------------------------------------------------
    def _run(self, work: list[_Notice], mailbox: str) -> list[NoticeResult]:
        self._finished = 0
        for round_number in range(self.max_rounds):
            if round_number and any(n.state == CHECK and n.send_uncertain for n in work):
                time.sleep(self.settle_seconds)   # a just-sent message may still be leaving Drafts
            self._step(work, CHECK, lambda n: self._lookup_spec(n, mailbox), self._on_lookup)
            self._step(work, CREATE, lambda n: self._create_spec(n, mailbox), self._on_create)
            self._step(work, SEND, lambda n: self._send_spec(n, mailbox), self._on_send)
            self._stop_if_refused(work)
            self._report(work)
            if all(n.state in (DONE, GAVE_UP) for n in work):
                break
        return [self._result(n) for n in work]

    def _report(self, work: list[_Notice]) -> None:
        finished = sum(1 for n in work if n.state in (DONE, GAVE_UP))
        if self.on_progress and finished != self._finished:
            self.on_progress(finished, len(work))
        self._finished = finished

    def _step(self, work: list[_Notice], state: str, spec_for, on_reply) -> None:
        todo = [n for n in work if n.state == state]
        for start in range(0, len(todo), PER_MAILBOX):
            chunk = todo[start:start + PER_MAILBOX]
            if state == SEND and self.send_pace is not None:
                for _ in chunk:
                    self.send_pace.acquire(1, self.client.cancel)
            replies = self.client.batch("v1.0", [(n.notification_id, spec_for(n)) for n in chunk])
            for notice in chunk:
                on_reply(notice, replies[notice.notification_id])
            self._report(work)
            if any(n.state == GAVE_UP and n.refused for n in chunk):
                return                        # the mailbox refuses this app: the rest would be refused too

    def _stop_if_refused(self, work: list[_Notice]) -> None:
        refused = next((n for n in work if n.refused), None)
        if refused is None:
            return
        for notice in work:
            if notice.state in (DONE, GAVE_UP):
                continue
            nothing_made = notice.state == CREATE and not notice.attempted
            notice.state, notice.error = GAVE_UP, refused.error
            if nothing_made:   # otherwise it stays pending: the next run asks the mailbox first
                self.ledger.update(notice.notification_id, status=FAILED, error=notice.error)

    def _on_lookup(self, notice: _Notice, reply) -> None:
        if isinstance(reply, GraphError):
            notice.error = f"could not check whether the email went out ({reply.code or reply.status})"
            return
        found = reply.body.get("value", []) if isinstance(reply.body, dict) else []
        if any(not m.get("isDraft", False) for m in found):
            self._finish(notice)
        elif found:
            notice.drafts_seen += 1
            if notice.send_uncertain and notice.drafts_seen < 2:
                return                        # look once more after settling before sending again
            notice.draft_id = found[0]["id"]
            notice.state = SEND
        else:
            notice.state = CREATE
            appt = notice.target.appointment
            self.ledger.update(notice.notification_id, start_utc=_utc(appt.start), end_utc=_utc(appt.end))

    def _on_create(self, notice: _Notice, reply) -> None:
        if isinstance(reply, GraphResponse) and isinstance(reply.body, dict) and reply.body.get("id"):
            notice.attempted = True
            notice.draft_id = reply.body["id"]
            notice.state = SEND
            self.ledger.update(notice.notification_id, draft_id=notice.draft_id)
        else:
            self._unknown_or_failed(notice, reply, "creating the email")

    def _on_send(self, notice: _Notice, reply) -> None:
        notice.attempted = True
        if isinstance(reply, GraphResponse):
            self._finish(notice)
        elif reply.status == 404:
            notice.state = CHECK              # the draft is gone: perhaps it was sent
        else:
            notice.send_uncertain = not _definitive(reply)
            notice.drafts_seen = 0
            self._unknown_or_failed(notice, reply, "sending the email")

    def _unknown_or_failed(self, notice: _Notice, reply, doing: str) -> None:
        error = reply if isinstance(reply, GraphError) else GraphError(0, "UnexpectedReply", "no message id")
        if error.code == "Cancelled":
            notice.state, notice.error = GAVE_UP, "cancelled before it was confirmed; run notify again"
        elif _definitive(error):
            notice.state, notice.error = GAVE_UP, f"{doing}: {error.message or error.explanation} ({error.code})"
            if error.status == 403:
                notice.refused = True
                notice.error += (". The organizer's mailbox refuses this app: grant Mail.Send and Mail.ReadWrite "
                                 "(admin consent) and check Exchange's application access policy for the mailbox.")
            self.ledger.update(notice.notification_id, status=FAILED, error=notice.error)
        else:
            notice.state = CHECK
            notice.error = f"{doing}: the outcome is unknown ({error.code or error.status})"

    def _finish(self, notice: _Notice) -> None:
        notice.state = DONE
        self.ledger.update(notice.notification_id, status=SENT, error=None)

    def _result(self, notice: _Notice) -> NoticeResult:
        if notice.state == DONE:
            return NoticeResult(notice.target, notice.client, NOTIFIED if notice.attempted else ALREADY)
        error = notice.error or "not confirmed"
        if notice.state != GAVE_UP:
            error = f"could not confirm that the email went out ({error}); run notify again to check and finish"
        return NoticeResult(notice.target, notice.client, FAILED_LABEL, error)

    # -- requests -------------------------------------------------------------------------------
    def _lookup_spec(self, notice: _Notice, mailbox: str) -> RequestSpec:
        expression = (f"singleValueExtendedProperties/any(ep: ep/id eq '{PROPERTY_ID}' and "
                      f"ep/value eq '{notice.notification_id}')")
        return RequestSpec("notifyLookup", "GET", "v1.0",
                           f"{mailbox}/messages?$filter={quote(expression, safe='')}&$select=id,isDraft",
                           title="Find the notification in the mailbox")

    def _create_spec(self, notice: _Notice, mailbox: str) -> RequestSpec:
        return RequestSpec("notifyDraft", "POST", "v1.0", f"{mailbox}/messages", self.message(notice),
                           title="Create the email as a draft", idempotent=False)

    def _send_spec(self, notice: _Notice, mailbox: str) -> RequestSpec:
        return RequestSpec("notifySend", "POST", "v1.0", f"{mailbox}/messages/{quote(notice.draft_id, safe='')}/send",
                           title="Send the draft", idempotent=False)

    def message(self, notice: _Notice) -> dict:
        """The draft's JSON: rendered template, the client as the one recipient, the .ics, the notification id."""
        if not notice.message:
            notice.message = build_message(self.template, notice.target, notice.client, self.organizer(),
                                           kind=notice.kind, sequence=notice.sequence,
                                           notification_id=notice.notification_id)
        return notice.message

    def organizer(self) -> ics.Person:
        """The organizer's name and address, asked of Graph once."""
        if self._organizer is None:
            if self.client.auth_kind == "delegated":
                me = self.client.request("GET", "v1.0", "/me?$select=id,displayName,userPrincipalName,mail").body
            else:
                me = self.client.resolve_user(self.client.profile.organizer)
            me = me if isinstance(me, dict) else {}
            self._organizer = ics.Person(me.get("displayName") or "", me.get("mail") or me.get("userPrincipalName") or "")
        return self._organizer


def template_values(target: Target, client: Client, organizer_name: str) -> dict[str, str]:
    """The placeholders' values for one client (dates in the appointment's own time zone)."""
    appt = target.appointment
    zone = ZoneInfo(appt.time_zone)   # an appointment built in code may carry UTC times
    start, end = appt.start.astimezone(zone), appt.end.astimezone(zone)
    return {"client_name": client.display_name or client.email, "subject": appt.subject,
            "date": f"{start:%A} {start.day} {start:%B %Y}", "time": f"{start:%H:%M}–{end:%H:%M}",
            "time_zone": appt.time_zone, "join_link": target.join_link, "organizer_name": organizer_name}


def calendar_entry(target: Target, attendees: tuple[ics.Person, ...], organizer: ics.Person | None,
                   sequence: int = 0) -> ics.CalendarEntry:
    """The appointment as an iCalendar event (UID stable per organizer + meeting externalId)."""
    appt = target.appointment
    return ics.CalendarEntry(uid=ics.appointment_uid(target.organizer, appt.meeting_external_id),
                             subject=appt.subject, start=appt.start, end=appt.end, time_zone=appt.time_zone,
                             join_link=target.join_link, organizer=organizer, attendees=attendees,
                             sequence=sequence)


def build_message(template: Template, target: Target, client: Client, organizer: ics.Person, *, kind: str,
                  sequence: int, notification_id: str) -> dict:
    """The Graph message for one client: their own link, the invitation (or cancellation) attached."""
    rendered = template.render(template_values(target, client, organizer.name))
    subject = {"cancel": "Cancelled: ", "update": "Updated: "}.get(kind, "") + rendered.subject
    attendee = ics.Person(one_line(client.display_name), client.email)
    entry = calendar_entry(target, (attendee,), organizer if organizer.email else None, sequence)
    method = ics.CANCEL if kind == "cancel" else ics.REQUEST
    content = base64.b64encode(ics.calendar_bytes([entry], method)).decode("ascii")
    return {
        "subject": subject,
        "body": rendered.graph_body(),
        "toRecipients": [{"emailAddress": {"address": client.email, "name": attendee.name or client.email}}],
        "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment",
                         "name": "cancellation.ics" if kind == "cancel" else "appointment.ics",
                         "contentType": "text/calendar", "contentBytes": content}],
        "singleValueExtendedProperties": [{"id": PROPERTY_ID, "value": notification_id}],
    }


def _definitive(error: GraphError) -> bool:
    return error.status in DEFINITIVE


def _utc(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
