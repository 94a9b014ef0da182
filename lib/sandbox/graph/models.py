"""Graph backend: meetings and virtual appointments, their rules, ids and ETags (no HTTP here)."""
from __future__ import annotations

import base64
import json
import math
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..directory import Directory, User
from ..state import State
from . import odata
from .exceptions import BadRequest, Conflict, General, NotFound, PreconditionFailed
from .timezones import is_windows_zone

MEETING_TYPE = "microsoft.graph.onlineMeeting"
APPOINTMENT_TYPE = "microsoft.graph.virtualAppointment"

# Documented onlineMeeting properties (v1.0 and beta); anything else in a body is a 400.
MEETING_PROPERTIES = frozenset({
    "allowAttendeeToEnableCamera", "allowAttendeeToEnableMic", "allowBreakoutRooms",
    "allowCopyingAndSharingMeetingContent", "allowedLobbyAdmitters", "allowedPresenters", "allowLiveShare",
    "allowMeetingChat", "allowParticipantsToChangeName", "allowPowerPointSharing", "allowRecording",
    "allowTeamworkReactions", "allowTranscription", "allowWhiteboard", "anonymizeIdentityForRoles",
    "attendeeReport", "audioConferencing", "autoAdmittedUsers", "broadcastSettings", "capabilities", "chatInfo",
    "chatRestrictions", "creationDateTime", "endDateTime", "expiryDateTime", "externalId", "id", "isBroadcast",
    "isEndToEndEncryptionEnabled", "isEntryExitAnnounced", "joinInformation", "joinMeetingIdSettings", "joinUrl",
    "joinWebUrl", "lobbyBypassSettings", "meetingOptionsWebUrl", "meetingSpokenLanguageTag", "meetingTemplateId",
    "participants", "recordAutomatically", "sensitivityLabelAssignment", "shareMeetingChatHistoryDefault",
    "startDateTime", "subject", "videoTeleconferenceId", "watermarkProtection",
})
SERVER_SET = frozenset({"id", "joinWebUrl", "joinUrl", "chatInfo", "creationDateTime", "audioConferencing",
                        "joinInformation", "videoTeleconferenceId", "meetingOptionsWebUrl", "attendeeReport"})
NOT_UPDATABLE = SERVER_SET | {"joinMeetingIdSettings", "externalId"}
CREATE_OR_GET_PROPERTIES = frozenset({"externalId", "startDateTime", "endDateTime", "subject", "participants",
                                      "chatInfo"})
ROLES = ("attendee", "presenter", "producer", "coorganizer", "unknownFutureValue")
PRESENTERS = ("everyone", "organization", "roleIsPresenter", "organizer", "unknownFutureValue")
LOBBY_SCOPES = ("organizer", "organization", "organizationAndFederated", "everyone", "unknownFutureValue",
                "invited", "organizationExcludingGuests")
IDENTITY_SET_KINDS = ("user", "application", "device", "phone", "guest", "encrypted", "onPremises",
                      "applicationInstance", "acsUser", "spoolUser", "acsApplicationInstance",
                      "azureCommunicationServicesUser", "assertedIdentity", "teamsApplicationIdentity")

APPOINTMENT_PROPERTIES = ("id", "appointmentClientJoinWebUrl", "appointmentClients", "externalAppointmentId",
                          "externalAppointmentUrl", "settings")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
PHONE_CHARS = re.compile(r"\+?[0-9 ().\-]+")
US_E164 = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
MESSAGE_TYPES = ("confirmation", "reschedule", "cancellation")
REMINDER_TYPES = ("mins15",)


@dataclass(frozen=True)
class Caller:
    """Who a token speaks for: an app alone, or a user through an app."""
    kind: str                 # "app" | "user"
    client_id: str
    oid: str
    upn: str | None
    permissions: frozenset[str]

    @property
    def is_app(self) -> bool:
        return self.kind == "app"

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> "Caller":
        if "scp" in claims:
            return cls("user", claims.get("appid", ""), claims.get("oid", "").lower(), claims.get("upn"),
                       frozenset(claims["scp"].split()))
        return cls("app", claims.get("appid", ""), claims.get("oid", ""), None, frozenset(claims.get("roles", [])))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class GraphBackend:
    """All meeting and appointment rules; every write is one SQLite transaction."""

    def __init__(self, state: State, directory: Directory):
        self.state = state
        self.directory = directory
        self.tenant_id = directory.tenant_id
        self.provisioning_seconds = float(os.environ.get("SANDBOX_PROVISIONING_SECONDS") or 0)

    # -- users -------------------------------------------------------------------------------
    def meeting_user(self, key: str) -> User:
        """The organizer named in a meeting path: object id only (a UPN is a 404, as in Graph)."""
        user = self.directory.user_by_id(key)
        if user is None:
            raise NotFound(f"User '{key}' was not found. Online meeting paths take the user's object id "
                           "(a GUID), not a user principal name.")
        return user

    def check_access_policy(self, caller: Caller, user: User) -> None:
        granted = self.state.access_policy(caller.client_id, user.id)
        if not granted:
            raise General("No application access policy found for this app.")

    def directory_user(self, key: str) -> User:
        user = self.directory.user_by_id_or_upn(key)
        if user is None:
            raise NotFound(f"Resource '{key}' does not exist or one of its queried reference-property objects "
                           "are not present.")
        return user

    # -- meetings ----------------------------------------------------------------------------
    def create_meeting(self, organizer: User, body: dict[str, Any]) -> dict[str, Any]:
        """Plain POST: never deduplicates; subject and both times are required."""
        odata.check_properties(body, MEETING_PROPERTIES, MEETING_TYPE)
        fields = self._meeting_fields(body, creating=True)
        for name in ("subject", "startDateTime", "endDateTime"):
            if not fields.get(name):
                raise BadRequest(f"The {name} property is required when you create an online meeting.")
        with self.state.write():
            return self._insert(organizer, fields, body, external_id=body.get("externalId"))

    def create_or_get(self, organizer: User, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(meeting, created): the key is (tenant, organizer, externalId); a hit is returned unchanged."""
        odata.check_properties(body, CREATE_OR_GET_PROPERTIES, MEETING_TYPE)
        external_id = odata.expect_string(body.get("externalId"), "externalId")
        if not external_id:
            raise BadRequest("The externalId property is required for createOrGet.")
        fields = self._meeting_fields({k: v for k, v in body.items() if k != "chatInfo"}, creating=True)
        if not fields.get("subject"):
            raise BadRequest("The subject property is required when you create an online meeting.")
        if "startDateTime" not in fields:
            if "endDateTime" in fields:
                raise BadRequest("The startDateTime property is required when endDateTime is specified.")
            fields["startDateTime"] = odata.Instant.now()
        if "endDateTime" not in fields:
            fields["endDateTime"] = fields["startDateTime"].plus_seconds(3600)
        with self.state.write():
            row = self.state.meeting_by_external_id(self.tenant_id, organizer.id, external_id)
            if row is not None:
                return json.loads(row["resource"]), False
            return self._insert(organizer, fields, body, external_id=external_id), True

    def _meeting_fields(self, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Validated values of the writable properties present in `body`."""
        out: dict[str, Any] = {}
        for name in ("startDateTime", "endDateTime"):
            if body.get(name) is not None:
                out[name] = odata.parse_time(body[name])
        if "startDateTime" in out and "endDateTime" in out and out["endDateTime"] <= out["startDateTime"]:
            raise BadRequest("endDateTime must be later than startDateTime.")
        if "subject" in body:
            out["subject"] = odata.expect_string(body["subject"], "subject")
        if "externalId" in body:
            out["externalId"] = odata.expect_string(body["externalId"], "externalId")
        if body.get("participants") is not None:
            out["participants"] = _participants(body["participants"])
        if "allowedPresenters" in body:
            out["allowedPresenters"] = odata.expect_enum(body["allowedPresenters"], "allowedPresenters",
                                                         PRESENTERS, "onlineMeetingPresenters")
        if "isEntryExitAnnounced" in body:
            out["isEntryExitAnnounced"] = odata.expect_bool(body["isEntryExitAnnounced"], "isEntryExitAnnounced")
        if body.get("lobbyBypassSettings") is not None:
            out["lobbyBypassSettings"] = _lobby(body["lobbyBypassSettings"])
        if creating and body.get("joinMeetingIdSettings") is not None:
            settings = odata.expect_object(body["joinMeetingIdSettings"], "microsoft.graph.joinMeetingIdSettings")
            odata.check_properties(settings, ("isPasscodeRequired", "joinMeetingId", "passcode"),
                                   "microsoft.graph.joinMeetingIdSettings")
            out["isPasscodeRequired"] = bool(odata.expect_bool(settings.get("isPasscodeRequired"),
                                                               "isPasscodeRequired"))
        # Other documented properties are stored and echoed as sent.
        for name, value in body.items():
            if name in MEETING_PROPERTIES and name not in out and name not in SERVER_SET and name not in (
                    "startDateTime", "endDateTime", "participants", "lobbyBypassSettings", "joinMeetingIdSettings",
                    "externalId", "subject"):
                out[name] = value
        return out

    def _insert(self, organizer: User, fields: dict[str, Any], body: dict[str, Any],
                external_id: str | None) -> dict[str, Any]:
        r = _b64url(str(uuid.uuid4()).encode())
        thread = f"19:meeting_{r}@thread.v2"
        meeting_id = _b64url(f"1*{organizer.id}*0**{thread}".encode())
        join_web_url = ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + r + "%40thread.v2/0"
                        "?context=%7b%22Tid%22%3a%22" + self.tenant_id + "%22%2c%22Oid%22%3a%22"
                        + organizer.id + "%22%7d")
        join_meeting_id = str(secrets.randbelow(9 * 10**11) + 10**11)
        passcode_required = fields.pop("isPasscodeRequired", False)
        attendees = (fields.pop("participants", None) or {}).get("attendees", [])
        resource = {
            "id": meeting_id,
            "creationDateTime": odata.Instant.now().iso(),
            "startDateTime": fields.pop("startDateTime").iso(),
            "endDateTime": fields.pop("endDateTime").iso(),
            "joinWebUrl": join_web_url,
            "subject": fields.pop("subject"),
            "isBroadcast": False,
            "outerMeetingAutoAdmittedUsers": None,
            "isEntryExitAnnounced": True,
            "allowedPresenters": "everyone",
            "allowMeetingChat": "enabled",
            "shareMeetingChatHistoryDefault": "none",
            "allowTeamworkReactions": True,
            "allowAttendeeToEnableMic": True,
            "allowAttendeeToEnableCamera": True,
            "recordAutomatically": False,
            "allowParticipantsToChangeName": False,
            "allowRecording": True,
            "allowTranscription": True,
            "allowWhiteboard": True,
            "allowPowerPointSharing": True,
            "allowLiveShare": "enabled",
            "allowBreakoutRooms": True,
            "allowCopyingAndSharingMeetingContent": True,
            "allowedLobbyAdmitters": "organizerAndCoOrganizersAndPresenters",
            "isEndToEndEncryptionEnabled": False,
            "externalId": external_id,
            "videoTeleconferenceId": None,
            "meetingTemplateId": None,
            "capabilities": [],
            "anonymizeIdentityForRoles": [],
            "watermarkProtection": None,
            "chatRestrictions": None,
            "broadcastSettings": None,
            "audioConferencing": None,
            "joinInformation": None,
            "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
            "chatInfo": {"threadId": thread, "messageId": "0", "replyChainMessageId": None},
            "joinMeetingIdSettings": {"isPasscodeRequired": passcode_required, "joinMeetingId": join_meeting_id,
                                      "passcode": _passcode() if passcode_required else None},
            "participants": {"organizer": self._organizer(organizer), "attendees": attendees},
        }
        fields.pop("externalId", None)
        resource.update(fields)
        self.state.insert_meeting({"id": meeting_id, "tenant_id": self.tenant_id, "organizer_id": organizer.id,
                                   "external_id": external_id, "join_web_url": join_web_url,
                                   "join_meeting_id": join_meeting_id, "resource": resource})
        self.state.bump("onlineMeetings")
        return resource

    def _organizer(self, user: User) -> dict[str, Any]:
        return {"upn": user.upn, "role": "presenter",
                "identity": {"user": {"id": user.id, "displayName": user.display_name,
                                      "tenantId": self.tenant_id, "identityProvider": "AAD"}}}

    def _row(self, meeting_id: str, user: User, *, attendee_ok: bool = False):
        """The stored meeting if `user` reaches it (organizer; an attendee only where allowed), else 404."""
        row = self.state.meeting(meeting_id)
        if row is not None and row["tenant_id"] == self.tenant_id:
            if row["organizer_id"] == user.id:
                return row
            if attendee_ok and _is_attendee(json.loads(row["resource"]), user):
                return row
        raise NotFound("The specified online meeting was not found, or the user is not its organizer.")

    def require_meeting(self, meeting_id: str, user: User, *, attendee_ok: bool = False) -> None:
        """404 unless the meeting exists and `user` reaches it (checked before the body is read)."""
        self._row(meeting_id, user, attendee_ok=attendee_ok)

    def get_meeting(self, meeting_id: str, user: User, *, via_me: bool) -> dict[str, Any]:
        return json.loads(self._row(meeting_id, user, attendee_ok=via_me)["resource"])

    def find_meetings(self, user: User, expression: str | None, *, via_me: bool) -> list[dict[str, Any]]:
        prop, literal = odata.parse_eq_filter(expression)
        column = {"joinweburl": "join_web_url", "joinmeetingidsettings/joinmeetingid": "join_meeting_id"}.get(prop)
        if column is None:
            raise BadRequest(f"Filter on property '{prop}' is not supported. Use JoinWebUrl or "
                             "joinMeetingIdSettings/joinMeetingId.")
        out = []
        for row in self.state.meetings_where(column, literal):
            resource = json.loads(row["resource"])
            if row["tenant_id"] == self.tenant_id and (
                    row["organizer_id"] == user.id or (via_me and _is_attendee(resource, user))):
                out.append(resource)
        return out[:1]

    def update_meeting(self, meeting_id: str, user: User, body: dict[str, Any]) -> dict[str, Any]:
        row = self._row(meeting_id, user)
        odata.check_properties(body, MEETING_PROPERTIES, MEETING_TYPE)
        for name in body:
            if name in NOT_UPDATABLE:
                raise BadRequest(f"The property '{name}' cannot be updated on an online meeting.")
        participants = body.get("participants")
        if isinstance(participants, dict) and "organizer" in participants:
            raise BadRequest("The organizer of an online meeting cannot be changed.")
        if ("startDateTime" in body) != ("endDateTime" in body):
            raise BadRequest("To change the time of an online meeting, send both startDateTime and endDateTime.")
        if "subject" in body and not body["subject"]:
            raise BadRequest("The subject property cannot be empty.")
        fields = self._meeting_fields(body, creating=False)
        resource = json.loads(row["resource"])
        for name in ("startDateTime", "endDateTime"):
            if name in fields:
                resource[name] = fields.pop(name).iso()
        if "participants" in fields:
            resource["participants"]["attendees"] = fields.pop("participants").get("attendees", [])
        resource.update(fields)
        with self.state.write():
            self.state.update_meeting(meeting_id, resource)
        return resource

    def delete_meeting(self, meeting_id: str, user: User) -> None:
        self._row(meeting_id, user)
        with self.state.write():
            self.state.delete_meeting(meeting_id)

    def client_join_url(self, meeting_id: str, user: User) -> str:
        row = self._row(meeting_id, user)
        return self._client_join_url(row)

    def _client_join_url(self, row) -> str:
        thread = json.loads(row["resource"])["chatInfo"]["threadId"]
        return f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={self.tenant_id}&convId={thread}"

    # -- SMS ---------------------------------------------------------------------------------
    def send_sms(self, meeting_id: str, user: User, body: dict[str, Any], *, reminder: bool) -> int:
        """Validate and record one SMS request; returns the number of recipients."""
        self._row(meeting_id, user)
        operation = "sendVirtualAppointmentReminderSms" if reminder else "sendVirtualAppointmentSms"
        enum_name = "remindBeforeTimeInMinutesType" if reminder else "messageType"
        for name in body:
            if name not in ("attendees", enum_name) and not name.startswith("@odata."):
                raise BadRequest(f"The parameter '{name}' in the request payload is not a valid parameter for "
                                 f"the operation '{operation}'.")
        attendees = body.get("attendees")
        if not isinstance(attendees, list) or not attendees:
            raise BadRequest("The attendees parameter is required: a non-empty list of "
                             "{phoneNumber, timeZone}.")
        for i, attendee in enumerate(attendees):
            odata.expect_object(attendee, "microsoft.graph.attendeeNotificationInfo")
            odata.check_properties(attendee, ("phoneNumber", "timeZone"), "microsoft.graph.attendeeNotificationInfo")
            phone, zone = attendee.get("phoneNumber"), attendee.get("timeZone")
            if not isinstance(phone, str) or not US_E164.fullmatch(phone):
                raise BadRequest(f"attendees[{i}].phoneNumber '{odata._literal(phone)}' is not a valid US phone "
                                 "number in E.164 format (+1 and 10 digits, e.g. +13129224122).")
            if not isinstance(zone, str) or not is_windows_zone(zone):
                raise BadRequest(f"attendees[{i}].timeZone '{odata._literal(zone)}' is not a Windows time zone "
                                 "name (e.g. 'Pacific Standard Time'; IANA names are not accepted).")
        members = REMINDER_TYPES if reminder else MESSAGE_TYPES
        value = body.get(enum_name)
        if value is None:
            raise BadRequest(f"The {enum_name} parameter is required.")
        odata.expect_enum(value, enum_name, members,
                          "remindBeforeTimeInMinutesType" if reminder else "virtualAppointmentMessageType")
        with self.state.write():
            self.state.record_sms(meeting_id, "reminder" if reminder else "sms", body, len(attendees))
            self.state.bump("smsSent", len(attendees))
        return len(attendees)

    # -- virtual appointments ----------------------------------------------------------------
    def get_appointment(self, meeting_id: str, user: User) -> tuple[dict[str, Any], str]:
        row = self._row(meeting_id, user)
        if row["appointment"] is None:
            raise NotFound("The online meeting has no virtual appointment.")
        return json.loads(row["appointment"]), row["appointment_etag"]

    def put_appointment(self, meeting_id: str, user: User, body: dict[str, Any],
                        if_match: str | None) -> tuple[dict[str, Any], str, bool]:
        """(appointment, etag, created): create (201) or replace whole (200)."""
        row = self._row(meeting_id, user)
        fields = _appointment_fields(body)
        condition = odata.parse_if_match(if_match)
        if not odata.etag_matches(condition, row["appointment_etag"]):
            raise PreconditionFailed("The If-Match value does not match the virtual appointment's current ETag.")
        self._check_provisioning()
        old = json.loads(row["appointment"]) if row["appointment"] else None
        appointment = {
            "id": old["id"] if old else str(uuid.uuid4()),
            "appointmentClientJoinWebUrl": self._client_join_url(row),
            "externalAppointmentId": fields.get("externalAppointmentId"),
            "externalAppointmentUrl": fields.get("externalAppointmentUrl"),
            "settings": None if fields.get("settings") is None
            else {"allowClientToJoinUsingBrowser": None, **fields["settings"]},
            "appointmentClients": fields.get("appointmentClients") or [],
        }
        etag = odata.new_etag()
        with self.state.write():
            self.state.set_appointment(meeting_id, appointment, etag)
            if old is None:
                self.state.bump("virtualAppointments")
        return appointment, etag, old is None

    def patch_appointment(self, meeting_id: str, user: User, body: dict[str, Any], if_match: str | None) -> str:
        appointment, current = self.get_appointment(meeting_id, user)
        fields = _appointment_fields(body)
        condition = odata.parse_if_match(if_match)
        if not odata.etag_matches(condition, current):
            raise PreconditionFailed("The If-Match value does not match the virtual appointment's current ETag.")
        for name, value in fields.items():
            if name == "settings" and value is not None:
                appointment["settings"] = {"allowClientToJoinUsingBrowser": None,
                                           **(appointment.get("settings") or {}), **value}
            elif name == "appointmentClients":
                appointment[name] = value or []
            else:
                appointment[name] = value
        etag = odata.new_etag()
        with self.state.write():
            self.state.set_appointment(meeting_id, appointment, etag)
        return etag

    def delete_appointment(self, meeting_id: str, user: User, if_match: str | None) -> None:
        _, current = self.get_appointment(meeting_id, user)
        if not odata.etag_matches(odata.parse_if_match(if_match), current):
            raise PreconditionFailed("The If-Match value does not match the virtual appointment's current ETag.")
        with self.state.write():
            self.state.set_appointment(meeting_id, None, None)

    def _check_provisioning(self) -> None:
        """Opt-in: the tenant's first appointment PUTs get 409 while 'provisioning' runs."""
        if self.provisioning_seconds <= 0:
            return
        started = self.state.meta("provisioning_started")
        now = time.time()
        if started is None:
            if self.state.counters().get("virtualAppointments"):
                return
            with self.state.write():
                self.state.set_meta("provisioning_started", str(now))
            started = str(now)
        remaining = float(started) + self.provisioning_seconds - now
        if remaining > 0:
            raise Conflict("The tenant's virtual appointments service is being provisioned. Retry later.",
                           headers={"Retry-After": str(max(1, math.ceil(remaining)))})

    # -- inspection --------------------------------------------------------------------------
    def inspect_meetings(self) -> list[dict[str, Any]]:
        out = []
        for row in self.state.all_meetings():
            r = json.loads(row["resource"])
            out.append({"id": r["id"], "externalId": r.get("externalId"), "organizerId": row["organizer_id"],
                        "subject": r.get("subject"), "startDateTime": r["startDateTime"],
                        "endDateTime": r["endDateTime"], "joinWebUrl": r["joinWebUrl"],
                        "creationDateTime": r["creationDateTime"],
                        "virtualAppointment": json.loads(row["appointment"]) if row["appointment"] else None})
        return out


def _passcode() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(6))


def _is_attendee(resource: dict[str, Any], user: User) -> bool:
    for attendee in (resource.get("participants") or {}).get("attendees") or []:
        identity = ((attendee.get("identity") or {}).get("user") or {})
        if str(identity.get("id", "")).lower() == user.id or str(attendee.get("upn") or "").lower() == user.upn:
            return True
    return False


def _participants(value: Any) -> dict[str, Any]:
    value = odata.expect_object(value, "microsoft.graph.meetingParticipants")
    odata.check_properties(value, ("organizer", "attendees", "producers", "contributors"),
                           "microsoft.graph.meetingParticipants")
    attendees = value.get("attendees") or []
    if not isinstance(attendees, list):
        raise BadRequest("participants.attendees must be a list of meetingParticipantInfo.")
    if value.get("organizer") is not None:
        _participant(value["organizer"])
    return {"attendees": [_participant(a) for a in attendees]}


def _participant(value: Any) -> dict[str, Any]:
    value = odata.expect_object(value, "microsoft.graph.meetingParticipantInfo")
    odata.check_properties(value, ("identity", "upn", "role"), "microsoft.graph.meetingParticipantInfo")
    out: dict[str, Any] = {"identity": {}, "upn": odata.expect_string(value.get("upn"), "upn"),
                           "role": "attendee"}
    if value.get("role") is not None:
        out["role"] = odata.expect_enum(value["role"], "role", ROLES, "onlineMeetingRole")
    identity = value.get("identity")
    if identity is not None:
        identity = odata.expect_object(identity, "microsoft.graph.identitySet")
        odata.check_properties(identity, IDENTITY_SET_KINDS, "microsoft.graph.identitySet")
        for kind, ident in identity.items():
            if kind.startswith("@odata."):
                continue
            if ident is None:
                out["identity"][kind] = None
                continue
            ident = odata.expect_object(ident, "microsoft.graph.identity")
            odata.check_properties(ident, ("id", "displayName", "tenantId", "identityProvider", "userIdentityType"),
                                   "microsoft.graph.identity")
            out["identity"][kind] = dict(ident)
    return out


def _lobby(value: Any) -> dict[str, Any]:
    value = odata.expect_object(value, "microsoft.graph.lobbyBypassSettings")
    odata.check_properties(value, ("scope", "isDialInBypassEnabled"), "microsoft.graph.lobbyBypassSettings")
    out = {"scope": "organization", "isDialInBypassEnabled": False}
    if value.get("scope") is not None:
        out["scope"] = odata.expect_enum(value["scope"], "scope", LOBBY_SCOPES, "lobbyBypassScope")
    if value.get("isDialInBypassEnabled") is not None:
        out["isDialInBypassEnabled"] = odata.expect_bool(value["isDialInBypassEnabled"], "isDialInBypassEnabled")
    return out


def _appointment_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validated writable virtualAppointment properties present in `body` (client id/join URL ignored)."""
    odata.check_properties(body, APPOINTMENT_PROPERTIES, APPOINTMENT_TYPE)
    out: dict[str, Any] = {}
    for name in ("externalAppointmentId", "externalAppointmentUrl"):
        if name in body:
            out[name] = odata.expect_string(body[name], name)
    if "settings" in body:
        settings = body["settings"]
        if settings is None:
            out["settings"] = None
        else:
            settings = odata.expect_object(settings, "microsoft.graph.virtualAppointmentSettings")
            odata.check_properties(settings, ("allowClientToJoinUsingBrowser",),
                                   "microsoft.graph.virtualAppointmentSettings")
            out["settings"] = {name: odata.expect_bool(settings[name], name)
                               for name in ("allowClientToJoinUsingBrowser",) if name in settings}
    if "appointmentClients" in body:
        clients = body["appointmentClients"]
        if clients is not None and not isinstance(clients, list):
            raise BadRequest("appointmentClients must be a list of virtualAppointmentUser.")
        out["appointmentClients"] = [_client(c, i) for i, c in enumerate(clients or [])]
    return out


def _client(value: Any, i: int) -> dict[str, Any]:
    value = odata.expect_object(value, "microsoft.graph.virtualAppointmentUser")
    odata.check_properties(value, ("displayName", "emailAddress", "smsCapablePhoneNumber"),
                           "microsoft.graph.virtualAppointmentUser")
    client = {name: odata.expect_string(value.get(name), name)
              for name in ("displayName", "emailAddress", "smsCapablePhoneNumber")}
    email, phone = client["emailAddress"], client["smsCapablePhoneNumber"]
    if email is not None and not EMAIL.fullmatch(email):
        raise BadRequest(f"appointmentClients[{i}].emailAddress '{email}' is not a valid email address.")
    if phone is not None:
        digits = re.sub(r"\D", "", phone)
        if not PHONE_CHARS.fullmatch(phone) or "+" in phone[1:] or not 7 <= len(digits) <= 15:
            raise BadRequest(f"appointmentClients[{i}].smsCapablePhoneNumber '{phone}' is not a valid phone "
                             "number (7 to 15 digits, optional leading +).")
    return client
