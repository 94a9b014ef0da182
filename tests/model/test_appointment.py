"""The appointment model: exact Graph JSON out, tolerant but precise reading in."""

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.model.appointment import (Appointment, Client, ModelError, derive_appointment_id, format_graph_time,
                             meeting_external_id_for, parse_bool, parse_graph_time)

SEED_PUT_BODY = {
    "settings": {"allowClientToJoinUsingBrowser": True},
    "appointmentClients": [{"emailAddress": "gradya@contoso.com", "displayName": "Grady Archie",
                            "smsCapablePhoneNumber": "+13129224122"}],
    "externalAppointmentId": "AAMkADKnAAA=",
    "externalAppointmentUrl": "https://anyschedulingsystem.com/api/appointments/MkADKnAAA=",
}
PARIS = ZoneInfo("Europe/Paris")


def make(**overrides):
    values = dict(subject="Mortgage review", start=datetime(2026, 12, 1, 9, 0, tzinfo=PARIS),
                  end=datetime(2026, 12, 1, 9, 30, tzinfo=PARIS), time_zone="Europe/Paris",
                  clients=(Client("Grady Archie", "gradya@contoso.com", "+13129224122"),))
    values.update(overrides)
    return Appointment(**values)


def test_seed_payload_round_trips_to_the_same_virtual_appointment_body():
    appt = Appointment.from_document(SEED_PUT_BODY)
    assert appt.virtual_appointment_body() == SEED_PUT_BODY


def test_docs_string_boolean_is_read_and_written_as_a_json_boolean():
    body = dict(SEED_PUT_BODY, settings={"allowClientToJoinUsingBrowser": "true"})
    out = Appointment.from_document(body).virtual_appointment_body()
    assert out["settings"]["allowClientToJoinUsingBrowser"] is True
    assert '"allowClientToJoinUsingBrowser": true' in json.dumps(out)


def test_boolean_other_than_true_or_false_names_the_field():
    with pytest.raises(ModelError) as err:
        Appointment.from_document(dict(SEED_PUT_BODY, settings={"allowClientToJoinUsingBrowser": "yes"}))
    assert err.value.field == "virtualAppointment.settings.allowClientToJoinUsingBrowser"


def test_meeting_body_has_offsets_and_no_null_noise():
    body = make().meeting_body()
    assert body["startDateTime"] == "2026-12-01T09:00:00+01:00"
    assert body["endDateTime"] == "2026-12-01T09:30:00+01:00"
    assert body["subject"] == "Mortgage review"
    assert None not in body.values() and "" not in body.values()
    assert body["externalId"]


def test_utc_times_are_written_with_z():
    appt = make(time_zone="UTC", start=datetime(2026, 1, 5, 14, tzinfo=timezone.utc),
                end=datetime(2026, 1, 5, 15, tzinfo=timezone.utc))
    assert appt.meeting_body()["startDateTime"] == "2026-01-05T14:00:00Z"


def test_empty_client_properties_are_left_out():
    body = make(clients=(Client(email="a@b.com"),), allow_browser_join=None).virtual_appointment_body()
    assert body["appointmentClients"] == [{"emailAddress": "a@b.com"}]
    assert "settings" not in body and "externalAppointmentUrl" not in body


def test_template_document_round_trips():
    appt = make(organizer="adele@contoso.com", external_appointment_url="https://crm.example/a/1")
    again = Appointment.from_document(json.dumps(appt.to_document()))
    assert again == appt.with_ids()


def test_graph_meeting_response_with_seven_fraction_digits_is_read():
    meeting = {"id": "MSpk", "startDateTime": "2019-07-12T21:30:34.2444915Z",
               "endDateTime": "2019-07-12T22:00:34.2464912Z", "subject": "User Token Meeting", "externalId": None,
               "participants": {"organizer": {"identity": {"user": {"id": "550fae72"}}}}}
    appt = Appointment.from_graph(meeting, {"value": SEED_PUT_BODY})
    assert appt.start == datetime(2019, 7, 12, 21, 30, 34, 244491, tzinfo=timezone.utc)
    assert appt.organizer == "550fae72"
    assert appt.clients[0].display_name == "Grady Archie"


@pytest.mark.parametrize("text, field", [
    ("{not json", "JSON"),
    ("[1, 2]", "JSON"),
    ('{"meeting": {"subjekt": "x"}}', "meeting.subjekt"),
    ('{"meeting": {"startDateTime": "2026-01-01T10:00:00"}}', "meeting.startDateTime"),
    ('{"meeting": {"startDateTime": "2026-01-01T10:00:00Z", "endDateTime": "2026-01-01T09:00:00Z"}}', "meeting.endDateTime"),
    ('{"virtualAppointment": {"appointmentClients": {"emailAddress": "a@b.c"}}}', "virtualAppointment.appointmentClients"),
    ('{"virtualAppointment": {"appointmentClients": [{"email": "a@b.c"}]}}', "virtualAppointment.appointmentClients[0].email"),
    ('{"meeting": {"subject": 5}}', "meeting.subject"),
    ('{"timeZone": "Mars/Olympus", "meeting": {}}', "timeZone"),
])
def test_pasted_json_errors_name_the_field(text, field):
    with pytest.raises(ModelError) as err:
        Appointment.from_document(text)
    assert err.value.field == field
    assert err.value.message


def test_derived_ids_are_stable_and_ignore_client_order_and_case():
    start = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    a = derive_appointment_id(start, [Client(email="A@x.com"), Client(email="b@x.com")])
    b = derive_appointment_id(start, [Client(email="b@x.com"), Client(email="a@x.com")])
    assert a == b and a.startswith("AS-")
    assert a != derive_appointment_id(start + timedelta(minutes=30), [Client(email="a@x.com"), Client(email="b@x.com")])


def test_meeting_external_id_is_the_appointment_id_when_plain_else_a_hash():
    assert meeting_external_id_for("CRM-1234") == "CRM-1234"
    hashed = meeting_external_id_for("AAMkADKnAAA=")
    assert hashed.startswith("AS-") and hashed == meeting_external_id_for("AAMkADKnAAA=")


def test_the_same_appointment_always_gets_the_same_external_id():
    assert make().meeting_external_id == make().meeting_external_id


def test_graph_times_need_an_offset():
    with pytest.raises(ModelError):
        parse_graph_time("2024-01-19T13:38:22.169688", "startDateTime")
    assert parse_graph_time("2024-01-19T13:38:22.1696880+02:00", "x").utcoffset() == timedelta(hours=2)
    with pytest.raises(ModelError):
        format_graph_time(datetime(2026, 1, 1))


def test_parse_bool_accepts_booleans_and_their_text_only():
    assert parse_bool(False, "x") is False and parse_bool(" TRUE ", "x") is True and parse_bool(None, "x") is None
    with pytest.raises(ModelError):
        parse_bool(1, "x")
