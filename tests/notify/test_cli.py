"""`python -m lib notify` and `python -m lib ics` on a finished run, against the sandbox."""
from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime

import pytest
from icalendar import Calendar

from tests.helpers import clients_csv, unique_tag, write_csv
from tests.test_cli import read_results, run_cli

pytestmark = pytest.mark.timeout(300)


def finished_run(sandbox, tmp_path, n=4, no_email=(1,), profile=None):
    """A sent CSV whose clients have addresses of their own (row i + 2 has client i)."""
    tag = unique_tag("CLI").lower()
    rows = {i: {"Email": "" if i in no_email else f"{tag}-{i}@example.com"} for i in range(n)}
    path = write_csv(tmp_path / "clients.csv", clients_csv(n, tag, bad_rows=rows))
    out = tmp_path / "RESULTS.csv"
    done = run_cli("send", path, "--connection", profile or sandbox.profile_path, "--out", out, "--tz",
                   "Europe/Berlin", home=tmp_path)
    assert done.returncode == 0, done.stderr
    return tag, out


def mail_counts(sandbox, tag) -> Counter:
    return Counter(a for m in sandbox.mail() for a in m["toRecipients"]
                   if a.startswith(tag))


def test_notify_emails_every_client_with_an_address_once_and_fills_the_notified_column(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path)
    done = run_cli("notify", results, "--connection", sandbox.profile_path, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "has no email address" in done.stderr and "3 emailed now" in done.stderr
    assert [r["notified"] for r in read_results(results)] == ["sent", "no email address", "sent", "sent"]
    assert mail_counts(sandbox, tag) == Counter({f"{tag}-{i}@example.com": 1 for i in (0, 2, 3)})
    rows = read_results(results)
    assert rows[0]["status"] == "created" and rows[0]["clientJoinWebUrl"]

    again = run_cli("notify", results, "--connection", sandbox.profile_path, home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [r["notified"] for r in read_results(results)] == ["already sent", "no email address"] + ["already sent"] * 2
    assert mail_counts(sandbox, tag) == Counter({f"{tag}-{i}@example.com": 1 for i in (0, 2, 3)})

    resend = run_cli("notify", results, "--connection", sandbox.profile_path, "--again", "4", home=tmp_path)
    assert resend.returncode == 0, resend.stderr
    assert mail_counts(sandbox, tag)[f"{tag}-2@example.com"] == 2
    assert mail_counts(sandbox, tag)[f"{tag}-0@example.com"] == 1


def test_an_unknown_placeholder_is_refused_before_anything_is_sent(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path, n=2, no_email=())
    template = tmp_path / "t.toml"
    template.write_text('subject = "Hello {first_name}"\nbody = "{join_link}"\n')
    done = run_cli("notify", results, "--connection", sandbox.profile_path, "--template", template, home=tmp_path)
    assert done.returncode == 2
    assert "unknown placeholder {first_name}" in done.stderr and "Nothing was sent" in done.stderr
    assert mail_counts(sandbox, tag) == Counter()


def test_a_template_file_shapes_the_email(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path, n=1, no_email=(), profile=sandbox.app_profile_path)
    template = tmp_path / "t.json"
    template.write_text('{"subject": "See you {date}", "body": "Hi {client_name}, join: {join_link}"}')
    done = run_cli("notify", results, "--connection", sandbox.app_profile_path, "--template", template,
                   "--calendar", home=tmp_path)
    assert done.returncode == 0, done.stderr
    [message] = [m for m in sandbox.mail() if m["toRecipients"] == [f"{tag}-0@example.com"]]
    [row] = read_results(results)
    assert message["subject"].startswith("See you ") and message["body"]["contentType"] == "text"
    assert message["body"]["content"] == f"Hi Client 0, join: {row['clientJoinWebUrl']}"
    events = [e for e in sandbox.events() if e["location"]["displayName"] ==
              row["clientJoinWebUrl"]]
    assert len(events) == 1 and events[0]["isOnlineMeeting"] is False


def test_notify_with_another_connection_says_which_to_use(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path, n=1, no_email=())
    done = run_cli("notify", results, "--connection", sandbox.app_profile_path, home=tmp_path)
    assert done.returncode == 1 and "created with another connection" in done.stderr
    assert read_results(results)[0]["notified"].startswith("failed: it was created with another connection")
    assert mail_counts(sandbox, tag) == Counter()


def test_ics_writes_a_file_per_row_and_one_with_every_appointment(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path, n=3, no_email=())
    out = tmp_path / "calendar"
    done = run_cli("ics", results, "--out", out, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["2.ics", "3.ics", "4.ics", "appointments.ics"]
    meetings = {m["id"]: m for m in sandbox.meetings()}
    for row in read_results(results):
        cal = Calendar.from_ical((out / f"{row['row']}.ics").read_bytes())
        [event] = cal.walk("VEVENT")
        meeting = meetings[row["onlineMeetingId"]]
        assert event.decoded("DTSTART") == datetime.fromisoformat(meeting["startDateTime"][:19] + "+00:00")
        assert event.decoded("DTEND") == datetime.fromisoformat(meeting["endDateTime"][:19] + "+00:00")
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
        assert str(event["URL"]) == row["clientJoinWebUrl"]
    everything = Calendar.from_ical((out / "appointments.ics").read_bytes())
    assert len(everything.walk("VEVENT")) == 3


def test_ics_attachment_of_the_email_matches_the_meeting(sandbox, tmp_path):
    tag, results = finished_run(sandbox, tmp_path, n=1, no_email=())
    assert run_cli("notify", results, "--connection", sandbox.profile_path, home=tmp_path).returncode == 0
    [message] = [m for m in sandbox.mail() if m["toRecipients"] == [f"{tag}-0@example.com"]]
    cal = Calendar.from_ical(base64.b64decode(message["attachments"][0]["contentBytes"]))
    [row] = read_results(results)
    meeting = {m["id"]: m for m in sandbox.meetings()}[row["onlineMeetingId"]]
    [event] = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == datetime.fromisoformat(meeting["startDateTime"][:19] + "+00:00")
    assert str(event["ATTENDEE"]) == f"mailto:{tag}-0@example.com"


def test_send_with_notify_email_tells_each_client_once_across_reruns(sandbox, tmp_path):
    tag = unique_tag("SND").lower()
    rows = {i: {"Email": f"{tag}-{i}@example.com"} for i in range(3)}
    path = write_csv(tmp_path / "clients.csv", clients_csv(3, tag, bad_rows=rows))
    out = tmp_path / "RESULTS.csv"
    for _ in range(2):
        done = run_cli("send", path, "--connection", sandbox.profile_path, "--out", out, "--notify", "email",
                       "--calendar", home=tmp_path)
        assert done.returncode == 0, done.stderr
    assert mail_counts(sandbox, tag) == Counter({f"{tag}-{i}@example.com": 1 for i in range(3)})
    assert [r["notified"] for r in read_results(out)] == ["already sent"] * 3
    plain = run_cli("send", path, "--connection", sandbox.profile_path, "--out", out, home=tmp_path)
    assert plain.returncode == 0 and [r["notified"] for r in read_results(out)] == [""] * 3


def test_send_refuses_a_bad_template_before_creating_anything(sandbox, tmp_path):
    tag = unique_tag("BAD").lower()
    path = write_csv(tmp_path / "clients.csv", clients_csv(1, tag))
    template = tmp_path / "t.toml"
    template.write_text('subject = "{subject}"\nbody = "Hi {name}"\n')
    before = sandbox.stats()["onlineMeetings"]
    done = run_cli("send", path, "--connection", sandbox.profile_path, "--notify", "email", "--template", template,
                   home=tmp_path)
    assert done.returncode == 2 and "unknown placeholder {name}" in done.stderr
    assert sandbox.stats()["onlineMeetings"] == before
