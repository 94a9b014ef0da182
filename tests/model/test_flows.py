"""The two flows as request specs: what is previewed is what is sent."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lib.model.appointment import Appointment, Client
from lib.model.flows import (JOIN_LINK, MEETING_ID, VIRTUAL_APPOINTMENT, SmsOptions, organizer_path, plan,
                       reminder_sms_body)

NY = ZoneInfo("America/New_York")
APPT = Appointment("Consultation", datetime(2026, 12, 1, 9, tzinfo=NY), datetime(2026, 12, 1, 9, 30, tzinfo=NY),
                   "America/New_York", clients=(Client("Ana", "ana@example.com", "+12125550123"), Client("Bo", "bo@example.com")))


def test_virtual_appointment_flow_is_create_or_get_then_beta_put():
    steps = plan(APPT, VIRTUAL_APPOINTMENT, user_path="/users/abc")
    assert [(s.method, s.version, s.path) for s in steps] == [
        ("POST", "v1.0", "/users/abc/onlineMeetings/createOrGet"),
        ("PUT", "beta", f"/users/abc/onlineMeetings/{MEETING_ID}/virtualAppointment"),
    ]
    assert steps[0].body["externalId"] == APPT.meeting_external_id
    assert steps[1].body["externalAppointmentId"] == APPT.appointment_id


def test_join_link_flow_gets_the_link_and_optionally_texts_it():
    steps = plan(APPT, JOIN_LINK, sms=SmsOptions())
    assert [s.step for s in steps] == ["meeting", "joinLink", "sms"]
    assert steps[1].method == "GET" and steps[1].body is None
    assert steps[2].body == {"attendees": [{"phoneNumber": "+12125550123", "timeZone": "Eastern Standard Time"}],
                             "messageType": "confirmation"}
    assert steps[2].idempotent is False and steps[0].idempotent is True


def test_sms_step_is_left_out_when_no_client_has_a_phone():
    appt = Appointment("x", APPT.start, APPT.end, clients=(Client(email="a@b.com"),))
    assert [s.step for s in plan(appt, JOIN_LINK, sms=SmsOptions())] == ["meeting", "joinLink"]


def test_meeting_ids_are_percent_encoded_into_later_paths():
    spec = plan(APPT, JOIN_LINK)[1].with_meeting_id("MSp/abc=")
    assert spec.path == "/me/onlineMeetings/MSp%2Fabc%3D/getVirtualAppointmentJoinWebUrl"
    assert spec.url("https://graph.microsoft.com") == (
        "https://graph.microsoft.com/v1.0/me/onlineMeetings/MSp%2Fabc%3D/getVirtualAppointmentJoinWebUrl")


def test_paths_are_always_plural_online_meetings():
    for flow in (VIRTUAL_APPOINTMENT, JOIN_LINK):
        for spec in plan(APPT, flow):
            assert "/onlineMeetings" in spec.path and "/onlineMeeting/" not in spec.path


def test_organizer_path_is_me_for_delegated_and_users_for_app_only():
    assert organizer_path("device_code", "x") == "/me"
    assert organizer_path("client_credentials", "0a1b") == "/users/0a1b"


def test_reminder_body_uses_the_only_allowed_interval():
    assert reminder_sms_body(APPT)["remindBeforeTimeInMinutesType"] == "mins15"


def test_unknown_flow_is_refused():
    with pytest.raises(ValueError):
        plan(APPT, "teleport")


def test_bodies_carry_a_content_type_header():
    steps = plan(APPT, VIRTUAL_APPOINTMENT)
    assert steps[0].headers() == {"Content-Type": "application/json"}
