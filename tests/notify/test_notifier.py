"""Notifying clients against a real sandbox: one email each, with their own link and an invitation whose
times are the meeting's, across re-runs, crashes and lost replies."""
from __future__ import annotations

import base64
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from lib.bulk.journal import Journal
from lib.bulk.runner import Runner
from lib.graph.client import GraphClient, GraphError
from lib.graph.pacing import Throttle
from lib.graph.profile import Profile
from lib.graph.signin import token_provider_for
from lib.model.appointment import Appointment, Client
from lib.notify.access import token_provider
from lib.notify.ledger import Ledger
from lib.notify.notifier import Notifier, Target, build_message
from tests.helpers import unique_tag

pytestmark = pytest.mark.timeout(300)


def client_for(sandbox, app_only=False, *, mail=True) -> GraphClient:
    profile = Profile.load(sandbox.app_profile_path if app_only else sandbox.profile_path)
    tokens = token_provider(profile) if mail else token_provider_for(profile)
    return GraphClient(profile, tokens, throttle=Throttle(), max_attempts=8, backoff_base=0.05, backoff_cap=0.5)


def book(sandbox, tmp_path, tag: str, n: int, *, app_only=False, no_email=()) -> list[Target]:
    """Create n appointments (clients without email at the indexes in no_email) and return them as targets."""
    start = datetime(2030, 3, 28, 8, tzinfo=timezone.utc)
    appts = [Appointment(f"Visit {i}", start + timedelta(minutes=30 * i), start + timedelta(minutes=30 * i + 30),
                         time_zone="Europe/Berlin",
                         clients=(Client(f"Client {i}", "" if i in no_email else f"{tag.lower()}-{i}@example.com"),),
                         external_appointment_id=f"{tag}-{i:04d}", source_rows=(i + 2,)) for i in range(n)]
    journal = Journal(tmp_path / "journal.sqlite3")
    result = Runner(client_for(sandbox, app_only, mail=False), journal, flow="virtual-appointment").run(appts)
    journal.close()
    assert result.all_done
    return [Target(o.key, o.appointment, o.client_join_web_url, o.organizer_id, o.appointment.source_rows)
            for o in result.outcomes]


def notifier(sandbox, tmp_path, app_only=False, **options) -> Notifier:
    return Notifier(client_for(sandbox, app_only), Ledger(tmp_path / "journal.sqlite3"), settle_seconds=0.2, **options)


def mail_to(sandbox, tag: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for message in sandbox.mail():
        for address in message["toRecipients"]:
            if address.startswith(tag.lower() + "-"):
                out.setdefault(address, []).append(message)
    return out


def invitation(message: dict) -> Calendar:
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "text/calendar" and attachment["name"].endswith(".ics")
    return Calendar.from_ical(base64.b64decode(attachment["contentBytes"]))


def test_every_client_with_an_email_gets_one_message_with_their_link_and_the_meetings_times(sandbox, tmp_path):
    tag = unique_tag("NTF")
    targets = book(sandbox, tmp_path, tag, 6, no_email={2})
    results = notifier(sandbox, tmp_path).notify(targets)
    assert [r.status for r in results] == ["sent", "sent", "no email address", "sent", "sent", "sent"]
    mail = mail_to(sandbox, tag)
    assert sorted(mail) == sorted(f"{tag.lower()}-{i}@example.com" for i in (0, 1, 3, 4, 5))
    meetings = {m["id"]: m for m in sandbox.meetings()}
    for target in targets:
        if not target.appointment.clients[0].email:
            continue
        [message] = mail[target.appointment.clients[0].email]
        assert target.join_link in message["body"]["content"].replace("&amp;", "&")
        assert message["from"] == "adele.vance@contoso.onmicrosoft.com"
        [event] = invitation(message).walk("VEVENT")
        meeting = meetings[_meeting_id(sandbox, target)]
        assert event.decoded("DTSTART") == _instant(meeting["startDateTime"])
        assert event.decoded("DTEND") == _instant(meeting["endDateTime"])
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert str(event["URL"]) == target.join_link


def _meeting_id(sandbox, target: Target) -> str:
    [meeting] = [m for m in sandbox.meetings() if m["externalId"] == target.appointment.meeting_external_id]
    return meeting["id"]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text[:19] + "+00:00")


def test_a_rerun_sends_nothing_new(sandbox, tmp_path):
    tag = unique_tag("RRN")
    targets = book(sandbox, tmp_path, tag, 3)
    notifier(sandbox, tmp_path).notify(targets)
    sent_before = sandbox.stats()["mailSent"]
    again = notifier(sandbox, tmp_path).notify(targets)
    assert [r.status for r in again] == ["already sent"] * 3
    assert sandbox.stats()["mailSent"] == sent_before


def test_under_lost_replies_and_503s_no_client_gets_two_emails(fresh_sandbox, tmp_path):
    tag = unique_tag("FLT")
    targets = book(fresh_sandbox, tmp_path, tag, 30)
    fresh_sandbox.configure(faults="lost=0.05,503=0.05", seed=7)
    first = notifier(fresh_sandbox, tmp_path).notify(targets)
    second = notifier(fresh_sandbox, tmp_path).notify(targets)   # finishes anything left unconfirmed
    fresh_sandbox.configure(faults="")
    assert fresh_sandbox.stats()["faultsInjected"] > 0
    assert all(r.status in ("sent", "already sent") for r in second), [r.label for r in second + first]
    counts = Counter({address: len(messages) for address, messages in mail_to(fresh_sandbox, tag).items()})
    assert counts == Counter({f"{tag.lower()}-{i}@example.com": 1 for i in range(30)})


def test_a_crash_after_the_draft_was_made_is_finished_by_sending_that_draft(fresh_sandbox, tmp_path):
    tag = unique_tag("CRS")
    targets = book(fresh_sandbox, tmp_path, tag, 4)
    crashing = notifier(fresh_sandbox, tmp_path, max_rounds=1)
    crashing.organizer()
    fresh_sandbox.configure(faults="lost=1")        # every draft is created, no reply arrives
    first = crashing.notify(targets)
    fresh_sandbox.configure(faults="")
    assert all(r.status == "failed" and "run notify again" in r.error for r in first)
    assert mail_to(fresh_sandbox, tag) == {}
    second = notifier(fresh_sandbox, tmp_path).notify(targets)
    assert [r.status for r in second] == ["sent"] * 4
    assert {a: len(m) for a, m in mail_to(fresh_sandbox, tag).items()} == \
        {f"{tag.lower()}-{i}@example.com": 1 for i in range(4)}


def test_a_crash_after_sending_is_recognised_from_sent_items(sandbox, tmp_path):
    tag = unique_tag("SNT")
    [target] = book(sandbox, tmp_path, tag, 1)
    ledger = Ledger(tmp_path / "journal.sqlite3")
    graph = client_for(sandbox)
    client = target.appointment.clients[0]
    ledger.begin(target.appointment_key, client.email, notification_id="crash-1", kind="request", sequence=0,
                 start_utc="2030-03-28T08:00:00Z", end_utc="2030-03-28T08:30:00Z", mailbox="/me")
    n = Notifier(graph, ledger)
    body = build_message(n.template, target, client, n.organizer(), kind="request", sequence=0,
                         notification_id="crash-1")
    graph.request("POST", "v1.0", "/me/sendMail", {"message": body}, idempotent=False)   # then the process died
    [result] = Notifier(graph, ledger).notify([target])
    assert result.status == "already sent"
    assert len(mail_to(sandbox, tag)[client.email]) == 1


def test_a_changed_time_sends_an_update_and_a_deletion_a_cancellation_with_the_same_uid(sandbox, tmp_path):
    tag = unique_tag("UPD")
    [target] = book(sandbox, tmp_path, tag, 1)
    notifier(sandbox, tmp_path).notify([target])
    moved = replace(target, appointment=replace(target.appointment, start=target.appointment.start + timedelta(hours=2),
                                                end=target.appointment.end + timedelta(hours=2)))
    [update] = notifier(sandbox, tmp_path).notify([moved])
    assert update.status == "sent"
    [cancel] = notifier(sandbox, tmp_path).cancel([moved])
    assert cancel.status == "sent"
    assert notifier(sandbox, tmp_path).cancel([moved]) == []      # told once
    first, second, third = mail_to(sandbox, tag)[target.appointment.clients[0].email]
    events = [invitation(m).walk("VEVENT")[0] for m in (first, second, third)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert [invitation(m)["METHOD"] for m in (first, second, third)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert events[1].decoded("DTSTART") == moved.appointment.start


def test_send_again_is_an_explicit_second_message(sandbox, tmp_path):
    tag = unique_tag("AGN")
    [target] = book(sandbox, tmp_path, tag, 1)
    notifier(sandbox, tmp_path).notify([target])
    email = target.appointment.clients[0].email
    [again] = notifier(sandbox, tmp_path).notify([target], again={(target.appointment_key, email)})
    assert again.status == "sent" and len(mail_to(sandbox, tag)[email]) == 2


def test_app_only_sends_from_the_organizers_mailbox(sandbox, tmp_path):
    tag = unique_tag("APP")
    targets = book(sandbox, tmp_path, tag, 2, app_only=True)
    results = notifier(sandbox, tmp_path, app_only=True).notify(targets)
    assert [r.status for r in results] == ["sent", "sent"]
    assert {m[0]["from"] for m in mail_to(sandbox, tag).values()} == {"adele.vance@contoso.onmicrosoft.com"}


def test_a_token_without_mail_permissions_is_explained_before_anything_is_sent(sandbox, tmp_path):
    tag = unique_tag("PRM")
    targets = book(sandbox, tmp_path, tag, 2)
    before = sandbox.stats()["requests"]
    meetings_only = Notifier(client_for(sandbox, mail=False), Ledger(tmp_path / "journal.sqlite3"))
    with pytest.raises(GraphError) as refused:
        meetings_only.notify(targets)
    assert refused.value.code == "NotSupported" and "Mail.Send" in refused.value.explanation
    assert "Grant admin consent" in refused.value.fix
    assert sandbox.stats()["requests"] == before and mail_to(sandbox, tag) == {}


def test_a_time_changed_while_a_notification_was_unconfirmed_is_sent_as_an_update_next(fresh_sandbox, tmp_path):
    tag = unique_tag("CHG")
    [target] = book(fresh_sandbox, tmp_path, tag, 1)
    crashing = notifier(fresh_sandbox, tmp_path, max_rounds=1)
    crashing.organizer()
    fresh_sandbox.configure(faults="lost=1")
    [first] = crashing.notify([target])
    fresh_sandbox.configure(faults="")
    assert first.status == "failed"
    later = target.appointment.start + timedelta(hours=1)
    moved = replace(target, appointment=replace(target.appointment, start=later, end=later + timedelta(minutes=30)))
    [resolved] = notifier(fresh_sandbox, tmp_path).notify([moved])     # the old draft goes out first
    [update] = notifier(fresh_sandbox, tmp_path).notify([moved])
    assert (resolved.status, update.status) == ("sent", "sent")
    messages = mail_to(fresh_sandbox, tag)[target.appointment.clients[0].email]
    events = [invitation(m).walk("VEVENT")[0] for m in messages]
    assert [e["SEQUENCE"] for e in events] == [0, 1] and events[1].decoded("DTSTART") == later
    assert messages[1]["subject"].startswith("Updated: ")
    assert notifier(fresh_sandbox, tmp_path).notify([moved])[0].status == "already sent"


def test_sends_can_be_paced_to_a_sending_limit_and_progress_is_reported(sandbox, tmp_path):
    tag = unique_tag("PAC")
    targets = book(sandbox, tmp_path, tag, 5)
    progress = []
    paced = notifier(sandbox, tmp_path, messages_per_minute=600, on_progress=lambda done, total: progress.append(done))
    assert paced.send_pace is not None and notifier(sandbox, tmp_path).send_pace is None   # sandbox: no limit
    assert [r.status for r in paced.notify(targets)] == ["sent"] * 5
    assert progress[-1] == 5 and progress == sorted(progress)
