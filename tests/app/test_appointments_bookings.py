"""Appointments page: Bookings appointments beside meetings, and a refresh that finds a meeting gone."""

from __future__ import annotations

from urllib.parse import quote

import requests

from tests.app.driver import assert_clean, button, open_app, texts
from tests.app.test_appointments import create_from_csv, mine, select_row, table
from tests.dates import monday_ahead
from tests.helpers import unique_tag

FIRST_DAY = monday_ahead(10)  # a day other tests of the shared sandbox do not book


def embedded():
    from lib.screens.embedded_sandbox import ensure_sandbox

    return ensure_sandbox()  # the app's own sandbox (already running: open_app started it)


def sandbox_get(box, path: str):
    with requests.Session() as http:
        http.trust_env = False
        return http.get(box.url + path, verify=str(box.ca_path), timeout=30).json()


def client_for(profile):
    from lib.graph.client import GraphClient
    from lib.graph.signin import token_provider_for

    return GraphClient(profile, token_provider_for(profile, on_device_code=lambda flow: None))


def book_through_the_runner(box, tag: str) -> str:
    """One Bookings appointment in the app's journal, app-only, as `send --flow bookings` would make it."""
    from lib.bulk.bookings_runner import BookingsRunner
    from lib.bulk.journal import Journal, default_journal_path
    from lib.graph.bookings import choose_target
    from lib.graph.profile import Profile
    from tests.bulk.test_bookings_runner import clinic_day

    client = client_for(Profile.load(box.app_profile_path))
    business = sandbox_get(box, "/_sandbox/bookings")["value"][0]["id"]
    journal = Journal(default_journal_path())
    try:
        outcome = BookingsRunner(client, journal, choose_target(client, business)).run(
            clinic_day(1, tag, first_day=FIRST_DAY)).outcomes[0]
    finally:
        journal.close()
    assert outcome.status == "created", outcome.error
    return outcome.appointment.clients[0].email


def app_only(at, box):
    from lib.graph.profile import Profile

    at.session_state["profile"] = Profile.load(box.app_profile_path)
    at.session_state["graph_client"] = None
    at.run()
    return at


def test_the_appointments_page_lists_and_cancels_a_bookings_appointment():
    at = open_app("pages/appointments.py")
    box = embedded()
    tag = unique_tag("BKP")
    email = book_through_the_runner(box, tag)
    at = app_only(at, box)
    at.selectbox(key="apf_kind").set_value("Bookings").run()
    assert_clean(at)
    assert set(table(at)["kind"]) == {"Bookings"}
    row = mine(at, tag).iloc[0]
    assert row["status"] == "created" and row["clientJoinWebUrl"].startswith("https://")
    at = select_row(at, tag)
    assert "Bookings · organizer virtualcare@" in texts(at)
    assert {"Refresh from Bookings", "Save", "Cancel the appointment", "Delete the booking"} <= {b.label for b in at.button}

    key = at.session_state["ap_selected"]
    at.text_area(key=f"ap_cancel_msg_{key}").set_value("The clinic is closed on that day.").run()
    button(at, "Cancel the appointment").click().run()
    assert_clean(at)
    said = texts(at)
    assert "Appointment cancelled in Bookings. Bookings emails the customer the cancellation" in said
    assert f"For Client 0, {FIRST_DAY:%Y-%m-%d} 08:00 (America/New_York)" in said
    assert mine(at, tag).iloc[0]["status"] == "cancelled" and mine(at, tag).iloc[0]["clientJoinWebUrl"] == ""
    assert at.session_state["ap_selected"] == key  # still the same appointment, ticked
    told = [m for m in sandbox_get(box, "/_sandbox/mail")["value"] if email in str(m.get("toRecipients"))]
    assert any("closed on that day" in str(m.get("body")) for m in told)
    log = [d.value for d in at.dataframe if "method" in getattr(d.value, "columns", [])][0]
    assert (log["step"].iloc[-1], log["status"].iloc[-1]) == ("bookingCancel", 204)


def test_refresh_of_a_meeting_deleted_in_teams_shows_no_longer_in_teams():
    from lib.graph.profile import Profile

    tag = unique_tag("GON")
    create_from_csv(tag, 1)
    box = embedded()
    at = open_app("pages/appointments.py")
    meeting_id = mine(at, tag).iloc[0]["onlineMeetingId"]
    client_for(Profile.load(box.profile_path)).request("DELETE", "v1.0", f"/me/onlineMeetings/{quote(meeting_id, safe='')}")

    at = select_row(at, tag)
    button(at, "Refresh join links").click().run()
    assert_clean(at)
    warned = " ".join(str(w.value) for w in at.warning)
    assert "No longer in Teams: the meeting was deleted in Teams or the tenant was reset" in warned
    assert "Sending its row again creates it anew" in warned
    row = mine(at, tag).iloc[0]
    assert row["status"] == "gone" and row["clientJoinWebUrl"] == "" and row["joinWebUrl"] == ""
    links = at.get("link_button")
    assert links and all(b.proto.disabled for b in links)
    assert all(b.disabled for b in at.button if b.label in ("Change subject or time", "Delete the meeting"))
