"""Clients' emails follow a meeting's changes (lib/screens/actions.py over lib/notify), against the sandbox."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from icalendar import Calendar

from lib.bulk.journal import Journal
from lib.bulk.runner import Runner
from lib.model.appointment import Appointment, Client
from lib.model.flows import VIRTUAL_APPOINTMENT
from lib.notify.ledger import Ledger
from lib.notify.notifier import Notifier
from lib.screens import actions
from tests.helpers import unique_tag
from tests.screens.test_actions import sandbox_client


def mail_to(sandbox, email: str) -> list[dict]:
    return [m for m in sandbox.mail() if email in str(m.get("toRecipients"))]


def invitation(message: dict):
    attachment = next(a for a in message.get("attachments") or [] if str(a.get("name", "")).endswith(".ics"))
    cal = Calendar.from_ical(base64.b64decode(attachment["contentBytes"]))
    event = next(c for c in cal.walk("VEVENT"))
    return str(cal["METHOD"]), str(event["UID"]), int(event.get("SEQUENCE", 0)), event.decoded("DTSTART")


def notified_meeting(sandbox, tmp_path):
    """A meeting for Ann and Bob of which only Ann was emailed."""
    from lib.notify import access
    from lib.graph.client import GraphClient
    from lib.graph.profile import Profile

    tag = unique_tag("NTC").lower()
    ann, bob = Client("Ann", f"{tag}-ann@example.com", ""), Client("Bob", f"{tag}-bob@example.com", "")
    client = sandbox_client(sandbox)
    profile = Profile.load(sandbox.profile_path)
    mail = GraphClient(profile, access.token_provider(profile, on_device_code=lambda flow: None))
    journal = Journal(tmp_path / "j.sqlite3")
    ledger = Ledger(journal.path)
    start = datetime(2027, 5, 3, 14, tzinfo=timezone.utc)
    appt = Appointment("Visit", start, start + timedelta(hours=1), clients=(ann, bob),
                       external_appointment_id=f"{tag}-1")
    key = Runner(client, journal, flow=VIRTUAL_APPOINTMENT, use_batch=False).run([appt]).outcomes[0].key
    Notifier(mail, ledger).notify([actions.notice_target(journal.get(key), [ann])])
    assert len(mail_to(sandbox, ann.email)) == 1 and not mail_to(sandbox, bob.email)
    return client, mail, journal, ledger, key, ann, bob


def test_a_changed_time_sends_the_update_and_a_delete_the_cancellation_only_to_who_was_told(sandbox, tmp_path):
    client, mail, journal, ledger, key, ann, bob = notified_meeting(sandbox, tmp_path)
    assert [c.email for c in actions.told_clients(ledger, journal.get(key))] == [ann.email]
    _, uid, sequence, _ = invitation(mail_to(sandbox, ann.email)[0])

    before = journal.get(key)
    later = before.appointment().start + timedelta(hours=2)
    actions.run(client, journal, before, actions.UPDATE, start=later, end=later + timedelta(hours=1))
    said = actions.follow_change(mail, ledger, before, journal.get(key), actions.UPDATE)
    assert said == f"The update was emailed to Ann ({ann.email})."
    received = mail_to(sandbox, ann.email)
    assert len(received) == 2 and received[-1]["subject"].startswith("Updated: ")
    method, same_uid, higher, starts = invitation(received[-1])
    assert (method, same_uid, higher) == ("REQUEST", uid, sequence + 1) and starts == later
    assert not mail_to(sandbox, bob.email)

    before = journal.get(key)
    actions.run(client, journal, before, actions.DELETE)
    said = actions.follow_change(mail, ledger, before, journal.get(key), actions.DELETE)
    assert said == f"The cancellation was emailed to Ann ({ann.email})."
    received = mail_to(sandbox, ann.email)
    assert len(received) == 3 and invitation(received[-1])[:3] == ("CANCEL", uid, sequence + 2)
    assert not mail_to(sandbox, bob.email) and not actions.told_clients(ledger, journal.get(key))


def test_a_new_subject_alone_is_sent_too_and_send_again_is_explicit(sandbox, tmp_path):
    client, mail, journal, ledger, key, ann, bob = notified_meeting(sandbox, tmp_path)
    before = journal.get(key)
    actions.run(client, journal, before, actions.UPDATE, subject="Moved visit")
    assert actions.follow_change(mail, ledger, before, journal.get(key), actions.UPDATE).startswith(
        "The update was emailed to Ann")
    assert len(mail_to(sandbox, ann.email)) == 2 and "Moved visit" in mail_to(sandbox, ann.email)[-1]["subject"]

    assert actions.send_again(mail, ledger, journal.get(key), bob.email) == f"The invitation was emailed to Bob ({bob.email})."
    assert actions.send_again(mail, ledger, journal.get(key), bob.email).startswith("The invitation was emailed")
    assert len(mail_to(sandbox, bob.email)) == 2 and len(mail_to(sandbox, ann.email)) == 2


def test_the_calendar_file_of_one_appointment_parses_with_its_zone_and_link(sandbox, tmp_path):
    _, _, journal, _, key, ann, _ = notified_meeting(sandbox, tmp_path)
    entry = journal.get(key)
    name, data = actions.ics_file(entry)
    assert name.endswith("-1.ics")
    cal = Calendar.from_ical(data)
    event = next(c for c in cal.walk("VEVENT"))
    assert str(cal["METHOD"]) == "PUBLISH" and event.decoded("DTSTART") == entry.appointment().start
    assert entry.client_join_web_url in data.decode("utf-8").replace("\r\n ", "")
    assert ann.email in data.decode("utf-8").replace("\r\n ", "")
