"""The designer's panels that are not the meeting flows' own: the Bookings flow, emailing clients, the answers.

The logic lives in ``lib.screens.designer`` and ``lib.model.bookings``; this draws it.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime, timezone

import streamlit as st

from lib.graph.bookings import BookingsChoiceError, list_services, list_staff
from lib.graph.errors import GraphError
from lib.model.bookings import create_spec, rule_problems
from lib.model.snippets import LANGUAGES, sandbox_token_command, snippet
from lib.screens import connection_form
from lib.screens.designer import RecordingClient, preview
from ui import bookings_picker, messages, state


def booking_target():
    """(the BookingsTarget chosen on the Connection page, None) or (None, why there is none)."""
    try:
        client = state.client()
        if connection_form.lacks_bookings_sign_in(client):
            return None, BookingsChoiceError("This sign-in did not ask for the Bookings permissions: on the "
                                             "Connection page, choose the Bookings flow and select “Sign in with "
                                             "the Bookings permissions”.")
        return state.bookings_target(), None
    except GraphError as exc:
        return None, connection_form.bookings_error(exc, state.profile().auth)
    except Exception as exc:  # BookingsChoiceError / AuthError explain themselves
        return None, exc


def _choose(business: str, service_key: str, staff_key: str) -> None:
    """Widget callback: the designer's service or staff becomes the session's choice (the Connection page's too)."""
    state.set_bookings_choice(business, st.session_state.get(service_key, ""), st.session_state.get(staff_key) or [])


def booking_options(target):
    """Service, staff and notification options of the booking (left column); the target they make."""
    client = state.client()
    business = target.business
    services = bookings_picker.read_once(("services", business), lambda: list_services(client, business))
    labels = {s.id: s.label for s in services}
    service_key, staff_key = f"dz_bk_service_{business}", f"dz_bk_staff_{business}"
    st.session_state[service_key] = target.service_id
    st.selectbox("Service", list(labels), format_func=labels.get, key=service_key,
                 on_change=_choose, args=(business, service_key, staff_key),
                 help=f"The services of {target.rules.business_name if target.rules else business}; "
                      "another business is chosen on the Connection page.")
    if target.rules is None or target.rules.allow_staff_selection:
        staff = bookings_picker.read_once(("staff", business), lambda: list_staff(client, business))
        who = {m.id: f"{m.name} <{m.email}>" for m in staff}
        st.session_state[staff_key] = [s for s in target.staff_ids if s in who]
        st.multiselect("Staff (optional)", list(who), format_func=who.get, key=staff_key,
                       on_change=_choose, args=(business, service_key, staff_key),
                       help="Blank: Bookings assigns the appointment as the business is set up.")
    else:
        st.caption(":material/group_off: This business does not let bookings choose a staff member.")
    opt_out = st.checkbox("Don't let Bookings email the customers (optOutOfCustomerEmail)", key="dz_bk_opt_out",
                          help="Microsoft Bookings emails each customer their confirmation and Teams link "
                               "unless this is ticked.")
    sms = st.checkbox("Text the customers too (smsNotificationsEnabled)", key="dz_bk_sms",
                      help="Bookings texts the customers with a phone number; the Bookings plan must include SMS.")
    return replace(target, opt_out_of_customer_email=opt_out, sms_notifications=sms)


def token_command(p) -> str:
    """The shell command that prints a sandbox token, for the snippets; "" on a real tenant."""
    box = state.sandbox() if p.is_sandbox else None
    if box is None:
        return ""
    return sandbox_token_command(str(box.profile_path if p.auth == "device_code" else box.app_profile_path),
                                 python=sys.executable)


def show_requests(steps, p, note: str = "") -> None:
    """Each request exactly as sent (HTTP tab) and as code to copy."""
    base = p.graph_base_url
    requests_tab, *code_tabs = st.tabs(["HTTP", *LANGUAGES])
    with requests_tab:
        st.caption("Each request exactly as it is sent. The access token is never shown." + note)
        for number, request in enumerate(preview(steps, base), start=1):
            st.markdown(f"**{number}. {request.title}**")
            st.code(request.as_text(), language="http", wrap_lines=True)
    token = token_command(p)
    for tab, language in zip(code_tabs, LANGUAGES):
        if not token:
            tab.caption("Put an access token for this connection in GRAPH_TOKEN first.")
        tab.code(snippet(language, steps, base, getattr(p, "ca_bundle", "") or "", token_command=token),
                 language=LANGUAGES[language], line_numbers=True)


def booking_requests(appointment, target, p, *, disabled: bool) -> None:
    """The bookingAppointment request, what the business's rules say of it, and the button that sends it."""
    from lib.bulk.bookings_runner import BookingsRunner

    show_requests([create_spec(appointment, target)], p)
    if target.rules is not None:
        for problem in rule_problems(appointment, target.rules, now=datetime.now(timezone.utc),
                                     staff_chosen=bool(target.staff_ids)):
            st.warning(problem, icon=":material/rule:")
    where = "the sandbox" if p.is_sandbox else target.business
    if st.button(f"Book in {where}", type="primary", icon=":material/send:", disabled=disabled,
                 help="Replace the example client first." if disabled else None):
        try:
            recorder = RecordingClient(state.client())
            with st.spinner("Booking…"):
                result = BookingsRunner(recorder, state.journal(), target).run([appointment], source="designer")
            st.session_state["designer_sent"] = (recorder.exchanges, result.outcomes[0], None)
        except Exception as exc:  # GraphError / AuthError explain themselves
            st.session_state["designer_sent"] = ([], None, exc)
        st.session_state["designer_sent_flow"] = "bookings"


def booking_card(outcome) -> None:
    """The booking as Bookings answered: its id and the links."""
    appt = outcome.appointment
    if outcome.status not in ("created", "existing", "updated"):
        st.markdown("#### :material/error: Not booked")
        st.error(outcome.error or "The appointment was not booked.", icon=":material/error:")
        return
    word = {"created": "booked", "existing": "already booked: Bookings still holds it",
            "updated": "moved to the new time"}[outcome.status]
    st.markdown(f"#### :material/event_available: Appointment {word}")
    st.markdown(f"**{appt.subject}** · {appt.start:%Y-%m-%d %H:%M}–{appt.end:%H:%M} ({appt.time_zone}) · "
                f"{appt.clients_label}")
    st.caption("Booking id (bookingAppointment):")
    st.code(outcome.meeting_id, language=None, wrap_lines=True)
    links = st.columns(2)
    if outcome.client_join_web_url:
        links[0].link_button("Customer join link", outcome.client_join_web_url, icon=":material/link:",
                             type="primary", width="stretch")
    if outcome.join_web_url:
        links[1].link_button("Staff join link", outcome.join_web_url, icon=":material/videocam:", width="stretch")
    if outcome.error:
        st.warning(outcome.error, icon=":material/warning:")
    st.caption("Microsoft Bookings emails each customer their confirmation and this link (unless you opted out).")


def show_exchanges(exchanges) -> None:
    """What Microsoft Graph answered, request by request."""
    if exchanges:
        st.caption("What Microsoft Graph answered, request by request:")
    for exchange in exchanges:
        status = exchange.status
        icon = ":material/check_circle:" if exchange.ok else ":material/error:"
        target = exchange.spec.path.split("?", 1)[0].rsplit("/", 1)[-1]
        with st.expander(f"{exchange.spec.method} …/{target} → {status or 'no answer'}", icon=icon,
                         expanded=not exchange.ok):
            if exchange.response is not None:
                headers = dict(getattr(exchange.response, "headers", {}) or {})
                st.code(f"HTTP {status}\n" + "\n".join(f"{k}: {v}" for k, v in headers.items()),
                        language="http", wrap_lines=True)
                body = getattr(exchange.response, "body", None)
                if isinstance(body, (dict, list)):
                    st.json(body, expanded=2)
                else:
                    st.code(str(body or "(no body)"), language=None)
            else:
                messages.show_error(exchange.error)


# -- telling the client by email (issue 13) -------------------------------------------------------------
MAIL_NOTE = (" The email requests are the ones the app sends to tell each client (a run sends the same message "
             "as a draft, then sends the draft, so a lost reply can be checked); the client's real link, from "
             "Graph's answer above, takes the placeholder's place.")


def _organizer(p):
    """The organizer's name and address for the email preview, asked of Graph once per connection."""
    from lib.notify import ics

    cached = st.session_state.get("dz_mail_organizer")
    if cached is not None and cached[0] == p.key:
        return cached[1]
    client = state.client()
    try:
        if client.auth_kind == "delegated":
            me = client.request("GET", "v1.0", "/me?$select=id,displayName,userPrincipalName,mail").body
        else:
            me = client.resolve_user(p.organizer)
    except Exception:  # the preview still shows the message; sending reports the problem in words
        me = {}
    me = me if isinstance(me, dict) else {}
    person = ics.Person(me.get("displayName") or "", me.get("mail") or me.get("userPrincipalName") or "")
    st.session_state["dz_mail_organizer"] = (p.key, person)
    return person


def mail_specs(appointment, p) -> list:
    """The sendMail requests for the clients with an email address (a caption says when there is none)."""
    from lib.screens.designer import notify_specs

    specs = notify_specs(appointment, _organizer(p), state.user_path(appointment.organizer))
    if not specs:
        st.caption(":material/unsubscribe: No client has an email address: add one to the grid to email them.")
    return specs


def _quiet(flow: dict) -> None:
    """The sandbox approves the code at once: nothing to show."""


def notify_clients(outcome):
    """Email each client of a confirmed appointment their link, once (the ledger remembers who was told)."""
    from lib.bulk.journal import default_journal_path
    from lib.graph import open_client
    from lib.notify import access
    from lib.notify.ledger import Ledger
    from lib.notify.notifier import Notifier, Target
    from lib.notify.run_results import CONFIRMED

    if outcome is None or outcome.status not in CONFIRMED or not outcome.client_join_web_url:
        return None
    p = state.profile()
    try:
        # Its own sign-in with the mail permissions: the meetings' sign-in is never widened behind the user's back.
        client = open_client(p, access.token_provider(p, on_device_code=_quiet if p.is_sandbox else None))
        ledger = Ledger(default_journal_path())
        try:
            target = Target(outcome.key, outcome.appointment, outcome.client_join_web_url, outcome.organizer_id)
            with st.spinner("Emailing the clients…"):
                return Notifier(client, ledger).notify([target])
        finally:
            ledger.close()
    except Exception as exc:  # GraphError / AuthError explain themselves
        return exc


def notified(results) -> None:
    """Who was emailed: sent, already sent before (never twice), no address, or why not."""
    if results is None:
        return
    if isinstance(results, BaseException):
        messages.show_error(results, what="The clients were not emailed")
        return
    for r in results:
        who = r.client.display_name or r.client.email or r.client.phone
        if r.status == "sent":
            st.success(f"Emailed {who} <{r.client.email}> their link and invitation.", icon=":material/mail:")
        elif r.status == "already sent":
            st.info(f"{who} <{r.client.email}> was already emailed about this appointment: not sent twice.",
                    icon=":material/mark_email_read:")
        elif r.status == "no email address":
            st.caption(f":material/unsubscribe: {who} has no email address: not emailed.")
        else:
            st.error(f"{who} <{r.client.email}> was not emailed: {r.error}", icon=":material/error:")
