"""Designer: one appointment, every field on the left, the live Graph requests on the right."""

from datetime import date, time

import pandas as pd
import streamlit as st

from lib.model.appointment import ModelError
from lib.screens.designer import DesignerForm, RecordingClient, for_booking, zone_label
from lib.model.flows import ALL_FLOWS, BOOKINGS, FLOW_TITLES, JOIN_LINK, SmsOptions, plan
from lib.bulk.runner import Runner
from lib.model.timezones import COMMON_ZONES
from ui import designer_panels, designer_session, messages, navigation, state

navigation.through_navigation()

session = designer_session  # the callbacks and the kept draft

if "designer_form" not in st.session_state:  # a new session: the draft of the last one, if any
    session.load_form(session.DRAFTS.load() or session.fresh_form())
saved = st.session_state["designer_form"]
for name in session.FIELDS:  # widgets forget their values when another page was open; the form remembers
    st.session_state.setdefault(f"dz_{name}", getattr(saved, name))
st.session_state.setdefault("dz_use_end", saved.end is not None)
if st.session_state.get("dz_end") is None:
    st.session_state["dz_end"] = time(11, 0)

messages.header("Designer", "Design one appointment, see the exact Microsoft Graph requests as you type, "
                            "copy them as code, and send it.")

flow = state.flow()
booking, booking_problem = designer_panels.booking_target() if flow == BOOKINGS else (None, None)
length_of_service = booking.duration_minutes if booking is not None else None

left, right = st.columns([1, 1], gap="large")

# -- left: the appointment --------------------------------------------------------------------------
with left:
    with st.expander("Load JSON or a saved template", icon=":material/file_open:"):
        paste, upload, saved_tab = st.tabs(["Paste JSON", "Upload JSON", "Templates"])
        paste.text_area("JSON document", key="dz_paste", height=140,
                        placeholder='{"meeting": {...}, "virtualAppointment": {...}} or either body alone')
        paste.button("Load pasted JSON", on_click=session.on_paste, icon=":material/input:")
        upload.file_uploader("A .json file", type=["json"], key="upload_dz_json", on_change=session.on_upload)
        names = session.TEMPLATES.names()
        if names:
            saved_tab.selectbox("Template", names, key="dz_template")
            saved_tab.button("Load template", on_click=session.on_template_load, icon=":material/folder_open:")
        else:
            saved_tab.caption("No saved templates yet. Design an appointment, then save it below the preview.")
        if problem := st.session_state.get("designer_load_error"):
            source, exc = problem
            messages.show_error(exc, what=f"Could not load {source}")
    if loaded := st.session_state.pop("designer_loaded", None):
        st.success(loaded, icon=":material/check_circle:")

    st.subheader("Meeting")
    st.text_input("Subject", key="dz_subject")
    day, start, length = st.columns(3)
    day.date_input("Date", key="dz_day", format="YYYY-MM-DD")
    start.time_input("Start", key="dz_start", step=300)
    use_end = st.session_state.get("dz_use_end", False)
    if length_of_service:  # Bookings refuses any other length for an app's booking
        length.number_input("Duration (minutes)", value=length_of_service, disabled=True, key="dz_bk_length",
                            help=f"Set by the service “{booking.service_name}”; choose another service to change it.")
    elif use_end:
        length.time_input("End", key="dz_end", step=300)
    else:
        length.number_input("Duration (minutes)", key="dz_duration", min_value=1, max_value=1440, step=5)
    if not length_of_service:
        st.toggle("Give an end time instead of a duration", key="dz_use_end")
    zones = list(dict.fromkeys([st.session_state["dz_time_zone"], state.browser_zone(), *COMMON_ZONES]))
    zone_col, organizer_col = st.columns(2) if flow != BOOKINGS else (st, None)
    zone_col.selectbox("Time zone", zones, key="dz_time_zone", accept_new_options=True, format_func=zone_label,
                       help="Any IANA name, for example Europe/Madrid; type to search or add one.")
    p = state.profile()
    if organizer_col is not None:
        organizer_col.text_input(
            "Organizer", key="dz_organizer",
            placeholder="the signed-in user" if p is None or p.auth == "device_code" else "user id or UPN",
            help="Blank: the signed-in user (/me). App-only connections need a user id or UPN.")

    st.subheader("Clients" if flow != BOOKINGS else "Customers")
    if saved.uses_example_client:
        st.caption(":material/info: The client below is an example, so the preview has something to show: "
                   "replace it with your client. It is never sent as it is.")
    clients = st.data_editor(
        pd.DataFrame(saved.clients or [{"name": "", "email": "", "phone": ""}], columns=["name", "email", "phone"]),
        key=f"grid_dz_clients_{st.session_state.get('dz_clients_version', 0)}", num_rows="dynamic", width="stretch",
        hide_index=True,
        column_config={"name": st.column_config.TextColumn("Name", width="small"),
                       "email": st.column_config.TextColumn("Email", width="medium"),
                       "phone": st.column_config.TextColumn("Phone", width="small",
                                                            help="For text messages; with the country code: +1 212 555 0142")},
    )
    if flow != BOOKINGS:  # Bookings has no such fields: the service decides how customers join
        st.toggle("Clients may join in a browser (no Teams app needed)", key="dz_allow_browser_join")
        ext_id, ext_url = st.columns(2)
        ext_id.text_input("External appointment id", key="dz_external_appointment_id",
                          help="Your booking system's id. Blank: derived from the time and the clients. "
                               "The same id always gives the same meeting (no duplicates).")
        ext_url.text_input("External appointment URL", key="dz_external_appointment_url",
                           placeholder="https://booking.example.com/a/123")
        st.text_input("Meeting externalId", key="dz_external_id",
                      help="The key createOrGet finds the meeting by. Blank: made from the external appointment id.")
    new_id, afresh = st.columns(2) if flow != BOOKINGS else (None, st)
    if new_id is not None:
        new_id.button("New external id", on_click=session.on_new_id, icon=":material/refresh:",
                      help="Send this design again as a new meeting instead of getting the existing one.")
    afresh.button("Start afresh", on_click=session.on_start_afresh, icon=":material/restart_alt:",
                  help="Forget this draft (it is kept across reloads) and start from the example.")

    st.subheader("Flow")
    chosen_flow = st.radio("How the appointment is created", ALL_FLOWS, format_func=FLOW_TITLES.get,
                           index=ALL_FLOWS.index(flow), label_visibility="collapsed")
    if chosen_flow != flow:  # the widgets above depend on the flow: draw them again for the new one
        state.set_flow(chosen_flow)
        st.rerun()
    sms, notify = None, False
    if flow != BOOKINGS:
        notify = st.checkbox("Email the client their link (and an invitation), from the organizer's mailbox",
                             key="dz_notify", help="Adds the sendMail request to the preview and the snippets; "
                                                   "sending emails each client with an email address once.")
    if flow == BOOKINGS and booking is not None:
        booking = designer_panels.booking_options(booking)
    elif flow == BOOKINGS:
        messages.show_error(booking_problem, what="Where to book is not known")
    if flow == JOIN_LINK:
        st.caption(":material/sms: In the join-link flow Graph keeps no list of clients: their names and emails "
                   "are not sent, and phone numbers are used only to text the join link.")
        if st.checkbox("Also text the join link to clients with a phone number (Teams Premium, US numbers only)",
                       key="dz_sms"):
            sms = SmsOptions()

form = DesignerForm(**{name: st.session_state[f"dz_{name}"] for name in session.FIELDS if name != "end"},
                    end=st.session_state["dz_end"] if use_end else None,
                    clients=[{k: ("" if pd.isna(v) else str(v)) for k, v in row.items()}
                             for row in clients.to_dict("records")])
if isinstance(form.day, str):
    form.day = date.fromisoformat(form.day)
st.session_state["designer_form"] = form
session.DRAFTS.save(form)
if flow == BOOKINGS:
    form = for_booking(form, length_of_service)

# -- right: the live requests -----------------------------------------------------------------------
with right:
    st.subheader("Requests")
    try:
        appointment = form.appointment()
    except ModelError as exc:
        appointment = None
        messages.show_error(exc)
    if appointment is not None and p is not None and flow == BOOKINGS:
        if booking is not None:
            designer_panels.booking_requests(appointment, booking, p, disabled=form.uses_example_client)
        else:
            messages.show_error(booking_problem, what="Nothing to preview")
    elif appointment is not None and p is not None:
        steps = plan(appointment, flow, user_path=state.user_path(appointment.organizer), sms=sms)
        mails = designer_panels.mail_specs(appointment, p) if notify else []
        designer_panels.show_requests(steps + mails, p, designer_panels.MAIL_NOTE if mails else "")
        send_col, save_col = st.columns([1, 1], vertical_alignment="bottom")
        target = "the sandbox" if p.is_sandbox else p.name
        example = form.uses_example_client
        if send_col.button(f"Send to {target}", type="primary", icon=":material/send:", width="stretch",
                           disabled=example, help="Replace the example client first." if example else None):
            try:
                recorder = RecordingClient(state.client())
                runner = Runner(recorder, state.journal(), flow=flow, concurrency=1, use_batch=False, sms=sms)
                with st.spinner("Sending…"):
                    result = runner.run([appointment], source="designer")
                st.session_state["designer_sent"] = (recorder.exchanges, result.outcomes[0], None)
            except Exception as exc:  # GraphError / AuthError explain themselves; anything else in words
                st.session_state["designer_sent"] = ([], None, exc)
            st.session_state["designer_sent_flow"] = flow
            st.session_state["designer_notified"] = designer_panels.notify_clients(
                st.session_state["designer_sent"][1]) if notify else None
        with save_col.popover("Save as template", icon=":material/save:", width="stretch"):
            st.text_input("Template name", key="dz_template_name", placeholder="Intake call, 30 min")
            st.button("Save", key="btn_dz_save", on_click=session.on_save_template)
            saved_as = st.session_state.pop("designer_saved", None)
            if saved_as and saved_as[0] == "ok":
                st.success(f"Saved “{saved_as[1]}”. Load it from “Load JSON or a saved template”.")
            elif saved_as:
                messages.show_error(saved_as[1], what="Not saved")
    elif p is None:
        messages.empty_state("Connect on the **Connection** page to see the full request URLs and send.")

    sent = st.session_state.get("designer_sent")
    if sent and st.session_state.get("designer_sent_flow", flow) == flow:
        exchanges, outcome, error = sent
        st.subheader("Response")
        if error is not None:
            messages.show_error(error, what="Not sent")
        if outcome is not None and flow == BOOKINGS:
            with st.container(border=True):
                designer_panels.booking_card(outcome)
        elif outcome is not None:
            with st.container(border=True):
                appt = outcome.appointment
                if outcome.status in ("created", "existing"):
                    word = "created" if outcome.status == "created" else "already existed: the same meeting is reused"
                    st.markdown(f"#### :material/event_available: Appointment {word}")
                    st.markdown(f"**{appt.subject}** · {appt.start:%Y-%m-%d %H:%M}–{appt.end:%H:%M} "
                                f"({appt.time_zone}) · {appt.clients_label}")
                    links = st.columns(2)
                    if outcome.client_join_web_url:
                        links[0].link_button("Client join link", outcome.client_join_web_url, icon=":material/link:",
                                             type="primary", width="stretch")
                    if outcome.join_web_url:
                        links[1].link_button("Organizer join link", outcome.join_web_url, icon=":material/videocam:",
                                             width="stretch")
                    st.caption("The client's link, to paste into an email or a text:")
                    st.code(outcome.client_join_web_url or outcome.join_web_url or "", language=None, wrap_lines=True)
                    st.caption(f"External appointment id `{appt.appointment_id}` — send the same id again and "
                               "Graph returns this meeting instead of making a second one.")
                else:
                    st.markdown("#### :material/error: Not created")
                    st.error(outcome.error or "The appointment was not created.", icon=":material/error:")
        designer_panels.notified(st.session_state.get("designer_notified"))
        designer_panels.show_exchanges(exchanges)
