"""The payload designer's logic: its form as an appointment and back, the request preview, templates.

The page holds widgets only; everything here is plain Python with unit tests. The preview is made
from the very ``RequestSpec`` objects the runner sends, so what the designer shows is what goes out.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from lib.screens.saved import SavedByName, file_name
from lib.model.appointment import (DEFAULT_SUBJECT, Appointment, Client, ModelError, check_time_zone,
                                   meeting_external_id_for, parse_graph_time)
from lib.spreadsheet.cells import check_email, check_phone
from lib.model.flows import RequestSpec
from lib.model.timezones import COMMON_ZONES

HIDDEN_TOKEN = "Bearer <hidden>"
DEFAULT_CLIENTS = (
    {"name": "Avery Lopez", "email": "avery.lopez@example.com", "phone": "+1 212 555 0142"},
)


@dataclass
class DesignerForm:
    """Everything the designer's widgets hold, in the user's words."""

    subject: str = DEFAULT_SUBJECT
    day: date = field(default_factory=lambda: date.today() + timedelta(days=1))
    start: time = time(10, 0)
    duration: int = 30  # minutes; ``end`` wins when set
    end: time | None = None
    time_zone: str = "UTC"
    organizer: str = ""
    clients: list[dict] = field(default_factory=lambda: [dict(c) for c in DEFAULT_CLIENTS])
    allow_browser_join: bool = True
    external_appointment_id: str = ""
    external_appointment_url: str = ""
    external_id: str = ""  # the meeting's own externalId (createOrGet's key); blank: from the appointment id

    @property
    def uses_example_client(self) -> bool:
        """Whether a client row is still the built-in example (never sent: it is nobody)."""
        examples = [{k: v for k, v in c.items()} for c in DEFAULT_CLIENTS]
        return any({k: str(row.get(k) or "").strip() for k in ("name", "email", "phone")} in examples
                   for row in self.clients)

    def appointment(self) -> Appointment:
        """The appointment these values describe; a ModelError names the field to fix."""
        zone = check_time_zone((self.time_zone or "").strip() or "UTC", "Time zone")
        start = datetime.combine(self.day, self.start, tzinfo=zone)
        if self.end is not None:
            end = datetime.combine(self.day, self.end, tzinfo=zone)
            if end <= start:
                raise ModelError("End", f"must be after the start ({self.start:%H:%M}); "
                                        "pick a later end or set a duration instead")
        else:
            if not self.duration or self.duration < 1:
                raise ModelError("Duration", "must be at least 1 minute")
            end = start + timedelta(minutes=int(self.duration))
        clients = tuple(_client(row, i) for i, row in enumerate(self.clients) if _has_any(row))
        if not clients:
            raise ModelError("Clients", "add at least one client with a name, an email or a phone number")
        url = (self.external_appointment_url or "").strip()
        if url and not re.match(r"^https?://\S+$", url):
            raise ModelError("External URL", f"'{url}' is not a web address; write it like https://booking.example.com/a/123")
        return Appointment(
            subject=(self.subject or "").strip() or DEFAULT_SUBJECT,
            start=start, end=end, time_zone=zone.key, organizer=(self.organizer or "").strip(),
            clients=clients, allow_browser_join=bool(self.allow_browser_join),
            external_appointment_id=(self.external_appointment_id or "").strip(),
            external_appointment_url=url,
            external_id=(self.external_id or "").strip(),
        )

    @classmethod
    def from_appointment(cls, appt: Appointment) -> "DesignerForm":
        """The form that shows ``appt`` (after loading JSON or a template)."""
        zone = ZoneInfo(appt.time_zone)
        start = appt.start.astimezone(zone)
        return cls(
            subject=appt.subject, day=start.date(), start=start.time().replace(second=0, microsecond=0),
            duration=max(1, appt.duration_minutes), end=None,
            time_zone=appt.time_zone, organizer=appt.organizer,
            clients=[{"name": c.display_name, "email": c.email, "phone": c.phone} for c in appt.clients],
            allow_browser_join=appt.allow_browser_join is not False,
            # A meeting body alone has only externalId: it is the appointment's id too.
            external_appointment_id=appt.external_appointment_id or appt.external_id,
            external_appointment_url=appt.external_appointment_url,
            external_id=appt.external_id if appt.external_id != meeting_external_id_for(
                appt.external_appointment_id or appt.external_id) else "",
        )

    @classmethod
    def from_document(cls, text: str | bytes | dict, *, preferred_zone: str = "UTC") -> "DesignerForm":
        """The form for a pasted or uploaded JSON document.

        Without a ``timeZone`` the times stay in the offset they were written with (``-05:00``): in
        ``preferred_zone`` when it has that offset then, else in a fixed-offset zone.
        """
        doc = json.loads(text) if isinstance(text, (str, bytes)) and _is_json(text) else text
        appt = Appointment.from_document(doc)
        if isinstance(doc, dict) and not doc.get("timeZone"):
            meeting = doc.get("meeting") if isinstance(doc.get("meeting"), dict) else doc
            written = meeting.get("startDateTime") if isinstance(meeting, dict) else None
            if isinstance(written, str):
                zone = zone_for_offset(parse_graph_time(written, "meeting.startDateTime"), preferred_zone)
                appt = replace(appt, time_zone=zone, start=appt.start.astimezone(ZoneInfo(zone)),
                               end=appt.end.astimezone(ZoneInfo(zone)))
        return cls.from_appointment(appt)

    def summary(self) -> str:
        """What a loaded form holds, for the confirmation: id, date, time and zone, clients."""
        names = ", ".join(c.get("name") or c.get("email") or c.get("phone") or "" for c in self.clients) or "no client"
        ident = self.external_appointment_id or "a derived id"
        return f"{ident} · {self.day:%Y-%m-%d} {self.start:%H:%M} ({zone_label(self.time_zone, self.day)}) · {names}"


def _is_json(text) -> bool:
    """Text that parses; otherwise Appointment.from_document reports where it does not."""
    try:
        json.loads(text)
    except (ValueError, TypeError):
        return False
    return True


def zone_for_offset(moment: datetime, preferred: str = "UTC") -> str:
    """An IANA zone that shows ``moment`` with the UTC offset it was written with."""
    offset = moment.utcoffset() or timedelta(0)
    for name in (preferred, "UTC"):
        try:
            if moment.astimezone(ZoneInfo(name)).utcoffset() == offset:
                return name
        except (KeyError, ValueError):  # an unknown preferred name
            continue
    minutes = int(offset.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"Etc/GMT{-minutes // 60:+d}"  # POSIX signs: Etc/GMT+5 is UTC-05:00
    return next((name for name in COMMON_ZONES if moment.astimezone(ZoneInfo(name)).utcoffset() == offset), "UTC")


def zone_label(name: str, day: date | None = None) -> str:
    """``Etc/GMT+5`` as ``UTC-05:00``; named zones as they are."""
    if not name.startswith("Etc/GMT"):
        return name
    offset = datetime.combine(day or date.today(), time(12), tzinfo=ZoneInfo(name)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _has_any(row: dict) -> bool:
    return any(str(row.get(k) or "").strip() for k in ("name", "email", "phone"))


def _client(row: dict, index: int) -> Client:
    name = str(row.get("name") or "").strip()
    email = str(row.get("email") or "").strip()
    phone = str(row.get("phone") or "").strip()
    where = f"Client {index + 1}"
    if email:
        email, problem = check_email(email)
        if problem:
            raise ModelError(f"{where} email", f"'{row.get('email')}' {problem}")
    if phone:
        phone = normalise_phone(phone, where)
    return Client(display_name=name, email=email, phone=phone)


def normalise_phone(text: str, where: str = "Phone") -> str:
    """E.164 (``+12125550142``) from what people type; US numbers may leave out the +1."""
    number, problem = check_phone(text, "US")
    if problem:
        raise ModelError(f"{where} phone", f"'{text}' {problem}")
    return number


# -- the request preview --------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewRequest:
    """One request as the preview shows it: the token is never shown."""

    title: str
    method: str
    url: str
    headers: dict
    body: dict | None

    def as_text(self) -> str:
        """The request as raw HTTP, for a code block."""
        lines = [f"{self.method} {self.url}"] + [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body is not None:
            lines += ["", json.dumps(self.body, indent=2, ensure_ascii=False)]
        return "\n".join(lines)


def preview(steps: list[RequestSpec], graph_base_url: str) -> list[PreviewRequest]:
    """The requests ``steps`` will send, with full URLs and headers (Authorization hidden)."""
    shown = []
    for spec in steps:
        headers = {"Authorization": HIDDEN_TOKEN, "client-request-id": "<a new id per request>", **spec.headers()}
        shown.append(PreviewRequest(spec.title or spec.step, spec.method, spec.url(graph_base_url), headers, spec.body))
    return shown


# -- the draft kept between visits ------------------------------------------------------------------
class DraftStore:
    """The designer's form in one JSON file (``studio_home()/jobs/designer.json``): a reload keeps it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def save(self, form: DesignerForm) -> None:
        data = {name: getattr(form, name) for name in form.__dataclass_fields__}
        data["day"] = form.day.isoformat()
        data["start"] = form.start.strftime("%H:%M")
        data["end"] = form.end.strftime("%H:%M") if form.end else None
        text = json.dumps(data, ensure_ascii=False, indent=1)
        if self.path.exists() and self.path.read_text(encoding="utf-8") == text:
            return  # most reruns change nothing
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.path)

    def load(self) -> DesignerForm | None:
        """The kept draft, or None when there is none or it cannot be read any more."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            data["day"] = date.fromisoformat(data["day"])
            data["start"] = time.fromisoformat(data["start"])
            data["end"] = time.fromisoformat(data["end"]) if data.get("end") else None
            known = DesignerForm.__dataclass_fields__
            return DesignerForm(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


# -- templates ------------------------------------------------------------------------------------
class Templates(SavedByName):
    """Saved designer payloads: one JSON document per file in a folder (``studio_home()/templates``)."""

    what = "Template"

    def save(self, name: str, appointment: Appointment) -> Path:
        """Write the appointment as a template; the same name overwrites."""
        return self.save_document(name, appointment.to_document())

    def load(self, name: str) -> Appointment:
        """A saved template as an appointment."""
        return Appointment.from_document(self.existing_path(name).read_text(encoding="utf-8"))


template_file_name = file_name  # the name the designer's tests and pages know it by


def fresh_copy(appt: Appointment) -> Appointment:
    """The same appointment under a new external id, for sending a design again as a new meeting."""
    return replace(appt, external_appointment_id="DSN-" + uuid.uuid4().hex[:10].upper(), external_id="")


# -- sending, with every exchange kept ---------------------------------------------------------------
@dataclass
class Exchange:
    """One request the designer sent and what came back (a response or an error)."""

    spec: RequestSpec
    response: object | None = None
    error: BaseException | None = None

    @property
    def status(self) -> int | None:
        source = self.response if self.response is not None else self.error
        return getattr(source, "status", None)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400


class RecordingClient:
    """A Graph client that keeps each request it sends and the answer, for the designer's response panel.

    Everything else (profile, throttle, batch, ...) is the wrapped client's, so the runner can use it.
    """

    def __init__(self, client):
        self._client = client
        self.exchanges: list[Exchange] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send(self, spec: RequestSpec):
        try:
            response = self._client.send(spec)
        except Exception as exc:
            self.exchanges.append(Exchange(spec, error=exc))
            raise
        self.exchanges.append(Exchange(spec, response=response))
        return response


# -- the Bookings flow and telling clients by email ---------------------------------------------------------
LINK_FROM_THE_ANSWER = "https://visit.teams.microsoft.com/the-clients-own-link-from-the-answer-above"


def for_booking(form: DesignerForm, duration_minutes: int | None) -> DesignerForm:
    """The form as Bookings takes it: the service decides the length (an end time would be refused)."""
    if not duration_minutes:
        return form
    return replace(form, duration=int(duration_minutes), end=None)


def notify_specs(appointment: Appointment, organizer, user_path: str = "/me", template=None) -> list[RequestSpec]:
    """The sendMail requests that tell each client with an email their link, as the designer previews them.

    The link is Graph's answer to the requests before, so the preview shows a placeholder in its place.
    """
    from lib.notify.notifier import Target
    from lib.notify.preview import send_mail_spec
    from lib.notify.templates import DEFAULT

    target = Target("preview", appointment, LINK_FROM_THE_ANSWER)
    return [send_mail_spec(template or DEFAULT, target, c, organizer, user_path)
            for c in appointment.clients if c.email]
