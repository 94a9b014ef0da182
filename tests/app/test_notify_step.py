"""Bulk step 6, "Tell the clients": the exact email for a chosen client, a refused placeholder, and
"Email N clients" sending exactly one message per client (a second click sends nothing)."""

from __future__ import annotations

import requests
from streamlit.testing.v1 import AppTest

from lib.screens.embedded_sandbox import ensure_sandbox
from tests.app.driver import assert_clean, button, open_app, texts, wait_until
from tests.app.test_bulk import upload
from tests.helpers import clients_csv, unique_tag


def sandbox_mail() -> list[dict]:
    """Every message the app's own sandbox sent (``/_sandbox/mail``)."""
    box = ensure_sandbox()
    with requests.Session() as http:
        http.trust_env = False
        reply = http.get(box.url + "/_sandbox/mail", verify=str(box.ca_path), timeout=10)
        reply.raise_for_status()
        return reply.json()["value"]


def created(n: int, tag: str):
    at = upload(open_app("pages/bulk.py"), f"{tag}.csv", clients_csv(n, tag))
    button(at, f"Create {n} appointments").click().run()
    wait_until(at, lambda at: f"{n} created" in texts(at) and any(b.label.startswith("Email ") for b in at.button))
    assert_clean(at)
    return at


def frame_html(at) -> str:
    frames = at.get("iframe")
    assert frames, "no framed email"
    return frames[0].proto.srcdoc


def mine(tag: str) -> list[dict]:
    return [m for m in sandbox_mail() if tag in m["subject"] or tag in m["body"]["content"]]


def test_the_step_previews_refuses_a_bad_placeholder_and_emails_each_client_once():
    tag = unique_tag("NTF")
    at = created(3, tag)
    assert "6 · Tell the clients" in texts(at)

    # The exact email of the chosen client: their name, their own link, in a sandboxed frame.
    at.selectbox(key="bulk_notify_client").set_value(1).run()
    assert_clean(at)
    shown = frame_html(at)
    assert 'sandbox=""' in shown and "Client 1" in shown and "visit.teams.microsoft.com" in shown
    assert "client1@example.com" in texts(at)
    assert any(b.label == "Invitation (appointment.ics)" for b in at.get("download_button"))

    # An unknown placeholder is refused before anything can be sent.
    at.text_input(key="bulk_notify_subject").set_value("Hello {first_name} " + tag).run()
    assert "unknown placeholder {first_name}" in texts(at)
    assert button(at, "Email 3 clients").disabled
    at.text_input(key="bulk_notify_subject").set_value("Your appointment {date} " + tag).run()
    assert "unknown placeholder" not in texts(at)

    before = len(mine(tag))
    wait_until(at, lambda at: not button(at, "Email 3 clients").disabled)
    button(at, "Email 3 clients").click().run()
    wait_until(at, lambda at: "3 sent" in texts(at) and not button(at, "Email 3 clients").disabled)
    assert_clean(at)
    sent = mine(tag)
    assert before == 0 and len(sent) == 3
    assert sorted(m["toRecipients"][0] for m in sent) == [f"client{i}@example.com" for i in range(3)]
    assert all(m["attachments"][0]["name"] == "appointment.ics" for m in sent)

    # A second click (and a reload) sends nothing new.
    button(at, "Email 3 clients").click().run()
    wait_until(at, lambda at: "3 already sent" in texts(at))
    assert len(mine(tag)) == 3
    # A new session (a reload, then the same file again) finds in the ledger who was told: it sends nothing.
    again = upload(open_app("pages/bulk.py"), f"{tag}.csv", clients_csv(3, tag))
    button(again, "Create 3 appointments").click().run()
    wait_until(again, lambda at: "3 already there" in texts(at)
               and any(b.label.startswith("Email ") and not b.disabled for b in at.button))
    assert "3 sent" in texts(again)
    button(again, "Email 3 clients").click().run()
    wait_until(again, lambda at: "3 already sent" in texts(at))
    assert len(mine(tag)) == 3

    # "Send again to Client 2" is the one explicit way to send a second email.
    at.selectbox(key="bulk_notify_again").set_value(2).run()
    button(at, "Send again to Client 2").click().run()
    wait_until(at, lambda at: at.session_state["bulk_notify_job"].done and len(mine(tag)) == 4)
    assert sorted(m["toRecipients"][0] for m in mine(tag)).count("client2@example.com") == 2
    assert len(mine(tag)) == 4


def _step_in_the_bookings_flow():
    import streamlit as st

    from lib.model.flows import BOOKINGS
    from ui import notify_step

    st.session_state["flow"] = BOOKINGS
    notify_step.render([])


def test_in_the_bookings_flow_the_step_says_bookings_emails_the_customers():
    # The step alone: the bulk page's Bookings flow is another change of its own.
    at = AppTest.from_function(_step_in_the_bookings_flow, default_timeout=60)
    at.run()
    assert_clean(at)
    assert "Microsoft Bookings emails each customer" in texts(at)
    assert not any(b.label.startswith("Email ") for b in at.button)


def test_a_connection_without_the_mail_permissions_is_explained_before_sending():
    from lib.graph import open_client
    from lib.graph.profile import Profile
    from lib.graph.signin import token_provider_for

    tag = unique_tag("NTP")
    at = created(2, tag)
    profile = Profile.load(ensure_sandbox().profile_path)
    meetings_only = open_client(profile, token_provider_for(profile))   # the meetings' sign-in: no Mail.Send
    at.session_state["bulk_notify_client_for"] = (profile.key, meetings_only)
    at.run()
    assert_clean(at)
    said = texts(at)
    assert "Clients cannot be emailed from this connection yet" in said and "Mail.Send" in said
    assert "Grant admin consent" in said
    assert button(at, "Email 2 clients").disabled
    assert mine(tag) == []


def test_an_email_template_is_saved_in_the_data_folder_and_picked_again():
    from lib.datafolder import studio_home

    tag = unique_tag("NTT")
    at = created(2, tag)
    at.text_input(key="bulk_notify_subject").set_value("Reminder {subject} " + tag).run()
    at.text_input(key="bulk_notify_name").set_value(f"Reminder {tag}").run()
    at.button(key="notify_save_button").click().run()
    assert_clean(at)
    assert f"Saved the email template “Reminder {tag}”" in texts(at)
    assert (studio_home() / "email-templates" / f"Reminder {tag}.json").is_file()
    button(at, "Back to the default").click().run()
    assert at.text_input(key="bulk_notify_subject").value.startswith("Your appointment:")
    at.selectbox(key="bulk_notify_saved").set_value(f"Reminder {tag}").run()
    button(at, "Load").click().run()
    assert at.text_input(key="bulk_notify_subject").value == "Reminder {subject} " + tag
    assert f"Reminder Virtual appointment {tag}" in texts(at)       # the preview follows the template
