"""Connection: where appointments go (the sandbox, or a real tenant) and how they are created."""

import json
import os
import threading
import time
from dataclasses import replace

import streamlit as st

from lib.screens import connection_form
from lib.screens.background import BackgroundTask
from lib.graph.clouds import CLOUDS
from lib.model.flows import ALL_FLOWS, BOOKINGS, FLOW_TITLES, JOIN_LINK, VIRTUAL_APPOINTMENT
from lib.graph.profile import Profile, ProfileError
from ui import bookings_picker, messages, navigation, state

navigation.through_navigation()

messages.header("Connection", "Where appointments are created, and how. The built-in sandbox works with "
                              "no set-up; a real Microsoft 365 tenant needs an app registration.")

profile = state.profile()

# -- the active connection --------------------------------------------------------------------------
with st.container(border=True):
    if profile is None:
        st.warning("Not connected. Use the sandbox or connect a tenant below.", icon=":material/link_off:")
    else:
        title, action = st.columns([4, 1], vertical_alignment="center")
        kind = "signed in (device code)" if profile.auth == "device_code" else "app-only (client credentials)"
        where = "Built-in sandbox" if profile.is_sandbox else CLOUDS.get(profile.cloud).title if profile.cloud in CLOUDS else profile.cloud
        title.markdown(f"#### :material/hub: {profile.name}\n{where} · {kind} · `{profile.graph_base_url}`")
        if action.button("Test connection", icon=":material/network_check:", width="stretch", type="primary"):
            try:
                client = state.client()
                with st.spinner("Asking Microsoft Graph who we are…"):
                    me = client.whoami()
                    client.check_supports(state.flow(), sms=False)
                st.session_state["cx_test"] = ("ok", me)
            except Exception as exc:  # AuthError / GraphError / ProfileError explain themselves
                st.session_state["cx_test"] = ("error", exc)
        result = st.session_state.get("cx_test")
        if result and result[0] == "ok":
            me = result[1] or {}
            organizer = me.get("organizer_name") or me.get("organizer") or "the signed-in user"
            kind = "signed in as" if me.get("auth") == "delegated" else "app-only, as"
            account = me.get("account") or "the app"
            by = "" if organizer == account else f" Meetings are organized by **{organizer}**."
            st.success(f"Connected: Graph answered, {kind} **{account}**.{by} The {state.flow()} flow can run.",
                       icon=":material/check_circle:")
            extras = [f"Checked with `{me['checked']}`" if me.get("checked") else "",
                      "Join links and text messages: " + ("available" if me.get("join_link_and_sms") else
                                                          "not available with this connection"),
                      f"request-id `{me['request_id']}`" if me.get("request_id") else ""]
            st.caption(" · ".join(e for e in extras if e))
        elif result:
            messages.show_error(result[1], what="The connection test failed")

    sandbox = state.sandbox()
    if sandbox is not None and (profile is None or not profile.is_sandbox):
        if st.button("Use the built-in sandbox again", icon=":material/science:"):
            state.use_profile(Profile.load(sandbox.profile_path))
            st.session_state.pop("cx_test", None)
            st.rerun()
    if sandbox is not None and profile is not None and profile.is_sandbox:
        signed_in = profile.auth == "device_code"
        other = sandbox.app_profile_path if signed_in else sandbox.profile_path
        label = "Switch to the sandbox's app-only connection" if signed_in else "Switch to the sandbox's signed-in connection"
        st.caption("The sandbox is running on this computer: nothing reaches a real tenant, and nothing needs "
                   f"configuring. Its data lives in `{sandbox.data_dir}`.")
        if st.button(label, icon=":material/swap_horiz:"):
            state.use_profile(Profile.load(other))
            st.session_state.pop("cx_test", None)
            st.rerun()

# -- the flow ---------------------------------------------------------------------------------------
st.subheader("How appointments are created")
flow = st.radio("Flow", ALL_FLOWS, index=ALL_FLOWS.index(state.flow()), format_func=FLOW_TITLES.get,
                label_visibility="collapsed")
state.set_flow(flow)
st.caption(
    "Microsoft retired the beta **virtualAppointment** resource: real tenants no longer accept it, so the "
    "sandbox is the only place the virtual-appointment flow still runs. The **join-link** flow is what "
    "Microsoft offers instead: it creates the same Teams meeting (createOrGet, so never twice) and asks Graph "
    "for the link clients open in a browser (getVirtualAppointmentJoinWebUrl), optionally texting it to them. "
    "It needs a signed-in (device code) connection.")
if profile is not None and not profile.is_sandbox and flow == VIRTUAL_APPOINTMENT:
    st.warning("A real tenant answers the retired beta resource with an error. Choose the join-link flow.",
               icon=":material/warning:")
if profile is not None and profile.auth == "client_credentials" and flow == JOIN_LINK:
    st.warning("Microsoft offers the join link only with a signed-in (device code) connection, not app-only.",
               icon=":material/warning:")
if flow == BOOKINGS:
    with st.container(border=True):
        st.markdown("The **Bookings** flow books each appointment in a Microsoft Bookings business (one request, "
                    "v1.0); Bookings makes the Teams meeting and emails the customer. It works signed in or "
                    "app-only and needs:\n" + "\n".join(f"- {line}" for line in connection_form.BOOKINGS_NEEDS))
        bookings_picker.where_to_book()

# -- a real tenant ------------------------------------------------------------------------------------
st.subheader("Connect a Microsoft 365 tenant")
with_file, with_paste, with_form = st.tabs(["Upload a profile", "Paste a profile", "Fill in"])


def candidate_from(text: str | bytes, source: str, in_form_words: bool = False) -> None:
    """Read a profile; its problem is kept for the page, in the form's labels when it came from the form."""
    st.session_state.pop("cx_candidate", None)
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ProfileError("", "a connection profile is a JSON object { ... }")
        st.session_state["cx_candidate"] = Profile.from_dict(doc)
        st.session_state.pop("cx_candidate_error", None)
    except json.JSONDecodeError as exc:
        st.session_state["cx_candidate_error"] = ProfileError(
            "JSON", f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}")
    except ProfileError as exc:
        st.session_state["cx_candidate_error"] = connection_form.in_form_words(exc) if in_form_words else exc


with with_file:
    upload = st.file_uploader("Connection profile (.json)", type=["json"], key="cx_upload")
    if upload is not None and st.button("Read this profile", key="cx_read_upload"):
        candidate_from(upload.getvalue(), upload.name)
with with_paste:
    pasted = st.text_area("Connection profile JSON", key="cx_paste", height=160,
                          placeholder=json.dumps({"name": "Contoso", "cloud": "global", "tenant_id": "…", "client_id": "…",
                                                  "auth": "device_code"}))
    if st.button("Read this profile", key="cx_read_paste") and pasted.strip():
        candidate_from(pasted, "the pasted text")
with with_form:
    auth = st.radio("Sign-in", ["device_code", "client_credentials"], horizontal=True, key="cx_auth",
                    format_func=lambda a: {"device_code": "A person signs in (device code)",
                                           "client_credentials": "App-only (client secret)"}[a])
    with st.expander("What the app registration needs", icon=":material/verified_user:"):
        st.markdown("\n".join(f"- {line}" for line in connection_form.NEEDS[auth]))
    with st.form("cx_form"):
        name = st.text_input("Name", "My tenant")
        cloud = st.selectbox("Cloud", list(CLOUDS), format_func=lambda c: CLOUDS[c].title)
        tenant = st.text_input("Tenant ID", placeholder="contoso.onmicrosoft.com, or the directory (tenant) ID")
        client_id = st.text_input("Application (client) ID", placeholder="11111111-1111-1111-1111-111111111111")
        secret, remember, organizer = "", False, ""
        if auth == "client_credentials":
            secret = st.text_input("Client secret", type="password",
                                   help="Held in memory for this session only, unless you tick the box below. "
                                        "Blank: the secret kept in the credential store for this app, if any.")
            remember = st.checkbox("Keep the secret in this computer's credential store",
                                   help="Windows Credential Manager, macOS Keychain or the Linux Secret Service, "
                                        "through keyring. Never in a file the app writes.")
            organizer = st.text_input("Organizer: user object ID or email (UPN)", placeholder="adele.vance@contoso.com",
                                      help="App-only meetings need a user to organize them.")
        if st.form_submit_button("Use these settings"):
            st.session_state.pop("cx_secret_note", None)
            secret = secret or connection_form.stored_secret(tenant, client_id)
            doc = {"name": name, "cloud": cloud, "tenant_id": tenant.strip(), "client_id": client_id.strip(),
                   "auth": auth}
            if secret:
                doc["client_secret"] = secret
            if organizer.strip():
                doc["organizer"] = organizer.strip()
            candidate_from(json.dumps(doc), "the form", in_form_words=True)
            if remember and secret and "cx_candidate" in st.session_state:
                try:
                    st.session_state["cx_secret_note"] = ("ok", connection_form.store_secret(tenant, client_id, secret))
                except connection_form.CredentialStoreMissing as exc:
                    st.session_state["cx_secret_note"] = ("warning", str(exc))
    if note := st.session_state.get("cx_secret_note"):
        (st.success if note[0] == "ok" else st.warning)(note[1], icon=":material/key:")

if error := st.session_state.get("cx_candidate_error"):
    messages.show_error(error, what="This profile cannot be used")

candidate = st.session_state.get("cx_candidate")
if candidate is not None:
    with st.container(border=True):
        st.markdown(f"**{candidate.name}** · {candidate.cloud} · {candidate.auth.replace('_', ' ')} · "
                    f"tenant `{candidate.tenant_id}`")
        if candidate.auth == "client_credentials" and candidate.client_secret_env:
            # A secret kept in .streamlit/secrets.toml is used from memory, never written anywhere.
            try:
                secret_from_secrets = st.secrets.get(candidate.client_secret_env)
            except Exception:  # no secrets.toml at all
                secret_from_secrets = None
            if secret_from_secrets and not os.environ.get(candidate.client_secret_env):
                candidate = replace(candidate, client_secret=str(secret_from_secrets))
        signing_in = st.session_state.get("cx_signin")
        if signing_in is None and st.button("Connect", type="primary", icon=":material/login:"):
            st.session_state.pop("cx_test", None)  # the old "Connected" must not stay above a failure
            shown: dict = {}
            cancel = threading.Event()

            def connect(candidate=candidate, shown=shown, cancel=cancel):
                client = state.build_client(candidate, on_device_code=shown.update, cancel=cancel)
                return client, client.whoami()

            st.session_state["cx_signin"] = (BackgroundTask(connect, name="sign-in").start(), shown, cancel, candidate)
            st.rerun()


@st.fragment(run_every=1.0)
def sign_in_progress() -> None:
    """The device code and link while a person approves the sign-in; then the result."""
    current = st.session_state.get("cx_signin")
    if current is None:
        return
    task, shown, cancel, candidate = current
    if task.done:
        st.session_state.pop("cx_signin", None)
        if task.error is not None:
            st.session_state.pop("cx_test", None)
            st.session_state["cx_candidate_error"] = task.error
        else:
            client, me = task.result
            state.use_profile(candidate, client)
            st.session_state["cx_test"] = ("ok", me)
            st.session_state.pop("cx_candidate", None)
        st.rerun(scope="app")
    with st.container(border=True):
        if shown.get("user_code"):
            st.markdown(f"#### Sign in: open **[{shown.get('verification_uri')}]({shown.get('verification_uri')})** "
                        f"and enter the code")
            st.code(shown["user_code"], language=None)
            st.caption(shown.get("message") or "")
        waited = time.monotonic() - task.started_at
        st.progress(min(1.0, waited / 900),
                    text=f":material/hourglass_top: Waiting for the sign-in to be approved… ({waited:.0f} s; "
                         "the code is valid for 15 minutes)")
        if st.button("Cancel sign-in", icon=":material/cancel:"):
            cancel.set()


sign_in_progress()
