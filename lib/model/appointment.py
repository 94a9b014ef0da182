"""The appointment model: one virtual appointment and the Teams meeting it lives on.

One model serves the designer, the spreadsheet import, both Graph flows, the command line and the
journal. It serialises to exactly the JSON Graph expects (JSON booleans, ISO-8601 times with
offsets, no empty or null noise) and reads back from Graph responses and from pasted JSON, with
errors that name the field.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "UTC"
DEFAULT_SUBJECT = "Virtual appointment"


class ModelError(ValueError):
    """A value that cannot be part of an appointment; ``field`` names where it is."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Client:
    """A person the appointment is for (Graph: virtualAppointmentUser)."""

    display_name: str = ""
    email: str = ""
    phone: str = ""  # E.164 once validated

    def to_graph(self) -> dict:
        """The ``appointmentClients`` item, without empty properties."""
        doc = {}
        if self.display_name:
            doc["displayName"] = self.display_name
        if self.email:
            doc["emailAddress"] = self.email
        if self.phone:
            doc["smsCapablePhoneNumber"] = self.phone
        return doc

    @classmethod
    def from_graph(cls, doc: dict, where: str = "appointmentClients[0]") -> "Client":
        """Read one client from Graph JSON; unknown properties are an error."""
        if not isinstance(doc, dict):
            raise ModelError(where, "must be an object with displayName, emailAddress, smsCapablePhoneNumber")
        _reject_unknown(doc, {"displayName", "emailAddress", "smsCapablePhoneNumber"}, where)
        return cls(
            display_name=_text(doc, "displayName", where),
            email=_text(doc, "emailAddress", where),
            phone=_text(doc, "smsCapablePhoneNumber", where),
        )

    @property
    def label(self) -> str:
        """How a person would name this client in a list."""
        return self.display_name or self.email or self.phone or "(unnamed client)"

    @property
    def key(self) -> str:
        """Who this is, for telling clients apart: the email, else the phone, else the name, in lower case."""
        return (self.email or self.phone or self.display_name).strip().lower()


@dataclass(frozen=True)
class Appointment:
    """A virtual appointment plus its online meeting.

    ``start`` and ``end`` are timezone-aware; ``time_zone`` is the IANA zone the user thinks in.
    ``organizer`` is an object id or UPN ("" means the signed-in user, ``/me``).
    """

    subject: str
    start: datetime
    end: datetime
    time_zone: str = DEFAULT_TIME_ZONE
    organizer: str = ""
    clients: tuple[Client, ...] = ()
    allow_browser_join: bool | None = True
    external_appointment_id: str = ""
    external_appointment_url: str = ""
    external_id: str = ""
    source_rows: tuple[int, ...] = field(default=(), compare=False)

    # -- identity -----------------------------------------------------------------------------
    @property
    def appointment_id(self) -> str:
        """The scheduling system's id, or a stable one derived from who and when."""
        return self.external_appointment_id or derive_appointment_id(self.start, self.clients)

    @property
    def meeting_external_id(self) -> str:
        """The ``externalId`` createOrGet is keyed on (per organizer): never random, so re-sending never duplicates."""
        if self.external_id:
            return self.external_id
        return meeting_external_id_for(self.appointment_id)

    def with_ids(self) -> "Appointment":
        """A copy with the derived ids written out, as they will be sent."""
        return replace(self, **ids_for(self.start, self.clients, self.external_appointment_id, self.external_id))

    # -- Graph JSON ---------------------------------------------------------------------------
    def meeting_body(self, include_external_id: bool = True) -> dict:
        """The onlineMeeting body for createOrGet (or a plain POST without ``externalId``)."""
        body = {}
        if include_external_id:
            body["externalId"] = self.meeting_external_id
        body["subject"] = self.subject
        body["startDateTime"] = format_graph_time(self.start, self.time_zone)
        body["endDateTime"] = format_graph_time(self.end, self.time_zone)
        return body

    def virtual_appointment_body(self) -> dict:
        """The beta virtualAppointment body for PUT."""
        body: dict = {}
        if self.allow_browser_join is not None:
            body["settings"] = {"allowClientToJoinUsingBrowser": bool(self.allow_browser_join)}
        clients = [c.to_graph() for c in self.clients]
        clients = [c for c in clients if c]
        if clients:
            body["appointmentClients"] = clients
        body["externalAppointmentId"] = self.appointment_id
        if self.external_appointment_url:
            body["externalAppointmentUrl"] = self.external_appointment_url
        return body

    def to_document(self) -> dict:
        """Both bodies plus the organizer and zone: the format of templates and pasted JSON."""
        doc = {"meeting": self.meeting_body(), "virtualAppointment": self.virtual_appointment_body()}
        if self.organizer:
            doc["organizer"] = self.organizer
        doc["timeZone"] = self.time_zone
        return doc

    @classmethod
    def from_document(cls, doc, *, organizer: str = "", time_zone: str | None = None) -> "Appointment":
        """Read a pasted or uploaded JSON document.

        Accepts ``{"meeting": {...}, "virtualAppointment": {...}}`` (the template format), a bare
        virtualAppointment body, or a bare onlineMeeting body. Errors name the field.
        """
        if isinstance(doc, (str, bytes)):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError as exc:
                raise ModelError("JSON", f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
        if not isinstance(doc, dict):
            raise ModelError("JSON", "must be an object { ... }")
        if "meeting" in doc or "virtualAppointment" in doc:
            _reject_unknown(doc, {"meeting", "virtualAppointment", "organizer", "timeZone"}, "document")
            meeting = doc.get("meeting") or {}
            va = doc.get("virtualAppointment") or {}
            organizer = _text(doc, "organizer", "document") or organizer
            time_zone = _text(doc, "timeZone", "document") or time_zone
        elif any(k in doc for k in ("appointmentClients", "settings", "externalAppointmentId", "externalAppointmentUrl")):
            meeting, va = {}, doc
        else:
            meeting, va = doc, {}
        return cls.from_graph(meeting, va, organizer=organizer, time_zone=time_zone)

    @classmethod
    def from_graph(cls, meeting: dict, virtual_appointment: dict | None = None, *,
                   organizer: str = "", time_zone: str | None = None) -> "Appointment":
        """Read a Graph onlineMeeting (and optional virtualAppointment) response or request body."""
        if not isinstance(meeting, dict):
            raise ModelError("meeting", "must be an object")
        va = virtual_appointment or {}
        if not isinstance(va, dict):
            raise ModelError("virtualAppointment", "must be an object")
        if isinstance(va.get("value"), dict):  # the docs' GET example wraps the entity
            va = va["value"]
        _reject_unknown(meeting, MEETING_PROPERTIES, "meeting")
        _reject_unknown(va, VIRTUAL_APPOINTMENT_PROPERTIES, "virtualAppointment")
        zone = time_zone or DEFAULT_TIME_ZONE
        check_time_zone(zone, "timeZone")
        start_text = meeting.get("startDateTime")
        end_text = meeting.get("endDateTime")
        start = parse_graph_time(start_text, "meeting.startDateTime") if start_text else None
        end = parse_graph_time(end_text, "meeting.endDateTime") if end_text else None
        if start is None:
            start = next_half_hour(datetime.now(timezone.utc))
        if end is None:
            end = start + timedelta(minutes=30)
        if end <= start:
            raise ModelError("meeting.endDateTime", "must be later than startDateTime")
        clients_doc = va.get("appointmentClients") or []
        if not isinstance(clients_doc, list):
            raise ModelError("virtualAppointment.appointmentClients", "must be a list of clients [ {...} ]")
        clients = tuple(
            Client.from_graph(c, f"virtualAppointment.appointmentClients[{i}]") for i, c in enumerate(clients_doc)
        )
        settings = va.get("settings") or {}
        if not isinstance(settings, dict):
            raise ModelError("virtualAppointment.settings", "must be an object")
        _reject_unknown(settings, {"allowClientToJoinUsingBrowser"}, "virtualAppointment.settings")
        allow = parse_bool(settings.get("allowClientToJoinUsingBrowser"),
                           "virtualAppointment.settings.allowClientToJoinUsingBrowser")
        org = organizer
        participants = meeting.get("participants")
        if not org and isinstance(participants, dict):
            org = (((participants.get("organizer") or {}).get("identity") or {}).get("user") or {}).get("id") or ""
        subject = _text(meeting, "subject", "meeting") or DEFAULT_SUBJECT
        return cls(
            subject=subject,
            start=start.astimezone(ZoneInfo(zone)),
            end=end.astimezone(ZoneInfo(zone)),
            time_zone=zone,
            organizer=org,
            clients=clients,
            allow_browser_join=allow,
            external_appointment_id=_text(va, "externalAppointmentId", "virtualAppointment"),
            external_appointment_url=_text(va, "externalAppointmentUrl", "virtualAppointment"),
            external_id=_text(meeting, "externalId", "meeting"),
        )

    # -- display ------------------------------------------------------------------------------
    @property
    def clients_label(self) -> str:
        """The clients' names for a table cell."""
        return ", ".join(c.label for c in self.clients) or "(no client)"

    @property
    def duration_minutes(self) -> int:
        # In UTC: subtracting two times of one ZoneInfo is wall-clock arithmetic and miscounts across DST.
        return int((self.end.astimezone(timezone.utc) - self.start.astimezone(timezone.utc)).total_seconds() // 60)


# Properties Graph defines on the types we read; anything else is a typo the user should hear about.
MEETING_PROPERTIES = {
    "@odata.context", "@odata.type", "@odata.etag", "id", "creationDateTime", "startDateTime", "endDateTime",
    "subject", "externalId", "joinWebUrl", "joinUrl", "joinMeetingIdSettings", "chatInfo", "participants",
    "videoTeleconferenceId", "audioConferencing", "joinInformation", "allowedPresenters", "lobbyBypassSettings",
    "isEntryExitAnnounced", "allowMeetingChat", "allowTeamworkReactions", "allowAttendeeToEnableCamera",
    "allowAttendeeToEnableMic", "recordAutomatically", "isBroadcast", "broadcastSettings", "meetingInfo",
    "allowRecording", "allowTranscription", "watermarkProtection", "shareMeetingChatHistoryDefault",
    "chatRestrictions", "meetingTemplateId", "allowParticipantsToChangeName", "allowCopyingAndSharingMeetingContent",
    "allowLiveShare", "allowPowerPointSharing", "allowWhiteboard", "allowBreakoutRooms", "meetingOptionsWebUrl",
    "anonymizeIdentityForRoles", "expiryDateTime", "isEndToEndEncryptionEnabled", "sensitivityLabelAssignment",
}
VIRTUAL_APPOINTMENT_PROPERTIES = {
    "@odata.context", "@odata.type", "@odata.etag", "id", "appointmentClients", "appointmentClientJoinWebUrl",
    "externalAppointmentId", "externalAppointmentUrl", "settings",
}


# -- ids -------------------------------------------------------------------------------------
def derive_appointment_id(start: datetime, clients: tuple[Client, ...] | list[Client]) -> str:
    """A stable id from when and who, for rows that carry no id of their own."""
    who = sorted(c.key for c in clients)
    key = start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ") + "|" + "|".join(who)
    return "AS-" + _short_hash(key, 12)


def ids_for(start: datetime, clients: tuple[Client, ...], appointment_id: str = "", external_id: str = "") -> dict:
    """``external_appointment_id`` and ``external_id`` as they will be sent: the given ones, else derived."""
    appointment_id = appointment_id or derive_appointment_id(start, clients)
    return {"external_appointment_id": appointment_id,
            "external_id": external_id or meeting_external_id_for(appointment_id)}


def derive_scheduled_id(clients: tuple[Client, ...] | list[Client], occurrence: int) -> str:
    """A stable id for a row whose time comes from the scheduler: who, and which of their rows.

    The slot times move with the schedule's start (by default the next working day), so they must not
    be part of the id, or re-sending the same file on another day would create the meetings again.
    """
    who = sorted(c.key for c in clients)
    return "AS-" + _short_hash("scheduled|" + "|".join(who) + f"#{occurrence}", 12)


_PLAIN_ID = re.compile(r"[\w\-.:]{1,64}")  # \w: what str.isalnum() accepts, and "_"


def meeting_external_id_for(appointment_id: str) -> str:
    """The createOrGet ``externalId`` for an appointment id: the id itself when it is short and plain."""
    if _PLAIN_ID.fullmatch(appointment_id):
        return appointment_id
    return "AS-" + _short_hash(appointment_id, 16)


def _short_hash(text: str, length: int) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:length]


# -- values ----------------------------------------------------------------------------------
def format_graph_time(moment: datetime, time_zone: str | None = None) -> str:
    """ISO-8601 with an offset, in the appointment's zone (Graph rejects times without one)."""
    if moment.tzinfo is None:
        raise ModelError("time", "needs a time zone")
    if time_zone:
        moment = moment.astimezone(ZoneInfo(time_zone))
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_graph_time(value, where: str) -> datetime:
    """Parse a Graph ``DateTimeOffset``: an offset or ``Z`` is required; up to 7 fractional digits."""
    if not isinstance(value, str):
        raise ModelError(where, "must be a date-time text such as 2026-03-02T09:30:00+01:00")
    text = value.strip()  # Python 3.11's fromisoformat reads "Z" and Graph's 7 fractional digits
    if text.endswith("z"):  # RFC 3339 allows a lower-case z; fromisoformat does not
        text = text[:-1] + "Z"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ModelError(where, f"'{value}' is not a date-time such as 2026-03-02T09:30:00+01:00") from None
    if moment.tzinfo is None:
        raise ModelError(where, f"'{value}' has no time zone offset; add one, e.g. {value}Z or {value}+01:00")
    return moment


def parse_bool(value, where: str) -> bool | None:
    """Graph types the setting Boolean; accept the docs' string form too, and return a real boolean."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ModelError(where, f"must be true or false, not {json.dumps(value)}")


def check_time_zone(name: str, where: str = "timeZone") -> ZoneInfo:
    """The ZoneInfo for an IANA name, or a ModelError saying what to write instead."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ModelError(where, f"'{name}' is not a time zone; use a name such as Europe/London or America/New_York") from None


def next_half_hour(moment: datetime) -> datetime:
    """The next :00 or :30 after ``moment``: a friendly default start."""
    moment = moment.replace(second=0, microsecond=0)
    return moment + timedelta(minutes=30 - moment.minute % 30)


def _text(doc: dict, key: str, where: str) -> str:
    value = doc.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ModelError(f"{where}.{key}", f"must be text, not {json.dumps(value)}")
    return value.strip()


def _reject_unknown(doc: dict, known: set[str], where: str) -> None:
    for key in doc:
        if key not in known and not key.startswith("@odata."):
            raise ModelError(f"{where}.{key}", f"'{key}' is not a property of {where}; check the spelling")
