"""Bulk page on the Microsoft Bookings flow: the service's length, its rules checked before sending, the run, the links."""

from __future__ import annotations

from lib.graph.profile import Profile
from lib.screens.embedded_sandbox import ensure_sandbox
from tests.app.driver import assert_clean, button, open_app, texts, wait_until
from tests.app.test_bulk import configure_app_sandbox, results_frame, upload
from tests.dates import monday_ahead
from tests.helpers import clients_csv, unique_tag

START = monday_ahead().replace(hour=9)  # Bookings takes app bookings from an hour to a year ahead


def bookings_page(app_only: bool = True, choice: dict | None = None):
    """The bulk page with the Bookings flow chosen (app-only: the sandbox's client-credentials profile)."""
    at = open_app()
    if app_only:
        at.session_state["profile"] = Profile.load(ensure_sandbox().app_profile_path)
    at.session_state["flow"] = "bookings"
    if choice is not None:
        at.session_state["bookings_choice"] = choice
    at.switch_page("pages/bulk.py").run()
    assert_clean(at)
    return at


def in_new_york(at):
    at.selectbox(key="bulk_tz").set_value("America/New_York").run()  # inside the business's hours (08:00-18:00)
    assert_clean(at)
    return at


def test_the_service_sets_the_length_its_rules_are_checked_first_and_every_row_is_booked_with_its_links():
    tag = unique_tag("BKG")
    at = in_new_york(upload(bookings_page(), "bookings.csv", clients_csv(3, tag, start=START)))
    said = texts(at)
    assert "Initial consultation: 30 minutes" in said and at.number_input(key="bulk_duration").value == 30
    assert "**3 ready**, **0 need attention**" in said

    # A length the service does not take is refused by Bookings for an app: said on each row, before sending.
    at.number_input(key="bulk_duration").set_value(45).run()
    assert_clean(at)
    assert "**0 ready**, **3 need attention**" in texts(at)
    frame = at.data_editor[0].value
    assert all(s.startswith("✗") for s in frame["_status"])
    assert "It lasts 45 minutes, but the service takes 30" in frame["_problem"].iloc[0]
    assert not any(b.label.startswith("Create 3") for b in at.button)
    at.number_input(key="bulk_duration").set_value(30).run()
    assert "**3 ready**" in texts(at)

    at.number_input(key="bulk_preview_row").set_value(2).run()
    code = "\n".join(c.value for c in at.code)
    assert "POST" in code and "/solutions/bookingBusinesses/" in code and '"serviceId"' in code

    button(at, "Create 3 appointments").click().run()
    wait_until(at, lambda at: "Every appointment has its join link" in texts(at))
    assert_clean(at)
    said = texts(at)
    assert "3 created" in said and "Microsoft Bookings emails each customer their confirmation" in said
    results = results_frame(at)
    assert sorted(results["row"]) == [2, 3, 4] and set(results["status"]) == {"created"}
    assert all(u.startswith("https://") for u in results["clientJoinWebUrl"])
    assert all(u.startswith("https://") for u in results["joinWebUrl"])


def test_cancel_and_retry_failed_work_as_in_the_meeting_flows():
    tag = unique_tag("BKC")
    at = in_new_york(upload(bookings_page(), "bookings-cancel.csv", clients_csv(12, tag, start=START)))
    configure_app_sandbox(latency=3000)
    try:
        button(at, "Create 12 appointments").click().run()
        assert at.get("progress"), "no progress bar while booking"
        button(at, "Cancel").click().run()
        wait_until(at, lambda at: "the run was cancelled" in texts(at))
    finally:
        configure_app_sandbox(latency=0)
    failed = results_frame(at).query("status == 'failed'")
    assert len(failed) > 0 and failed["error"].str.contains("cancelled").all()
    button(at, f"Retry failed ({len(failed)})").click().run()
    wait_until(at, lambda at: "Every appointment has its join link" in texts(at))
    results = results_frame(at)
    assert len(results) == 12 and set(results["status"]) <= {"created", "existing"}


def test_a_business_that_cannot_be_used_is_explained_with_the_way_to_the_connection_page():
    at = upload(bookings_page(choice={"business": "nobody@contoso.example", "service": "", "staff": []}),
                "nowhere.csv", clients_csv(2, unique_tag("BKE")))
    assert_clean(at)
    assert at.error and at.error[0].value.startswith("Microsoft Bookings cannot be used yet")
    assert [link for link in at.get("page_link") if "Connection page" in str(link.proto.label)]
    assert not any(b.label.startswith("Create ") for b in at.button)
