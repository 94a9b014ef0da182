"""The "Tell the clients" step's logic: who is emailed, the exact email (framed so nothing runs), saved
templates, calendar files, each client's status, and the background job against a real sandbox."""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from lib.bulk.runner import Outcome
from lib.model.appointment import Appointment, Client, ModelError
from lib.notify import ics
from lib.notify.ledger import Ledger
from lib.notify.notifier import Target
from lib.notify.templates import DEFAULT, TEXT, TemplateError
from lib.screens import notify_step as step
from tests.notify.test_notifier import book, client_for, mail_to
from tests.helpers import unique_tag

LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=c"
START = datetime(2030, 5, 6, 7, 0, tzinfo=timezone.utc)


def appointment(i: int, *clients: Client) -> Appointment:
    return Appointment(f"Visit {i}", START + timedelta(hours=i), START + timedelta(hours=i, minutes=30),
                       time_zone="Europe/Madrid", clients=clients, external_appointment_id=f"STEP-{i}",
                       source_rows=(i + 2,))


def target(i: int, *clients: Client) -> Target:
    return Target(f"key-{i}", appointment(i, *clients), LINK, "organizer-id", (i + 2,))


def test_only_confirmed_appointments_with_a_client_link_are_told_and_counted():
    maria, nobody = Client("Maria Lopez", "maria@example.com"), Client("Walk In", "")
    outcomes = [Outcome("a", appointment(0, maria), status="created", client_join_web_url=LINK),
                Outcome("b", appointment(1, nobody), status="existing", client_join_web_url=LINK),
                Outcome("c", appointment(2, maria), status="failed"),
                Outcome("d", appointment(3, maria), status="created", client_join_web_url="")]
    targets = step.targets_of(outcomes)
    assert [t.appointment_key for t in targets] == ["a", "b"]
    assert step.email_count(targets) == 1
    assert step.button_label(48) == "Email 48 clients" and step.button_label(1) == "Email 1 client"
    assert [c.label for _, c in step.recipients(targets)] == ["Maria Lopez", "Walk In"]
    assert step.who(*step.recipients(targets)[0]) == "Row 2 · Maria Lopez <maria@example.com>"


def test_an_unknown_placeholder_is_refused_when_the_template_is_made():
    with pytest.raises(TemplateError, match=r"unknown placeholder \{first_name\}"):
        step.template_from("Hi {first_name}", DEFAULT.body, "html")
    with pytest.raises(TemplateError, match="body: unknown placeholder"):
        step.template_from(DEFAULT.subject, "See you {when}", "text")
    assert step.template_from("Hi {client_name}", "Join: {join_link}", "text").format == TEXT


def test_saved_templates_come_back_as_saved_and_a_hand_edited_bad_one_is_refused(tmp_path):
    saved = step.EmailTemplates(tmp_path / "email-templates")
    assert saved.names() == []
    template = step.template_from("Reminder: {subject}", "Dear {client_name}, {join_link}", "text")
    saved.save("Intake / reminder", template)
    assert saved.names() == ["Intake  reminder"]
    loaded = saved.load("Intake  reminder")
    assert (loaded.subject, loaded.body, loaded.format) == (template.subject, template.body, "text")
    saved.path_for("broken").write_text(json.dumps({"subject": "{nope}", "body": "x"}), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"\{nope\}"):
        saved.load("broken")
    with pytest.raises(ModelError):
        saved.load("never saved")
    with pytest.raises(ModelError):
        saved.save("  //  ", template)


def test_the_preview_is_the_exact_email_with_cell_values_as_text_and_the_invitation():
    hostile = Client('<script>alert(1)</script> <a href="https://evil.example">Maria</a>', "maria@example.com")
    shown = step.preview(DEFAULT, target(0, hostile), hostile, ics.Person("Adele Vance", "adele@contoso.example"))
    assert "<script>" not in shown.body and "&lt;script&gt;" in shown.body
    assert 'href="https://evil.example"' not in shown.body
    assert f'<a href="{html.escape(LINK)}">' in shown.body            # the Graph-issued link, the only link
    assert shown.subject == "Your appointment: Visit 0 on Monday 6 May 2030 at 09:00–09:30"
    assert shown.to.endswith("<maria@example.com>") and "\n" not in shown.to
    event = Calendar.from_ical(shown.attachment).walk("VEVENT")[0]
    assert shown.attachment_name == "appointment.ics"
    assert event.decoded("dtstart") == START and str(event["dtstart"].params["TZID"]) == "Europe/Madrid"
    assert str(event["url"]) == LINK


def test_the_frame_shows_the_email_and_runs_nothing_in_it():
    body = "<p>Hello</p><script>alert('x')</script><img src=https://tracker.example/p.gif>"
    page = step.framed(body, "html")
    assert page.startswith('<iframe sandbox=""')
    assert "<script>" not in page and "&lt;script&gt;" in page         # only inside the srcdoc attribute
    assert "default-src &#x27;none&#x27;" in page                       # nothing loads from the network
    text = step.framed("<b>not bold</b>", "text")
    assert "&amp;lt;b&amp;gt;" in text                                  # plain text stays text inside the frame


def test_calendar_files_one_per_appointment_and_one_with_all():
    maria, ben = Client("Maria", "maria@example.com"), Client("Ben", "")
    targets = [target(0, maria), target(1, ben)]
    assert [step.calendar_file_name(t) for t in targets] == ["row-2.ics", "row-3.ics"]
    one = Calendar.from_ical(step.calendar_file(targets[1]))
    assert str(one["method"]) == "PUBLISH"
    assert "Clients: Ben" in str(one.walk("VEVENT")[0]["description"])
    every = Calendar.from_ical(step.all_appointments_file(targets)).walk("VEVENT")
    assert [e.decoded("dtstart") for e in every] == [START, START + timedelta(hours=1)]


def test_each_clients_status_comes_from_the_latest_send_else_from_the_ledger(tmp_path):
    maria, ana, walk_in = Client("Maria", "maria@example.com"), Client("Ana", "ana@example.com"), Client("Walk In", "")
    targets = [target(0, maria), target(1, ana), target(2, walk_in)]
    ledger = Ledger(tmp_path / "journal.sqlite3")
    ledger.begin("key-0", "maria@example.com", notification_id="n0", kind="request", sequence=0,
                 start_utc="2030-05-06T07:00:00Z", end_utc="2030-05-06T07:30:00Z", mailbox="/me")
    ledger.update("n0", status="sent")
    rows = step.status_rows(targets, ledger)
    ledger.close()
    assert [(r["Row"], r["Client"], r["Status"]) for r in rows] == [
        ("2", "Maria", "sent"), ("3", "Ana", step.NOT_YET), ("4", "Walk In", "no email address")]
    assert step.counts(rows) == "1 sent · 1 not sent yet · 1 no email address"


@pytest.mark.timeout(300)
def test_the_job_emails_each_client_once_and_again_only_when_asked(sandbox, tmp_path):
    tag = unique_tag("JOB")
    targets = book(sandbox, tmp_path, tag, 3, no_email={2})
    journal = tmp_path / "journal.sqlite3"

    def make_client(on_device_code, cancel):
        return client_for(sandbox)

    first = step.NotifyJob(make_client, journal, DEFAULT, targets).start()
    assert first.wait(240) and first.error is None
    assert [r.status for r in first.result] == ["sent", "sent", "no email address"]
    assert first.total == 2 and first.finished == 2 and first.line().startswith("2 of 2 emails done")
    second = step.NotifyJob(make_client, journal, DEFAULT, targets).start()
    assert second.wait(240) and [r.status for r in second.result] == ["already sent", "already sent", "no email address"]
    maria = targets[1]
    again = step.NotifyJob(make_client, journal, DEFAULT, [maria],
                           again=step.again_for(maria, maria.appointment.clients[0])).start()
    assert again.wait(240) and [r.status for r in again.result] == ["sent"]
    sent = mail_to(sandbox, tag)
    assert {a: len(m) for a, m in sent.items()} == {f"{tag.lower()}-0@example.com": 1,
                                                    f"{tag.lower()}-1@example.com": 2}


@pytest.mark.timeout(300)
def test_cancel_stops_the_job_and_the_next_send_finishes_without_a_second_email(fresh_sandbox, tmp_path):
    tag = unique_tag("CNJ")
    targets = book(fresh_sandbox, tmp_path, tag, 12)
    journal = tmp_path / "journal.sqlite3"
    fresh_sandbox.configure(latency=400)

    def make_client(on_device_code, cancel):
        from lib.graph.client import GraphClient
        from lib.graph.pacing import Throttle
        from lib.graph.profile import Profile
        from lib.notify.access import token_provider

        profile = Profile.load(fresh_sandbox.profile_path)
        return GraphClient(profile, token_provider(profile), throttle=Throttle(), cancel=cancel)

    job = step.NotifyJob(make_client, journal, DEFAULT, targets).start()
    while job.finished == 0 and not job.done:
        job.wait(0.05)
    job.cancel()
    assert job.wait(240)
    assert job.error is None and "cancelled before it was confirmed" in " ".join(r.label for r in job.result)
    stopped = step.status_rows(targets, Ledger(journal), job.result)
    assert any("Email clients again checks the mailbox first" in r["Status"] for r in stopped)
    told = sum(len(m) for m in mail_to(fresh_sandbox, tag).values())
    assert told < 12
    fresh_sandbox.configure(latency=0)
    rest = step.NotifyJob(make_client, journal, DEFAULT, targets).start()
    assert rest.wait(240) and rest.error is None
    assert {r.status for r in rest.result} <= {"sent", "already sent"}
    assert {a: len(m) for a, m in mail_to(fresh_sandbox, tag).items()} == {
        f"{tag.lower()}-{i}@example.com": 1 for i in range(12)}
