"""Appointments page: a change to an emailed meeting reaches its client, send again, the .ics download."""

from __future__ import annotations

from datetime import time

from tests.app.driver import assert_clean, button, open_app, texts
from tests.app.test_appointments import create_from_csv, select_row
from tests.app.test_appointments_bookings import embedded, sandbox_get
from tests.helpers import unique_tag

EMAIL = "client0@example.com"  # Client 0 of every tests.helpers.clients_csv


def mail_to_client0(box) -> list[dict]:
    return [m for m in sandbox_get(box, "/_sandbox/mail")["value"] if EMAIL in str(m.get("toRecipients"))]


def email_the_client(box, key: str) -> None:
    """What the bulk page's "Notify clients" step does: Client 0 gets the invitation."""
    from lib.bulk.journal import Journal, default_journal_path
    from lib.graph.client import GraphClient
    from lib.graph.profile import Profile
    from lib.notify import access
    from lib.notify.ledger import Ledger
    from lib.notify.notifier import Notifier
    from lib.screens.actions import notice_target

    profile = Profile.load(box.profile_path)
    mail = GraphClient(profile, access.token_provider(profile, on_device_code=lambda flow: None))
    journal, ledger = Journal(default_journal_path()), Ledger(default_journal_path())
    try:
        [result] = Notifier(mail, ledger).notify([notice_target(journal.get(key))])
        assert result.status == "sent", result.error
    finally:
        journal.close()
        ledger.close()


def test_an_update_of_a_notified_appointment_sends_one_update_email_and_send_again_one_more():
    tag = unique_tag("NTF")
    create_from_csv(tag, 1)
    box = embedded()
    at = select_row(open_app("pages/appointments.py"), tag)
    key = at.session_state["ap_selected"]
    assert "not emailed yet" in " ".join(str(m.value) for m in at.markdown)
    email_the_client(box, key)
    at.run()
    assert any("invitation sent" in str(m.value) for m in at.markdown)
    ics = [d for d in at.get("download_button") if d.proto.label == "Download .ics"]
    assert ics and not ics[0].proto.disabled

    before = len(mail_to_client0(box))
    at.time_input(key=f"ap_start_{key}").set_value(time(11, 45)).run()
    button(at, "Save").click().run()
    assert_clean(at)
    said = texts(at)
    assert "Meeting updated. For Client 0, 2027-03-01 11:45" in said
    assert f"The update was emailed to Client 0 ({EMAIL})." in said
    new = mail_to_client0(box)[before:]
    assert len(new) == 1 and new[0]["subject"].startswith("Updated: ")
    assert any("update sent" in str(m.value) for m in at.markdown)

    button(at, "Send again to Client 0").click().run()
    assert_clean(at)
    assert f"The invitation was emailed to Client 0 ({EMAIL})." in texts(at)
    assert len(mail_to_client0(box)) == before + 2


def test_deleting_a_notified_meeting_sends_the_cancellation():
    tag = unique_tag("NTD")
    create_from_csv(tag, 1)
    box = embedded()
    at = select_row(open_app("pages/appointments.py"), tag)
    email_the_client(box, at.session_state["ap_selected"])
    before = len(mail_to_client0(box))
    button(at, "Delete the meeting").click().run()
    assert_clean(at)
    assert f"Meeting deleted. For Client 0, 2027-03-01 09:00 (UTC). The cancellation was emailed to Client 0" in texts(at)
    new = mail_to_client0(box)[before:]
    assert len(new) == 1 and new[0]["subject"].startswith("Cancelled: ")
    assert all(b.disabled for b in at.button if b.label.startswith("Send again to"))
