"""The designer's form, preview and templates (lib/screens/designer.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from lib.model.appointment import ModelError
from lib.model.flows import VIRTUAL_APPOINTMENT, plan
from lib.screens.designer import (HIDDEN_TOKEN, DesignerForm, Templates, normalise_phone, preview, template_file_name,
                                  zone_for_offset, zone_label)


def test_the_default_form_is_a_valid_appointment_so_a_first_click_works():
    appt = DesignerForm().appointment()
    assert appt.clients and appt.duration_minutes == 30 and appt.allow_browser_join is True


def test_the_form_reads_times_in_its_zone_and_an_end_time_wins_over_the_duration():
    form = DesignerForm(day=date(2027, 3, 1), start=time(9, 0), end=time(9, 50), time_zone="America/New_York")
    appt = form.appointment()
    assert appt.meeting_body()["startDateTime"] == "2027-03-01T09:00:00-05:00"
    assert appt.duration_minutes == 50


@pytest.mark.parametrize("change, field", [
    ({"end": time(8, 0)}, "End"),
    ({"time_zone": "Mars/Olympus"}, "Time zone"),
    ({"clients": [{"name": "", "email": "", "phone": ""}]}, "Clients"),
    ({"clients": [{"email": "ann.example.com"}]}, "Client 1 email"),
    ({"clients": [{"phone": "12"}]}, "Client 1 phone"),
    ({"external_appointment_url": "booking/123"}, "External URL"),
])
def test_form_errors_name_the_field(change, field):
    with pytest.raises(ModelError) as caught:
        DesignerForm(start=time(9, 0), **change).appointment()
    assert caught.value.field == field


def test_phones_become_e164_and_us_numbers_may_leave_out_the_country_code():
    assert normalise_phone("(212) 555-0142") == "+12125550142"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"


def test_a_form_round_trips_through_an_appointment():
    form = DesignerForm(subject="Check-in", day=date(2027, 1, 4), start=time(15, 30), duration=20,
                        time_zone="Europe/Paris", clients=[{"name": "Zoë", "email": "zoe@example.com", "phone": ""}],
                        external_appointment_id="EXT-1")
    again = DesignerForm.from_appointment(form.appointment())
    assert again.appointment() == form.appointment()


def test_the_preview_hides_the_token_and_shows_full_urls():
    appt = DesignerForm().appointment()
    shown = preview(plan(appt, VIRTUAL_APPOINTMENT), "https://graph.example")
    assert shown[0].url == "https://graph.example/v1.0/me/onlineMeetings/createOrGet"
    assert all(r.headers["Authorization"] == HIDDEN_TOKEN for r in shown)
    assert '"externalId"' in shown[0].as_text()


def test_templates_are_json_documents_in_a_folder(tmp_path):
    templates = Templates(tmp_path)
    appt = DesignerForm(subject="Saved").appointment()
    path = templates.save("Intake / 30 min", appt)
    assert path.parent == tmp_path and json.loads(path.read_text())["meeting"]["subject"] == "Saved"
    assert templates.names() == ["Intake  30 min"]
    assert templates.load("Intake / 30 min").subject == "Saved"
    with pytest.raises(ModelError):
        template_file_name("///")


def test_a_pasted_meeting_body_keeps_its_external_id_and_the_offset_it_was_written_in():
    pasted = {"externalId": "CLINIC-778", "subject": "Lab results review",
              "startDateTime": "2026-12-07T15:00:00-05:00", "endDateTime": "2026-12-07T15:45:00-05:00"}
    form = DesignerForm.from_document(json.dumps(pasted))
    assert form.external_appointment_id == "CLINIC-778" and form.external_id == ""
    assert (form.day, form.start, form.duration) == (date(2026, 12, 7), time(15, 0), 45)
    assert zone_label(form.time_zone, form.day) == "UTC-05:00"
    form.clients = [{"name": "Ann", "email": "ann@example.com", "phone": ""}]
    body = form.appointment().meeting_body()
    assert body["externalId"] == "CLINIC-778" and body["startDateTime"] == "2026-12-07T15:00:00-05:00"
    assert "CLINIC-778 · 2026-12-07 15:00 (UTC-05:00) · Ann" == form.summary()


def test_the_meetings_own_external_id_is_kept_beside_the_appointment_id():
    document = {"meeting": {"externalId": "MEET-9", "startDateTime": "2026-12-07T15:00:00Z"},
                "virtualAppointment": {"externalAppointmentId": "BOOK-9",
                                       "appointmentClients": [{"displayName": "Ann", "emailAddress": "ann@example.com"}]}}
    form = DesignerForm.from_document(json.dumps(document))
    appt = form.appointment()
    assert appt.meeting_body()["externalId"] == "MEET-9" and appt.virtual_appointment_body()["externalAppointmentId"] == "BOOK-9"
    assert form.time_zone == "UTC"


def test_an_offset_is_shown_in_the_browsers_zone_when_it_matches_else_in_a_fixed_zone():
    moment = datetime.fromisoformat("2026-12-07T15:00:00-05:00")
    assert zone_for_offset(moment, "America/New_York") == "America/New_York"
    assert zone_for_offset(moment, "Europe/Paris") == "Etc/GMT+5"
    assert zone_for_offset(datetime.fromisoformat("2026-12-07T15:00:00+05:30"), "UTC") == "Asia/Kolkata"
    assert zone_label("Europe/Paris") == "Europe/Paris"


def test_a_document_with_its_zone_keeps_that_zone():
    document = {"meeting": {"startDateTime": "2027-05-03T14:00:00-04:00"}, "timeZone": "America/New_York",
                "virtualAppointment": {"appointmentClients": [{"displayName": "Lee"}]}}
    form = DesignerForm.from_document(json.dumps(document), preferred_zone="Europe/Paris")
    assert form.time_zone == "America/New_York" and form.start == time(14, 0)


def test_json_that_does_not_parse_names_line_and_column():
    with pytest.raises(ModelError) as caught:
        DesignerForm.from_document('{"meeting": ')
    assert caught.value.field == "JSON" and "line 1" in str(caught.value)


def test_the_example_client_is_recognised_so_it_is_never_sent():
    assert DesignerForm().uses_example_client
    assert not DesignerForm(clients=[{"name": "Lee Chen", "email": "lee@example.com", "phone": ""}]).uses_example_client


def test_a_draft_round_trips_through_its_file(tmp_path):
    from lib.screens.designer import DraftStore

    drafts = DraftStore(tmp_path / "jobs" / "designer.json")
    assert drafts.load() is None
    form = DesignerForm(subject="Draft", day=date(2027, 1, 4), start=time(15, 30), end=time(16, 0),
                        time_zone="Europe/Paris", external_id="M-1",
                        clients=[{"name": "Zoë", "email": "zoe@example.com", "phone": ""}])
    drafts.save(form)
    assert drafts.load() == form
    (tmp_path / "jobs" / "designer.json").write_text("{broken", encoding="utf-8")
    assert drafts.load() is None


def test_a_booking_takes_the_services_length_whatever_the_form_said():
    from datetime import time as clock

    from lib.screens.designer import for_booking

    form = DesignerForm(start=clock(9, 0), duration=45, end=clock(11, 0), time_zone="America/New_York",
                        clients=[{"name": "Lee Chen", "email": "lee@example.com", "phone": ""}])
    appt = for_booking(form, 15).appointment()
    assert appt.duration_minutes == 15 and appt.start.hour == 9
    assert for_booking(form, None) is form  # a service without a length: the form's own


def test_the_email_preview_is_one_send_mail_per_client_with_an_address():
    from lib.notify import ics
    from lib.screens.designer import LINK_FROM_THE_ANSWER, notify_specs

    form = DesignerForm(time_zone="Europe/Madrid", clients=[{"name": "Lee Chen", "email": "lee@example.com", "phone": ""},
                                                            {"name": "Text only", "email": "", "phone": "+12125550142"}])
    specs = notify_specs(form.appointment(), ics.Person("Adele Vance", "adele@contoso.example"), "/users/u-1")
    assert [(s.method, s.path, s.idempotent) for s in specs] == [("POST", "/users/u-1/sendMail", False)]
    message = specs[0].body["message"]
    assert message["toRecipients"][0]["emailAddress"]["address"] == "lee@example.com"
    assert LINK_FROM_THE_ANSWER in message["body"]["content"]
