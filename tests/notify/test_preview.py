"""The preview shows exactly what a client will receive and the request that sends it."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from lib.model.appointment import Appointment, Client
from lib.model.snippets import snippet
from lib.notify import ics
from lib.notify.notifier import Target
from lib.notify.preview import email_for, run_specs, send_mail_spec
from lib.notify.templates import DEFAULT

LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_x@thread.v2"
START = datetime(2030, 7, 5, 14, 0, tzinfo=ZoneInfo("America/New_York"))
MARIA = Client("Maria <b>Garcia</b>", "maria@example.com")
TARGET = Target("k", Appointment("Consultation", START, START + timedelta(minutes=45), time_zone="America/New_York",
                                 clients=(MARIA,)), LINK, "org-1", (2,))
ADELE = ics.Person("Adele Vance", "adele@contoso.example")


def test_the_preview_is_the_clients_own_email_in_the_appointments_zone():
    email = email_for(DEFAULT, TARGET, MARIA, "Adele Vance")
    assert email.subject == "Your appointment: Consultation on Friday 5 July 2030 at 14:00–14:45"
    assert "Maria &lt;b&gt;Garcia&lt;/b&gt;" in email.body and "America/New_York" in email.body


def test_the_send_mail_request_carries_the_message_and_an_invitation_with_the_meetings_times():
    spec = send_mail_spec(DEFAULT, TARGET, MARIA, ADELE)
    assert (spec.method, spec.path, spec.idempotent) == ("POST", "/me/sendMail", False)
    message = spec.body["message"]
    assert message["toRecipients"] == [{"emailAddress": {"address": "maria@example.com", "name": "Maria <b>Garcia</b>"}}]
    assert message["body"]["content"] == email_for(DEFAULT, TARGET, MARIA, "Adele Vance").body
    [event] = Calendar.from_ical(base64.b64decode(message["attachments"][0]["contentBytes"])).walk("VEVENT")
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=45)
    assert "sendMail" in snippet("cURL", [spec], "https://graph.microsoft.com")


def test_a_run_makes_a_draft_then_sends_it():
    draft, send = run_specs(DEFAULT, TARGET, MARIA, ADELE, "/users/org-1")
    assert (draft.path, send.path) == ("/users/org-1/messages", "/users/org-1/messages/{messageId}/send")
    assert draft.body["singleValueExtendedProperties"][0]["id"].startswith("String {")
