"""Actions on a created appointment (lib/screens/actions.py): plans, journal updates, the request log."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lib.bulk.journal import Journal
from lib.model.appointment import Appointment, Client, ModelError
from lib.model.flows import VIRTUAL_APPOINTMENT
from lib.screens import actions


def journal_entry(tmp_path, organizer="me", phone="+12125550142", flow=VIRTUAL_APPOINTMENT):
    journal = Journal(tmp_path / "j.sqlite3")
    start = datetime(2027, 2, 1, 14, tzinfo=timezone.utc)
    appt = Appointment("Visit", start, start.replace(hour=15), clients=(Client("Ann", "ann@example.com", phone),),
                       external_appointment_id="A-1")
    journal.upsert_pending("run", "profile", flow, [("k1", organizer, appt)])
    journal.update("k1", status="created", meeting_id="MSo1/x==")
    return journal, journal.get("k1")


def test_actions_address_the_meeting_with_its_id_percent_encoded(tmp_path):
    _, entry = journal_entry(tmp_path)
    steps = actions.plan_action(entry, actions.REFRESH)
    assert [s.path for s in steps] == ["/me/onlineMeetings/MSo1%2Fx%3D%3D",
                                       "/me/onlineMeetings/MSo1%2Fx%3D%3D/virtualAppointment"]
    _, entry = journal_entry(tmp_path / "app", organizer="1234-id")
    assert actions.plan_action(entry, actions.DELETE)[0].path.startswith("/users/1234-id/onlineMeetings/")


def test_an_update_patches_only_what_changed_and_the_journal_follows(tmp_path):
    journal, entry = journal_entry(tmp_path)
    with pytest.raises(ModelError):
        actions.plan_action(entry, actions.UPDATE, subject="Visit")
    steps = actions.plan_action(entry, actions.UPDATE, subject="Moved visit")
    assert steps[0].method == "PATCH" and steps[0].body == {"subject": "Moved visit"}
    actions.apply(journal, entry, actions.UPDATE, steps, [{}])
    assert journal.get("k1").subject == "Moved visit"


def test_sms_needs_a_phone_and_a_signed_in_connection(tmp_path):
    _, entry = journal_entry(tmp_path, phone="")
    assert not actions.availability(entry, actions.SMS_CONFIRMATION, auth="device_code").allowed
    _, entry = journal_entry(tmp_path / "b")
    assert not actions.availability(entry, actions.SMS_REMINDER, auth="client_credentials").allowed
    assert actions.availability(entry, actions.SMS_REMINDER, auth="device_code").allowed
    body = actions.plan_action(entry, actions.SMS_REMINDER)[0].body
    assert body["attendees"][0]["phoneNumber"] == "+12125550142"


def test_running_an_action_logs_every_request_under_the_appointment(sandbox, tmp_path):
    from lib.bulk.runner import Runner
    from lib.graph.client import GraphClient, GraphError
    from lib.graph.profile import Profile
    from lib.graph.signin import token_provider_for

    profile = Profile.load(sandbox.profile_path)
    client = GraphClient(profile, token_provider_for(profile, on_device_code=lambda flow: None))
    journal = Journal(tmp_path / "j.sqlite3")
    start = datetime(2027, 2, 1, 14, tzinfo=timezone.utc)
    appt = Appointment("Visit", start, start.replace(hour=15), clients=(Client("Ann", "ann@example.com", ""),),
                       external_appointment_id="ACT-LOG-1")
    outcome = Runner(client, journal, flow=VIRTUAL_APPOINTMENT, use_batch=False).run([appt]).outcomes[0]
    created = len(journal.requests_for(outcome.key))
    entry = journal.get(outcome.key)

    said = actions.run(client, journal, entry, actions.REFRESH)
    assert said.startswith("Join links refreshed. For Ann, 2027-02-01 14:00 (UTC)")
    said = actions.run(client, journal, journal.get(outcome.key), actions.DELETE)
    assert said.startswith("Meeting deleted. For Ann")
    log = journal.requests_for(outcome.key)
    assert [(r["method"], r["step"]) for r in log[created:]] == [
        ("GET", "meeting"), ("GET", "virtualAppointment"), ("DELETE", "delete")]
    assert all(r["request_id"] for r in log[created:])

    with pytest.raises(GraphError):  # the meeting is gone: the failed request is logged too
        actions.run(client, journal, entry, actions.REFRESH)
    last = journal.requests_for(outcome.key)[-1]
    assert last["status"] == 404 and last["error"]
