"""The pure logic behind the pages (lib/designer.py, lib/actions.py, lib/check_table.py, lib/embedded.py, ...)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, time, timezone

import pytest

from lib.screens import actions
from lib.screens import check_grid as grid
from lib.model.appointment import Appointment, Client, ModelError
from lib.screens.appointments_view import entry_rows, run_label
from lib.screens.background import BackgroundTask
from lib.screens.designer import HIDDEN_TOKEN, DesignerForm, Templates, normalise_phone, preview, template_file_name
from lib.screens.embedded_sandbox import ensure_sandbox, find_running
from lib.model.flows import VIRTUAL_APPOINTMENT, plan
from lib.bulk.journal import Journal
from lib.spreadsheet.read import read_table


# -- designer ---------------------------------------------------------------------------------------
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


# -- actions ----------------------------------------------------------------------------------------
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


def test_the_appointments_table_shows_local_times_and_runs_read_in_words(tmp_path):
    journal, entry = journal_entry(tmp_path)
    row = entry_rows([entry])[0]
    assert row["start"] == "2027-02-01 14:00" and row["clients"] == "Ann" and row["organizer"] == "signed-in user"
    label = run_label({"started_at": "2026-11-24T05:10:00Z", "source": "/tmp/x/clients.csv",
                       "summary": {"created": 48, "failed": 2}, "state": "finished"})
    assert label == "2026-11-24 05:10 UTC · clients.csv · 48 created, 2 failed"


# -- the check grid ---------------------------------------------------------------------------------
SHEET = b"Name,Email,Date,Time\nAnn,ann@example.com,2027-03-01,09:00\nBen,ben.example.com,2027-03-01,09:30\n"


def test_edits_apply_by_row_number_and_header():
    sheet = read_table(SHEET, "c.csv")
    edited = grid.apply_edits(sheet, {3: {"Email": "ben@example.com"}, 99: {"Email": "x"}})
    assert edited.rows[1][1] == "ben@example.com" and sheet.rows[1][1] == "ben.example.com"


def test_grid_edits_fold_in_by_the_rows_and_columns_that_were_shown():
    edits: dict = {}
    changed = grid.merge_grid_edits(edits, {"1": {"c1": "ben@example.com", "_problem": "ignored"}}, [2, 3],
                                    {"c1": "Email"})
    assert changed and edits == {3: {"Email": "ben@example.com"}}
    assert not grid.merge_grid_edits(edits, {1: {"c1": "ben@example.com"}}, [2, 3], {"c1": "Email"})


def test_the_check_frame_has_one_line_per_row_with_status_and_problem():
    from lib.spreadsheet.columns import auto_map
    from lib.spreadsheet.schedule import Schedule
    from lib.spreadsheet.check import check_sheet

    sheet = read_table(SHEET, "c.csv")
    mapping = auto_map(sheet.headers)
    report = check_sheet(sheet, mapping, Schedule(tz="UTC"))
    frame = grid.check_frame(report, sheet, mapping, zone="UTC")
    assert list(frame[grid.ROW]) == [2, 3]
    assert list(frame[grid.STATUS]) == [grid.OK, grid.ERROR]
    assert "ben.example.com" in frame[grid.PROBLEM][1]
    assert frame[grid.TIME][0] == "Mon 01 Mar 2027 09:00–09:30"
    timeline = grid.timeline_frame(report, zone="UTC")
    assert len(timeline) == 1 and timeline["start"][0] == 9.0
    assert grid.timeline_chart(timeline).to_dict()["mark"]["type"] == "bar"


# -- background work and the embedded sandbox -------------------------------------------------------
def test_a_background_task_keeps_its_error_for_the_page():
    task = BackgroundTask(lambda: 1 / 0).start()
    assert task.wait(5) and isinstance(task.error, ZeroDivisionError)
    release = threading.Event()
    slow = BackgroundTask(lambda: release.wait(5) and "done").start()
    assert not slow.done
    release.set()
    assert slow.wait(5) and slow.result == "done"


def test_the_embedded_sandbox_is_reused_while_it_answers(tmp_path):
    first = ensure_sandbox(tmp_path / "sandbox")
    try:
        assert first.started_here and first.alive()
        again = ensure_sandbox(tmp_path / "sandbox")
        assert not again.started_here and again.url == first.url
        assert json.loads(again.profile_path.read_text())["cloud"] == "sandbox"
    finally:
        first.stop()
    assert find_running(tmp_path / "sandbox") is None
