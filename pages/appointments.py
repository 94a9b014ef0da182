"""Appointments: everything ever created, from the journal, with links, filters, exports and actions."""

from datetime import datetime, time, timedelta

import streamlit as st

from lib.screens import actions
from lib.screens.appointments_view import (BOOKINGS_KIND, COLUMNS, DEAD, TEAMS, entry_label, entry_rows, of_kind,
                                           run_label, selected_key, selection_for, table_key)
from lib.notify.ledger import Ledger
from lib.screens.bulk_job import outcome_of
from ui import messages, navigation, results, state

navigation.through_navigation()

messages.header("Appointments", "Every appointment made from this computer, across runs and restarts, "
                                "with the links to share.")
journal = state.journal()
runs = journal.runs()
if not runs and not journal.entries(limit=1):
    messages.empty_state("Appointments you create show up here with their join links, and stay here after "
                         "the app restarts. Create some from a spreadsheet or design one.",
                         icon=":material/event_busy:")
    go_bulk, go_design, _ = st.columns([1, 1, 3])
    if go_bulk.button("Create from a spreadsheet", type="primary", icon=":material/table_view:"):
        st.switch_page("pages/bulk.py")
    if go_design.button("Design one appointment", icon=":material/design_services:"):
        st.switch_page("pages/designer.py")
    st.stop()

# -- filters ----------------------------------------------------------------------------------------
ANY = ""  # "no filter"; not None, which a selectbox would show as an empty choice
run_col, date_col, kind_col, status_col, organizer_col = st.columns([3, 2, 2, 1, 2])
labels = {r["id"]: run_label(r) for r in runs}
choices = {
    "apf_run": [ANY] + [r["id"] for r in runs],
    "apf_kind": [ANY, TEAMS, BOOKINGS_KIND],
    "apf_status": [ANY, "created", "existing", "failed", "pending", "deleted", actions.GONE, actions.CANCELLED],
    "apf_organizer": [ANY] + journal.organizers(),
}
for key, options in choices.items():  # a choice from an older journal or a deleted run falls back to "any"
    if st.session_state.get(key) not in options:
        st.session_state[key] = ANY
run_id = run_col.selectbox("Run", choices["apf_run"], key="apf_run",
                           format_func=lambda r: labels.get(r, r or "All runs"))
st.session_state.setdefault("apf_dates", ())
days = date_col.date_input("Dates", key="apf_dates", format="YYYY-MM-DD",
                           help="Pick a first and a last day; leave empty for every date.")
kind = kind_col.selectbox("Kind", choices["apf_kind"], key="apf_kind",
                          format_func=lambda k: {TEAMS: "Teams meetings", BOOKINGS_KIND: "Bookings"}.get(k, "Both"))
status = status_col.selectbox("Status", choices["apf_status"], key="apf_status", format_func=lambda s: s or "Any")
organizer = organizer_col.selectbox(
    "Organizer or booking mailbox", choices["apf_organizer"], key="apf_organizer",
    format_func=lambda o: "Anyone" if o == ANY else ("Signed-in user" if o == "me" else o))

start_from = start_to = None
if isinstance(days, (tuple, list)) and len(days) >= 1:
    start_from = datetime.combine(days[0], time.min).strftime("%Y-%m-%dT%H:%M:%SZ")
    last = days[1] if len(days) > 1 else days[0]
    start_to = datetime.combine(last + timedelta(days=1), time.min).strftime("%Y-%m-%dT%H:%M:%SZ")
entries = journal.entries(run_id=run_id or None, status=status or None, organizer=organizer or None,
                          start_from=start_from, start_to=start_to)
entries = of_kind(entries, kind)

if not entries:
    messages.empty_state("No appointment matches these filters. Clear a filter to see more.",
                         icon=":material/filter_alt_off:")
    st.stop()

# -- the table ----------------------------------------------------------------------------------------
rows = entry_rows(entries)
counts = {s: sum(e.status == s for e in entries) for s in choices["apf_status"][1:]}
st.markdown(f"**{len(entries):,} appointment{'s' if len(entries) != 1 else ''}** · "
            + " · ".join(f"{n:,} {s}" for s, n in counts.items() if n))
# The selection is kept as the appointment's key, never as a row position: a new table key after a
# re-sort, with the tick put back on the same appointment.
st.session_state["ap_table_key"] = table_key(rows)
table = st.dataframe(
    rows, key=st.session_state["ap_table_key"], hide_index=True, width="stretch",
    height=min(420, 38 + 35 * len(rows)), on_select="rerun", selection_mode="single-row",
    selection_default=selection_for(rows, st.session_state.get("ap_selected")),
    column_order=[c for c in COLUMNS if c not in ("key",)],
    column_config={
        "start": st.column_config.TextColumn("Start (its own time zone)", width="medium"),
        "kind": st.column_config.TextColumn("Kind", help="A Teams meeting or a Bookings appointment"),
        "status": st.column_config.TextColumn("Status", width="small"),
        "clients": st.column_config.TextColumn("Clients"),
        "subject": st.column_config.TextColumn("Subject"),
        "clientJoinWebUrl": st.column_config.LinkColumn("Client join link", display_text="Client link"),
        "joinWebUrl": st.column_config.LinkColumn("Organizer join link", display_text="Organizer link"),
        "organizer": st.column_config.TextColumn("Organizer", width="small"),
        "run": st.column_config.TextColumn("Run", width="small"),
        "timeZone": st.column_config.TextColumn("Time zone", width="small"),
        "externalAppointmentId": st.column_config.TextColumn("Appointment id"),
        "onlineMeetingId": st.column_config.TextColumn("Meeting or booking id"),
        "error": st.column_config.TextColumn("Problem"),
    },
)
results.downloads(lambda: [outcome_of(e) for e in entries], [], "appointments")

# -- one appointment ------------------------------------------------------------------------------------
chosen = selected_key(rows, table.selection.rows if table is not None else [])
st.session_state["ap_selected"] = chosen
entry = journal.get(chosen) if chosen else None
if entry is None:
    st.caption("Select a row (the box at its left) to refresh its links, change it, delete it or text the clients.")
    st.stop()

st.subheader(entry_label(entry))
st.caption(f"{actions.kind_label(entry)} · organizer {entry.organizer if entry.organizer != 'me' else 'signed-in user'}")
done = st.session_state.get("ap_done")
if done and done[0] == entry.key:
    if done[1] == "ok":
        st.success(done[2], icon=":material/check_circle:")
    elif done[1] == "warn":
        st.warning(done[2], icon=":material/cloud_off:")
    else:
        messages.show_error(done[2], what="Not done")
profile = state.profile()
if profile is None or entry.profile_key != profile.key:
    st.warning("This appointment was made over another connection. Switch to that connection on the "
               "**Connection** page to change it.", icon=":material/swap_horiz:")
    st.stop()

dead = entry.status in DEAD
why_dead = f"This appointment is {entry.status}; this link no longer works." if dead else None
links = st.columns(3)
ics_name, ics_data = actions.ics_file(entry)
links[2].download_button("Download .ics", ics_data, file_name=ics_name, mime="text/calendar", width="stretch",
                         icon=":material/calendar_month:", disabled=dead, key=f"ap_ics_{entry.key}",
                         help="A calendar file for this appointment, to import into Outlook or Google Calendar.")
if entry.client_join_web_url:
    links[0].link_button("Client join link", entry.client_join_web_url, icon=":material/link:", width="stretch",
                         disabled=dead, help=why_dead)
if entry.join_web_url:
    links[1].link_button("Organizer join link", entry.join_web_url, icon=":material/videocam:", width="stretch",
                         disabled=dead, help=why_dead)
if entry.error and not (done and done[0] == entry.key):  # the message above already says it
    (st.warning if entry.status == actions.GONE else st.error)(entry.error, icon=":material/error:")


ledger = st.cache_resource(Ledger)(str(journal.path))  # the notifications live in the journal's own file


def mail_client():
    """The connection with the mail permissions (a sign-in of its own when signed in: lib.notify.access)."""
    from lib.graph import open_client
    from lib.notify import access

    cached = st.session_state.get("ap_mail_client")
    if cached is None or cached.profile.key != profile.key:
        show = (lambda flow: None) if profile.is_sandbox else (lambda flow: st.info(flow.get("message", "")))
        cached = open_client(profile, access.token_provider(profile, on_device_code=show))
        st.session_state["ap_mail_client"] = cached
    return cached


def tell(work) -> str:
    """Run a notification step; a sign-in that fails is said in words, the appointment's change stands."""
    try:
        return work(mail_client())
    except Exception as exc:  # AuthError and GraphError explain themselves
        return f"The clients were not told: {getattr(exc, 'explanation', '') or exc} {getattr(exc, 'fix', '')}"


def run_action(action: str, **options) -> None:
    """Send an action's requests, tell the emailed clients of a change, keep what was done to whom."""
    try:
        graph = state.bookings_client() if actions.is_booking(entry) else state.client()
        said = actions.run(graph, journal, entry, action, **options)
    except Exception as exc:  # GraphError and ModelError explain themselves
        st.session_state["ap_done"] = (entry.key, "error", exc)
        return
    after = journal.get(entry.key) or entry
    told = ""
    if action in (actions.UPDATE, actions.DELETE) and not actions.is_booking(entry) and \
            actions.told_clients(ledger, entry):
        told = tell(lambda mail: actions.follow_change(mail, ledger, entry, after, action))
    warn = after.status == actions.GONE or actions.worrying(told)
    st.session_state["ap_done"] = (entry.key, "warn" if warn else "ok", f"{said} {told}".strip())


def action_box(column, action: str, icon: str):
    """The action's box to fill in and confirm, or a greyed button that says why it cannot run (None)."""
    can = actions.availability(entry, action, auth=auth)
    if not can.allowed:
        column.button(actions.title(entry, action), icon=icon, width="stretch", disabled=True, help=can.reason,
                      key=f"ap_off_{action}_{entry.key}")
        return None
    return column.popover(actions.title(entry, action), icon=icon, width="stretch")


def refresh_button(column) -> None:
    if column.button(actions.title(entry, actions.REFRESH), icon=":material/sync:", width="stretch",
                     disabled=not actions.availability(entry, actions.REFRESH, auth=auth).allowed):
        run_action(actions.REFRESH)
        st.rerun()


auth = profile.auth
appt = entry.appointment()
if actions.is_booking(entry):
    refresh_col, move_col, cancel_col, delete_col = st.columns(4)
    refresh_button(refresh_col)
    box = action_box(move_col, actions.UPDATE, ":material/edit_calendar:")
    if box is not None:
        with box:
            st.caption(f"Times are in {appt.time_zone}. Bookings keeps the service's length "
                       f"({appt.duration_minutes} minutes).")
            day_col, start_col, save_col = st.columns([3, 2, 2], vertical_alignment="bottom")
            new_day = day_col.date_input("Date", appt.start.date(), key=f"ap_day_{entry.key}", format="YYYY-MM-DD")
            new_start = start_col.time_input("Start", appt.start.time(), key=f"ap_start_{entry.key}", step=300)
            if save_col.button("Save", type="primary", help="Move the appointment in Bookings",
                               key=f"ap_save_{entry.key}"):
                run_action(actions.UPDATE, start=datetime.combine(new_day, new_start, tzinfo=appt.start.tzinfo))
                st.rerun()
    box = action_box(cancel_col, actions.CANCEL, ":material/event_busy:")
    if box is not None:
        with box:
            message = st.text_area("Message to the customer", key=f"ap_cancel_msg_{entry.key}",
                                   placeholder="We are sorry: the clinic is closed that day. Please book again.")
            st.caption(actions.CANCEL_NOTE)
            if st.button("Cancel the appointment", type="primary", key=f"ap_cancel_{entry.key}"):
                run_action(actions.CANCEL, message=message)
                st.rerun()
    box = action_box(delete_col, actions.DELETE, ":material/delete:")
    if box is not None:
        with box:
            st.write("The appointment is removed from Bookings and its join links stop working. To send the "
                     "customer a message with it, cancel it instead.")
            if st.button("Delete the booking", type="primary", key=f"ap_delete_{entry.key}"):
                run_action(actions.DELETE)
                st.rerun()
else:
    refresh_col, update_col, delete_col = st.columns(3)
    refresh_button(refresh_col)
    box = action_box(update_col, actions.UPDATE, ":material/edit_calendar:")
    if box is not None:
        with box:
            subject = st.text_input("Subject", appt.subject, key=f"ap_subject_{entry.key}")
            st.caption(f"Times are in {appt.time_zone}.")
            # Save sits beside the date, not under it: the date picker opens downwards and would cover it.
            day_col, start_col, length_col, save_col = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
            new_day = day_col.date_input("Date", appt.start.date(), key=f"ap_day_{entry.key}", format="YYYY-MM-DD")
            new_start = start_col.time_input("Start", appt.start.time(), key=f"ap_start_{entry.key}", step=300)
            minutes = length_col.number_input("Minutes", 1, 1440, appt.duration_minutes, key=f"ap_len_{entry.key}")
            if save_col.button("Save", type="primary", help="Send the change to Teams", key=f"ap_save_{entry.key}"):
                start = datetime.combine(new_day, new_start, tzinfo=appt.start.tzinfo)
                run_action(actions.UPDATE, subject=subject, start=start, end=start + timedelta(minutes=int(minutes)))
                st.rerun()
    box = action_box(delete_col, actions.DELETE, ":material/delete:")
    if box is not None:
        with box:
            st.write("The Teams meeting is deleted; the join links stop working. This cannot be undone.")
            if st.button("Delete the meeting", type="primary", key=f"ap_delete_{entry.key}"):
                run_action(actions.DELETE)
                st.rerun()

    sms_ok = actions.availability(entry, actions.SMS_CONFIRMATION, auth=auth)
    sms_col, reminder_col, _ = st.columns(3)
    if sms_col.button(actions.ACTION_TITLES[actions.SMS_CONFIRMATION], icon=":material/sms:", width="stretch",
                      disabled=not sms_ok.allowed):
        run_action(actions.SMS_CONFIRMATION)
        st.rerun()
    if reminder_col.button(actions.ACTION_TITLES[actions.SMS_REMINDER], icon=":material/alarm:", width="stretch",
                           disabled=not sms_ok.allowed):
        run_action(actions.SMS_REMINDER)
        st.rerun()
    st.caption(f":material/info: {actions.SMS_CAVEAT}" + (f" {sms_ok.reason}" if not sms_ok.allowed else ""))

# -- the clients' emails (Teams meetings; Bookings emails its customers itself) ------------------------
if actions.is_booking(entry):
    st.caption(":material/mail: Bookings emails the customer the confirmation, and the cancellation when you "
               "cancel; nothing is sent from here.")
else:
    st.markdown("**Clients' emails**")
    emailed = {n.client_email: n for n in ledger.for_appointment(entry.key)}
    with_email = [c for c in appt.clients if c.email]
    if not with_email:
        st.caption("No client of this appointment has an email address: tell them another way.")
    for number, person in enumerate(with_email):
        known, name = emailed.get(person.email.lower()), person.display_name or person.email
        who_col, again_col = st.columns([3, 2], vertical_alignment="center")
        who_col.write(actions.notice_line(person, known))
        if again_col.button(f"Send again to {name}" if known else f"Email the invitation to {name}",
                            icon=":material/forward_to_inbox:", key=f"ap_again_{number}_{entry.key}", width="stretch",
                            disabled=dead or not entry.client_join_web_url,
                            help="Their own join link and an .ics invitation, from the organizer's mailbox."):
            text = tell(lambda mail: actions.send_again(mail, ledger, entry, person.email))
            st.session_state["ap_done"] = (entry.key, "warn" if actions.worrying(text) else "ok",
                                           f"{text} {actions.done_to(entry)}")
            st.rerun()

with st.expander("Graph requests sent for this appointment", icon=":material/history:"):
    history = journal.requests_for(entry.key)
    if history:
        st.dataframe(history, hide_index=True, width="stretch",
                     column_order=["at", "step", "method", "path", "status", "request_id", "error"])
    else:
        st.caption("None recorded.")
