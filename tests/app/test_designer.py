"""Designer: widgets on the left, the live request on the right, send, then the response and links."""

from __future__ import annotations

import json
from datetime import time

import pytest

from tests.app.driver import assert_clean, button, open_app, texts
from tests.helpers import unique_tag


@pytest.fixture(autouse=True)
def no_draft():
    """Each test opens the designer as a first-time user would: no draft kept from an earlier test."""
    from lib.datafolder import studio_home

    (studio_home() / "jobs" / "designer.json").unlink(missing_ok=True)


def code_blocks(at) -> str:
    return "\n".join(c.value for c in at.code)


def replace_example_client(at, phone="+1 212 555 0142"):
    """Type a real client over the example row, as a person would in the grid."""
    key = next(k for k in at.session_state if str(k).startswith("grid_dz_clients_"))
    at.session_state[key] = {"edited_rows": {0: {"name": "Lee Chen", "email": "lee.chen@example.com", "phone": phone}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)


def test_the_preview_shows_each_request_with_full_url_and_hidden_token():
    at = open_app("pages/designer.py")
    assert_clean(at)
    code = code_blocks(at)
    assert "POST https://127.0.0.1:" in code and "/v1.0/me/onlineMeetings/createOrGet" in code
    assert "PUT https://127.0.0.1:" in code and "/beta/me/onlineMeetings/{onlineMeetingId}/virtualAppointment" in code
    assert "Authorization: Bearer <hidden>" in code
    assert "avery.lopez@example.com" in code
    # Snippets in every language, with the same requests.
    assert "curl -sS" in code and "session.request(" in code and "Invoke-RestMethod" in code and "###" in code


def test_the_preview_follows_the_widgets_as_they_change():
    at = open_app("pages/designer.py")
    at.text_input(key="dz_subject").set_value("Intake call").run()
    at.number_input(key="dz_duration").set_value(45).run()
    code = code_blocks(at)
    assert '"subject": "Intake call"' in code
    assert '"startDateTime": ' in code and "T10:45:00" in code  # 10:00 + 45 minutes


def test_a_field_error_names_the_field_and_the_fix():
    at = open_app("pages/designer.py")
    at.time_input(key="dz_start").set_value(time(10, 0)).run()
    at.toggle(key="dz_use_end").set_value(True).run()
    at.time_input(key="dz_end").set_value(time(9, 0)).run()
    assert_clean(at)
    errors = " ".join(e.value for e in at.error)
    assert "**End**" in errors and "after the start" in errors


def test_pasted_json_loads_into_the_widgets_and_a_typo_names_its_field():
    at = open_app("pages/designer.py")
    at.text_area(key="dz_paste").set_value(json.dumps({"meeting": {"subjct": "x"}})).run()
    button(at, "Load pasted JSON").click().run()
    assert "meeting.subjct" in " ".join(e.value for e in at.error)

    document = {"meeting": {"subject": "Loaded visit", "startDateTime": "2027-05-03T14:00:00-04:00",
                            "endDateTime": "2027-05-03T14:20:00-04:00"},
                "virtualAppointment": {"appointmentClients": [{"displayName": "Lee Chen",
                                                               "emailAddress": "lee.chen@example.com"}],
                                       "externalAppointmentId": "EXT-42"},
                "timeZone": "America/New_York"}
    at.text_area(key="dz_paste").set_value(json.dumps(document)).run()
    button(at, "Load pasted JSON").click().run()
    assert_clean(at)
    assert at.text_input(key="dz_subject").value == "Loaded visit"
    assert at.number_input(key="dz_duration").value == 20
    code = code_blocks(at)
    assert "lee.chen@example.com" in code and '"externalAppointmentId": "EXT-42"' in code
    assert "2027-05-03T14:00:00-04:00" in code


def test_send_shows_the_responses_and_a_result_card_with_join_links():
    at = open_app("pages/designer.py")
    at.text_input(key="dz_external_appointment_id").set_value(unique_tag("DSN")).run()
    assert button(at, "Send to the sandbox").disabled  # the example client is never sent
    replace_example_client(at)
    assert not button(at, "Send to the sandbox").disabled
    button(at, "Send to the sandbox").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    said = texts(at)
    assert "Appointment created" in said
    expanders = [e.label for e in at.expander]
    assert any("createOrGet → 201" in label for label in expanders), expanders
    assert any("virtualAppointment → 20" in label for label in expanders), expanders
    urls = {b.value: b.proto.url for b in at.get("link_button")}
    assert urls["Client join link"].startswith("https://visit.teams.microsoft.com/")
    assert urls["Organizer join link"].startswith("https://teams.microsoft.com/")

    # The same design again is the same meeting: createOrGet finds it.
    button(at, "Send to the sandbox").click().run()
    assert "already existed" in texts(at)


def test_templates_are_saved_and_loaded_again(tmp_path):
    at = open_app("pages/designer.py")
    name = unique_tag("Template ")
    at.text_input(key="dz_subject").set_value("Template subject").run()
    at.text_input(key="dz_template_name").set_value(name).run()
    button(at, "Save").click().run()
    assert f"Saved “{name}”" in texts(at)

    at.text_input(key="dz_subject").set_value("Something else").run()
    at.selectbox(key="dz_template").set_value(name).run()
    button(at, "Load template").click().run()
    assert at.text_input(key="dz_subject").value == "Template subject"


def test_the_join_link_flow_with_sms_previews_and_sends_its_own_requests():
    at = open_app("pages/designer.py")
    at.radio[0].set_value("join-link").run()
    at.checkbox(key="dz_sms").check().run()
    code = code_blocks(at)
    assert "GET https://127.0.0.1:" in code and "/getVirtualAppointmentJoinWebUrl" in code
    assert "/sendVirtualAppointmentSms" in code and '"phoneNumber": "+12125550142"' in code
    assert "phone numbers are used only to text the join link" in texts(at)
    at.text_input(key="dz_external_appointment_id").set_value(unique_tag("JLK")).run()
    replace_example_client(at)
    button(at, "Send to the sandbox").click().run()
    assert_clean(at)
    assert "Appointment created" in texts(at)
    assert any("sendVirtualAppointmentSms → 20" in e.label for e in at.expander)
    urls = {b.value: b.proto.url for b in at.get("link_button")}
    assert urls["Client join link"].startswith("https://visit.teams.microsoft.com/")


def test_a_pasted_meeting_keeps_its_external_id_and_its_offset_and_the_load_is_confirmed():
    at = open_app("pages/designer.py")
    pasted = {"externalId": "CLINIC-778", "subject": "Lab results review",
              "startDateTime": "2026-12-07T15:00:00-05:00", "endDateTime": "2026-12-07T15:45:00-05:00"}
    at.text_area(key="dz_paste").set_value(json.dumps(pasted)).run()
    button(at, "Load pasted JSON").click().run()
    assert_clean(at)
    assert at.text_input(key="dz_external_appointment_id").value == "CLINIC-778"
    assert at.time_input(key="dz_start").value == time(15, 0)
    assert "UTC-05:00" in at.selectbox(key="dz_time_zone").format_func(at.selectbox(key="dz_time_zone").value)
    assert "Loaded the pasted JSON: CLINIC-778 · 2026-12-07 15:00 (UTC-05:00)" in " ".join(s.value for s in at.success)
    code = code_blocks(at)
    assert '"externalId": "CLINIC-778"' in code and "2026-12-07T15:00:00-05:00" in code
    assert '"externalId": "AS-' not in code


def test_a_combined_document_keeps_the_meetings_own_external_id():
    at = open_app("pages/designer.py")
    document = {"meeting": {"externalId": "MEET-9", "startDateTime": "2026-12-07T15:00:00-05:00"},
                "virtualAppointment": {"externalAppointmentId": "BOOK-9",
                                       "appointmentClients": [{"displayName": "Ann", "emailAddress": "ann@example.com"}]}}
    at.text_area(key="dz_paste").set_value(json.dumps(document)).run()
    button(at, "Load pasted JSON").click().run()
    assert at.text_input(key="dz_external_id").value == "MEET-9"
    code = code_blocks(at)
    assert '"externalId": "MEET-9"' in code and '"externalAppointmentId": "BOOK-9"' in code


def test_a_saved_template_is_listed_at_once():
    at = open_app("pages/designer.py")
    name = unique_tag("Listed ")
    at.text_input(key="dz_template_name").set_value(name).run()
    button(at, "Save").click().run()
    assert_clean(at)
    assert name in at.selectbox(key="dz_template").options
    assert "No saved templates yet" not in texts(at)


def test_a_reload_keeps_the_draft_and_start_afresh_forgets_it():
    at = open_app("pages/designer.py")
    at.text_input(key="dz_subject").set_value("Kept across a reload").run()
    again = open_app("pages/designer.py")  # a new session, as after a browser reload
    assert again.text_input(key="dz_subject").value == "Kept across a reload"
    button(again, "Start afresh").click().run()
    assert again.text_input(key="dz_subject").value != "Kept across a reload"
    assert open_app("pages/designer.py").text_input(key="dz_subject").value != "Kept across a reload"


# -- the Bookings flow (issue 11) -------------------------------------------------------------------------
def open_bookings_designer():
    """The designer on the Bookings flow, with the sandbox's app-only connection (it may read Bookings)."""
    at = open_app("pages/connection.py")
    button(at, "Switch to the sandbox's app-only connection").click().run()
    at.switch_page("pages/designer.py")
    at.run()
    at.radio[0].set_value("bookings").run()
    assert_clean(at)
    return at


def a_free_slot(at):
    """A weekday slot inside the business's hours (08:00-18:00 New York) that no other test takes."""
    import random
    from datetime import date, timedelta

    monday = date.today() + timedelta(days=7 - date.today().weekday() + 7 * random.randrange(1, 45))
    at.selectbox(key="dz_time_zone").set_value("America/New_York").run()
    at.date_input(key="dz_day").set_value(monday + timedelta(days=random.randrange(5))).run()
    at.time_input(key="dz_start").set_value(time(8 + random.randrange(9), random.choice((0, 30)))).run()


def test_the_bookings_flow_previews_the_booking_with_the_services_length_staff_and_options():
    at = open_bookings_designer()
    code = code_blocks(at)
    assert "POST https://127.0.0.1:" in code and "/v1.0/solutions/bookingBusinesses/virtualcare@" in code
    assert '"@odata.type": "#microsoft.graph.bookingCustomerInformation"' in code
    assert '"serviceName": "Initial consultation"' in code and "T10:30:00" in code  # the service's 30 minutes
    assert "createOrGet" not in code and "Meeting externalId" not in [t.label for t in at.text_input]
    length = next(n for n in at.number_input if n.label == "Duration (minutes)")
    assert length.disabled and length.value == 30
    # Another service: its length, chosen for the session (the Connection page shows the same choice).
    service = next(s for s in at.selectbox if s.label == "Service")
    follow_up = next(v[2] for k, v in at.session_state["cx_bookings_cache"].items() if k[0] == "services")[1]
    service.set_value(follow_up.id).run()
    assert_clean(at)
    assert at.session_state["bookings_choice"]["service"] == follow_up.id
    assert '"serviceName": "Follow-up"' in code_blocks(at) and "T10:15:00" in code_blocks(at)
    staff = next(m for m in at.multiselect if m.label == "Staff (optional)")
    staff.set_value([next(m.id for k, v in at.session_state["cx_bookings_cache"].items() if k[0] == "staff"
                          for m in v[2] if m.email == "lee.gu@contoso.onmicrosoft.com")]).run()
    at.checkbox(key="dz_bk_opt_out").check().run()
    at.checkbox(key="dz_bk_sms").check().run()
    code = code_blocks(at)
    assert '"staffMemberIds": [' in code and '"optOutOfCustomerEmail": true' in code
    assert '"smsNotificationsEnabled": true' in code
    assert "curl -sS" in code and "/appointments" in code and "session.request(" in code  # the snippets too


def test_a_booking_is_sent_and_its_id_and_links_shown_and_sending_again_books_nothing_new():
    at = open_bookings_designer()
    a_free_slot(at)
    tag = unique_tag("BKD")
    at.text_input(key="dz_subject").set_value(f"Booked from the designer {tag}").run()
    assert button(at, "Book in the sandbox").disabled  # the example customer is never booked
    replace_example_client(at)
    button(at, "Book in the sandbox").click().run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert "Appointment booked" in texts(at)
    assert any("POST …/appointments → 201" in e.label for e in at.expander), [e.label for e in at.expander]
    urls = {b.value: b.proto.url for b in at.get("link_button")}
    assert urls["Customer join link"].startswith("https://") and urls["Staff join link"].startswith("https://")
    booking_id = at.session_state["designer_sent"][1].meeting_id
    assert booking_id and booking_id in code_blocks(at)

    button(at, "Book in the sandbox").click().run()
    assert "already booked: Bookings still holds it" in texts(at)
    assert at.session_state["designer_sent"][1].meeting_id == booking_id


def test_a_signed_in_connection_without_the_bookings_sign_in_is_told_where_to_add_it():
    at = open_app("pages/designer.py")
    at.radio[0].set_value("bookings").run()
    assert_clean(at)
    errors = " ".join(e.value for e in at.error)
    assert "did not ask for the Bookings permissions" in errors and "Connection page" in errors
    at.radio[0].set_value("join-link").run()  # the meeting flows are as they were
    assert "/getVirtualAppointmentJoinWebUrl" in code_blocks(at)


# -- emailing the client their link (issue 13) -------------------------------------------------------------
def sandbox_mail_to(address: str) -> list[dict]:
    """Every message the app's own sandbox holds for ``address``."""
    from lib.screens.embedded_sandbox import _get_json, ensure_sandbox

    box = ensure_sandbox()
    return [m for m in _get_json(box.url + "/_sandbox/mail", box.ca_path)["value"]
            if address in str(m.get("toRecipients"))]


def test_emailing_the_client_previews_the_send_mail_request_and_sends_it_once():
    at = open_app("pages/designer.py")
    at.checkbox(key="dz_notify").check().run()
    assert_clean(at)
    code = code_blocks(at)
    assert "POST https://127.0.0.1:" in code and "/v1.0/me/sendMail" in code
    assert '"address": "avery.lopez@example.com"' in code and '"saveToSentItems": true' in code
    assert '"name": "appointment.ics"' in code and "/virtualAppointment" in code  # the whole exchange, in order
    assert "/me/sendMail" in code.split("curl -sS", 1)[1]  # and in the snippets
    assert "the client's real link, from Graph's answer above" in texts(at)

    tag = unique_tag("MAIL").lower()
    address = f"{tag}@example.com"
    at.text_input(key="dz_external_appointment_id").set_value(tag).run()
    key = next(k for k in at.session_state if str(k).startswith("grid_dz_clients_"))
    at.session_state[key] = {"edited_rows": {0: {"name": "Lee Chen", "email": address, "phone": ""}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "Send to the sandbox").click().run()
    assert_clean(at)
    assert "Appointment created" in texts(at)
    assert f"Emailed Lee Chen <{address}> their link" in " ".join(s.value for s in at.success)
    mails = sandbox_mail_to(address)
    assert len(mails) == 1
    link = at.session_state["designer_sent"][1].client_join_web_url
    assert link and link.split("?")[0] in str(mails[0])  # the client's own link, not the preview's placeholder

    button(at, "Send to the sandbox").click().run()
    assert "already emailed about this appointment: not sent twice" in " ".join(i.value for i in at.info)
    assert len(sandbox_mail_to(address)) == 1


def test_without_the_option_no_email_is_previewed_or_sent():
    at = open_app("pages/designer.py")
    assert "sendMail" not in code_blocks(at)
    at.radio[0].set_value("bookings").run()  # Bookings emails the customer itself: no such option there
    assert not [c for c in at.checkbox if c.label.startswith("Email the client their link")]
