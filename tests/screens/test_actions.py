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
        actions.run(client, journal, entry, actions.UPDATE, subject="Too late")
    last = journal.requests_for(outcome.key)[-1]
    assert last["status"] == 404 and last["error"]


def sandbox_client(sandbox, *, app_only=False):
    from lib.graph.client import GraphClient
    from lib.graph.profile import Profile
    from lib.graph.signin import token_provider_for

    profile = Profile.load(sandbox.app_profile_path if app_only else sandbox.profile_path)
    return GraphClient(profile, token_provider_for(profile, on_device_code=lambda flow: None))


def test_refresh_of_a_meeting_deleted_in_teams_says_it_is_no_longer_there(sandbox, tmp_path):
    from urllib.parse import quote

    from lib.bulk.runner import Runner
    from lib.screens.appointments_view import entry_rows

    client = sandbox_client(sandbox)
    journal = Journal(tmp_path / "j.sqlite3")
    start = datetime(2027, 2, 2, 14, tzinfo=timezone.utc)
    appt = Appointment("Visit", start, start.replace(hour=15), clients=(Client("Ann", "ann@example.com", ""),),
                       external_appointment_id="GONE-1")
    outcome = Runner(client, journal, flow=VIRTUAL_APPOINTMENT, use_batch=False).run([appt]).outcomes[0]
    # Deleted in Teams, behind the app's back: the journal still says "created".
    client.request("DELETE", "v1.0", f"/me/onlineMeetings/{quote(outcome.meeting_id, safe='')}")

    said = actions.run(client, journal, journal.get(outcome.key), actions.REFRESH)
    assert said.startswith("No longer in Teams: the meeting was deleted in Teams or the tenant was reset. "
                           "Sending its row again creates it anew")
    entry = journal.get(outcome.key)
    assert entry.status == actions.GONE and entry.error.startswith("No longer in Teams")
    assert journal.requests_for(outcome.key)[-1]["status"] == 404
    row = entry_rows([entry])[0]
    assert row["clientJoinWebUrl"] == "" and row["joinWebUrl"] == ""
    assert not actions.availability(entry, actions.UPDATE, auth="device_code").allowed
    assert "send its row again" in actions.availability(entry, actions.DELETE, auth="device_code").reason


def book_one(sandbox, tmp_path, tag, *, app_only=False):
    from lib.bulk.bookings_runner import BookingsRunner
    from lib.graph.bookings import choose_target
    from tests.bulk.test_bookings_runner import clinic_day

    client = sandbox_client(sandbox, app_only=app_only)
    journal = Journal(tmp_path / "j.sqlite3")
    target = choose_target(client, sandbox.bookings()["value"][0]["id"])
    outcome = BookingsRunner(client, journal, target).run(clinic_day(1, tag)).outcomes[0]
    assert outcome.status == "created", outcome.error
    return client, journal, outcome.key


def held(sandbox, booking_id):
    for business in sandbox.bookings()["value"]:
        for appt in business.get("appointments") or []:
            if appt.get("id") == booking_id:
                return appt
    return None


def test_a_bookings_appointment_is_refreshed_rescheduled_cancelled_and_deleted_through_its_specs(sandbox, tmp_path):
    from datetime import timedelta

    from tests.helpers import unique_tag

    client, journal, key = book_one(sandbox, tmp_path, unique_tag("BKA"), app_only=True)
    entry = journal.get(key)
    assert actions.kind_label(entry) == "Bookings" and actions.title(entry, actions.UPDATE) == "Reschedule"
    assert not actions.availability(entry, actions.SMS_CONFIRMATION, auth="device_code").allowed
    logged = len(journal.requests_for(key))

    appt = entry.appointment()
    assert actions.run(client, journal, entry, actions.REFRESH).startswith(
        f"Bookings still holds this appointment; links refreshed. For Client 0, {appt.start:%Y-%m-%d} 08:00")
    later = appt.start + timedelta(hours=2)
    said = actions.run(client, journal, journal.get(key), actions.UPDATE, start=later)
    assert said.startswith(f"Appointment rescheduled in Bookings (same length). For Client 0, {later:%Y-%m-%d} 10:00")
    moved = journal.get(key).appointment()
    assert moved.start == later and moved.end - moved.start == appt.end - appt.start
    booking = held(sandbox, entry.meeting_id)  # 10:00 in New York, stored in UTC
    assert f"{later.astimezone(timezone.utc):%H:%M:%S}" in str(booking.get("startDateTime") or booking.get("start"))

    with pytest.raises(ModelError):
        actions.plan_action(journal.get(key), actions.CANCEL, message="  ")
    said = actions.run(client, journal, journal.get(key), actions.CANCEL, message="The clinic is closed that day.")
    assert "Bookings emails the customer the cancellation" in said and "For Client 0" in said
    assert journal.get(key).status == actions.CANCELLED
    assert not any(actions.availability(journal.get(key), a, auth="client_credentials").allowed
                   for a in actions.BOOKING_TITLES)
    email = entry.clients[0]["emailAddress"]
    told = [m for m in sandbox.mail() if email in str(m.get("toRecipients"))]
    assert any("closed that day" in str(m.get("body")) for m in told), told
    log = journal.requests_for(key)[logged:]
    assert [(r["method"], r["step"], r["status"]) for r in log] == [
        ("GET", "bookingGet", 200), ("PATCH", "bookingUpdate", 204), ("POST", "bookingCancel", 204)]


def test_a_bookings_appointment_is_deleted_through_its_spec(sandbox, tmp_path):
    from tests.helpers import unique_tag

    client, journal, key = book_one(sandbox, tmp_path, unique_tag("BKD"), app_only=True)
    entry = journal.get(key)
    said = actions.run(client, journal, entry, actions.DELETE)
    assert said.startswith("Appointment deleted from Bookings. For Client 0")
    assert journal.get(key).status == "deleted" and journal.requests_for(key)[-1]["status"] == 204
    assert held(sandbox, entry.meeting_id) is None


def test_refresh_of_a_booking_gone_from_bookings_says_so(sandbox, tmp_path):
    from lib.model.bookings import delete_spec
    from tests.helpers import unique_tag

    client, journal, key = book_one(sandbox, tmp_path, unique_tag("BKG"), app_only=True)
    entry = journal.get(key)
    client.send(delete_spec(entry.organizer, entry.meeting_id))  # deleted in Bookings, not from the app
    said = actions.run(client, journal, entry, actions.REFRESH)
    assert said.startswith("No longer in Bookings: the appointment was deleted in Bookings")
    assert journal.get(key).status == actions.GONE


class RefusingClient:
    """A connection whose every request Graph answers 403 (scripted: the sandbox grants cancel)."""

    auth_kind = "app"

    def send(self, spec):
        from lib.graph.client import GraphError

        raise GraphError(403, "Forbidden", "Insufficient privileges", request_id="r-403")


def test_a_refused_cancel_is_explained_in_plain_words_and_logged(tmp_path):
    from lib.graph.client import GraphError
    from lib.model.flows import BOOKINGS

    journal, entry = journal_entry(tmp_path, organizer="clinic@contoso.onmicrosoft.com", flow=BOOKINGS)
    with pytest.raises(GraphError) as refused:
        actions.run(RefusingClient(), journal, entry, actions.CANCEL, message="Sorry")
    assert "Bookings.ReadWrite.All" in refused.value.fix and "Nothing was cancelled" in refused.value.explanation
    assert journal.requests_for("k1")[-1]["status"] == 403
    assert journal.get("k1").status == "created"
