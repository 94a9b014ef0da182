"""Connection: the sandbox by default, a test that explains itself, profiles pasted in, the flow choice."""

from __future__ import annotations

import json

from tests.app.driver import assert_clean, button, open_app, texts, wait_until


def test_the_sandbox_is_connected_by_default_and_the_test_says_who_answered():
    at = open_app("pages/connection.py")
    assert "Built-in sandbox" in texts(at)
    button(at, "Test connection").click().run()
    assert_clean(at)
    assert "signed in as **adele.vance@contoso.onmicrosoft.com**" in texts(at)


def test_the_flow_choice_explains_the_retired_beta_resource():
    at = open_app("pages/connection.py")
    said = texts(at)
    assert "retired the beta **virtualAppointment** resource" in said
    assert "getVirtualAppointmentJoinWebUrl" in said
    at.radio[0].set_value("join-link").run()
    assert "Flow: **join-link**" in " ".join(str(c.value) for c in at.sidebar.get("caption")) or \
        at.session_state["flow"] == "join-link"


def test_switching_to_app_only_and_back():
    at = open_app("pages/connection.py")
    button(at, "Switch to the sandbox's app-only connection").click().run()
    assert "app-only (client credentials)" in texts(at)
    button(at, "Test connection").click().run()
    assert_clean(at)
    assert "Meetings are organized by **Adele Vance**" in texts(at)
    button(at, "Switch to the sandbox's signed-in connection").click().run()
    assert "signed in (device code)" in texts(at)


def test_a_pasted_profile_with_a_mistake_names_the_field_and_the_fix():
    at = open_app("pages/connection.py")
    at.text_area(key="cx_paste").set_value(json.dumps({"name": "x", "cloud": "global", "auth": "device_code",
                                                        "tenant_id": "contoso.onmicrosoft.com",
                                                        "client_id": "not-a-guid"})).run()
    button(at, "Read this profile").click().run()
    assert_clean(at)
    errors = " ".join(e.value for e in at.error)
    assert "client_id" in errors

    at.text_area(key="cx_paste").set_value("{not json").run()
    button(at, "Read this profile").click().run()
    assert "not valid JSON" in " ".join(e.value for e in at.error)


def test_device_code_sign_in_waits_for_approval_then_connects(sandbox):
    """The sandbox approves at once; a real tenant would show the code and wait on the same screen."""
    at = open_app("pages/connection.py")
    profile = json.loads(sandbox.profile_path.read_text())
    profile["name"] = "Second sandbox"
    at.text_area(key="cx_paste").set_value(json.dumps(profile)).run()
    button(at, "Read this profile").click().run()
    assert "Second sandbox" in texts(at)
    button(at, "Connect").click().run()
    wait_until(at, lambda at: "Connected: Graph answered" in texts(at))
    assert_clean(at)
    assert at.session_state["profile"].name == "Second sandbox"


def test_device_code_sign_in_shows_the_code_and_link_and_can_be_cancelled(fresh_sandbox):
    fresh_sandbox.configure(auto_approve=False)
    at = open_app("pages/connection.py")
    profile = json.loads(fresh_sandbox.profile_path.read_text())
    profile["name"] = "Waiting sandbox"
    at.text_area(key="cx_paste").set_value(json.dumps(profile)).run()
    button(at, "Read this profile").click().run()
    button(at, "Connect").click().run()
    wait_until(at, lambda at: "and enter the code" in texts(at), timeout=30)
    said = texts(at)
    assert f"{fresh_sandbox.url}/devicelogin" in said or "devicelogin" in said
    assert at.get("progress"), "no progress while waiting for approval"
    button(at, "Cancel sign-in").click().run()
    wait_until(at, lambda at: any("cancelled" in e.value for e in at.error), timeout=30)
    assert_clean(at)
    assert at.session_state["profile"].name != "Waiting sandbox"


def test_the_form_shows_app_only_fields_only_for_app_only_and_names_what_each_flow_needs():
    at = open_app("pages/connection.py")
    labels = {t.label for t in at.text_input}
    assert "Client secret" not in labels and not any(l.startswith("Organizer:") for l in labels)
    assert "OnlineMeetings.ReadWrite" in texts(at) and "EnableSmsNotifications" in texts(at)
    at.radio(key="cx_auth").set_value("client_credentials").run()
    secret = next(t for t in at.text_input if t.label == "Client secret")
    assert secret.proto.type == secret.proto.PASSWORD
    assert "application access policy" in texts(at) and "not available app-only" in texts(at)


def test_form_errors_use_the_forms_labels():
    at = open_app("pages/connection.py")
    next(t for t in at.text_input if t.label == "Tenant ID").set_value("contoso.onmicrosoft.com")
    next(t for t in at.text_input if t.label == "Application (client) ID").set_value("not-a-guid")
    button(at, "Use these settings").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "**Application (client) ID**" in errors and "client_id" not in errors


def test_a_secret_to_keep_without_a_credential_store_says_so_and_stays_in_memory():
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    before = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())  # as on a server without one; never the developer's own keychain
    try:
        check_secret_is_kept_in_memory_only()
    finally:
        keyring.set_keyring(before)


def check_secret_is_kept_in_memory_only():
    at = open_app("pages/connection.py")
    at.radio(key="cx_auth").set_value("client_credentials").run()
    next(t for t in at.text_input if t.label == "Tenant ID").set_value("contoso.onmicrosoft.com")
    next(t for t in at.text_input if t.label == "Application (client) ID").set_value("11111111-1111-1111-1111-111111111111")
    next(t for t in at.text_input if t.label == "Client secret").set_value("s3cret-value")
    next(t for t in at.text_input if t.label.startswith("Organizer:")).set_value("adele.vance@contoso.com")
    at.checkbox[0].check()
    button(at, "Use these settings").click().run()
    assert_clean(at)
    assert at.session_state["cx_candidate"].client_secret == "s3cret-value"
    said = texts(at)
    assert "no credential store the app can use" in said
    assert "s3cret-value" not in said


# -- choosing where to book (issue 11) -----------------------------------------------------------------
def staff_id(at, email: str) -> str:
    read = at.session_state["cx_bookings_cache"]
    return next(m.id for k, v in read.items() if k[0] == "staff" for m in v[2] if m.email == email)


def choose_bookings(at):
    at.radio[0].set_value("bookings").run()
    assert_clean(at)


def test_the_bookings_flow_lists_businesses_services_and_staff_and_remembers_the_choice():
    at = open_app("pages/connection.py")
    choose_bookings(at)
    said = texts(at)
    assert "BookingsAppointment.ReadWrite.All" in said and "Bookings.Read.All" in said
    assert "Microsoft 365 plan that includes Bookings" in said and "emails each customer" in said
    # The sandbox approves the sign-in with the Bookings permissions by itself: the businesses are listed at once.
    wait_until(at, lambda at: any(s.label == "Booking business" for s in at.selectbox))
    assert_clean(at)
    business = next(s for s in at.selectbox if s.label == "Booking business")
    assert business.value == "virtualcare@contoso.onmicrosoft.com"
    service = next(s for s in at.selectbox if s.label == "Service")
    assert service.options == ["Initial consultation (30 min, anonymous join)", "Follow-up (15 min)"]
    read = at.session_state["cx_bookings_cache"]
    follow_up = next(v[2] for k, v in read.items() if k[0] == "services")[1]
    service.set_value(follow_up.id).run()
    staff = next(m for m in at.multiselect if m.label == "Staff (optional)")
    assert "Megan Bowen <megan.bowen@contoso.onmicrosoft.com>" in staff.options
    staff.set_value([staff_id(at, "megan.bowen@contoso.onmicrosoft.com")]).run()
    button(at, "Book here").click().run()
    assert_clean(at)
    choice = at.session_state["bookings_choice"]
    assert choice["business"] == "virtualcare@contoso.onmicrosoft.com" and len(choice["staff"]) == 1
    assert "Bookings go to **Contoso Virtual Care" in texts(at) and "Follow-up (15 min)" in texts(at)
    assert at.session_state["flow"] == "bookings"


def test_app_only_lists_businesses_at_once_and_a_search_that_finds_none_says_what_to_do():
    at = open_app("pages/connection.py")
    button(at, "Switch to the sandbox's app-only connection").click().run()
    choose_bookings(at)
    assert not [b for b in at.button if b.label.startswith("Sign in with the Bookings")]
    assert any(s.label == "Booking business" for s in at.selectbox)
    at.text_input(key="cx_bk_query").set_value("no such business").run()
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "No booking business matches “no such business”" in warnings and "Clear the search box" in warnings


def test_a_connection_without_the_bookings_permissions_is_told_which_to_grant(tmp_path):
    from lib.sandbox.process import start_sandbox_process

    limited = {"app": ["OnlineMeetings.ReadWrite.All", "User.Read.All"]}
    with start_sandbox_process(tmp_path / "sandbox", permissions_of=limited) as box:
        at = open_app("pages/connection.py")
        profile = json.loads(box.app_profile_path.read_text())
        profile["name"] = "No Bookings"
        at.text_area(key="cx_paste").set_value(json.dumps(profile)).run()
        button(at, "Read this profile").click().run()
        button(at, "Connect").click().run()
        wait_until(at, lambda at: "Connected: Graph answered" in texts(at))
        choose_bookings(at)
        errors = " ".join(e.value for e in at.error)
    assert "may not read Microsoft Bookings" in errors
    assert "application permissions Bookings.Read.All and BookingsAppointment.ReadWrite.All" in errors
    assert "Grant admin consent" in errors and "HTTP 403" in errors
