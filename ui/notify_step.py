"""The bulk page's step 6, "Tell the clients": the template beside the exact email a chosen client receives,
"Email N clients" in the background, each client's status, and calendar files to download.

What it decides lives in ``lib.screens.notify_step``; sending is ``lib.notify.notifier.Notifier``.
Value widgets' keys start with ``bulk_`` so app.py keeps them across a visit to another page (buttons' must not).
"""

from __future__ import annotations

import streamlit as st

from lib.bulk.journal import default_journal_path
from lib.datafolder import studio_home
from lib.model.appointment import ModelError
from lib.model.flows import BOOKINGS
from lib.notify import access, ics
from lib.notify.ledger import Ledger
from lib.notify.notifier import MESSAGES_PER_MINUTE, Notifier
from lib.notify.templates import DEFAULT, HTML, PLACEHOLDERS, TEXT, TemplateError
from lib.screens import notify_step as step
from ui import messages, state

TEMPLATES = step.EmailTemplates(studio_home() / "email-templates")
FORMATS = {HTML: "HTML", TEXT: "Plain text"}


def render(outcomes: list, *, running: bool = False) -> None:
    """Step 6 under the results of a run (``outcomes``); nothing to do while a run is still going."""
    st.subheader("6 · Tell the clients")
    if state.flow() == BOOKINGS:
        st.info("Microsoft Bookings emails each customer their confirmation and join link itself: there is "
                "nothing to send from here.", icon=":material/mark_email_read:")
        return
    targets = step.targets_of(outcomes)
    if running or not targets:
        st.caption("When appointments are created, this step emails each client their own join link with a "
                   "calendar invitation, and offers calendar files for clients without email.")
        return
    _defaults()
    left, right = st.columns(2, gap="large")
    with left:
        template = _template_editor()
    with right:
        _preview(template, targets)
    _send(template, targets)
    _calendar_files(targets)


# -- the template ---------------------------------------------------------------------------------------
def _defaults() -> None:
    st.session_state.setdefault("bulk_notify_subject", DEFAULT.subject)
    st.session_state.setdefault("bulk_notify_body", DEFAULT.body)
    st.session_state.setdefault("bulk_notify_format", DEFAULT.format)


def _use(template) -> None:
    st.session_state.update(bulk_notify_subject=template.subject, bulk_notify_body=template.body,
                            bulk_notify_format=template.format)


def _on_load() -> None:
    name = st.session_state.get("bulk_notify_saved")
    try:
        _use(TEMPLATES.load(name))
        st.session_state["bulk_notify_said"] = ("ok", f"Loaded the email template “{name}”.")
    except (TemplateError, ModelError) as exc:
        st.session_state["bulk_notify_said"] = ("error", f"The email template “{name}” cannot be used: {exc}")


def _on_save() -> None:
    name = st.session_state.get("bulk_notify_name", "")
    try:
        template = step.template_from(st.session_state["bulk_notify_subject"], st.session_state["bulk_notify_body"],
                                      st.session_state["bulk_notify_format"])
        path = TEMPLATES.save(name, template)
    except (TemplateError, ModelError, OSError) as exc:
        st.session_state["bulk_notify_said"] = ("error", f"Not saved: {exc}")
        return
    st.session_state["bulk_notify_saved"] = path.stem
    st.session_state["bulk_notify_said"] = ("ok", f"Saved the email template “{path.stem}”.")


def _template_editor():
    """Subject, format and body with the placeholders; returns the Template, or None after saying what is wrong."""
    st.markdown("**The template**")
    names = TEMPLATES.names()
    if names:
        pick, load = st.columns([3, 1], vertical_alignment="bottom")
        pick.selectbox("Saved email templates", names, key="bulk_notify_saved")
        load.button("Load", on_click=_on_load, icon=":material/folder_open:", width="stretch")
    st.text_input("Email subject", key="bulk_notify_subject")
    st.segmented_control("Body format", list(FORMATS), format_func=FORMATS.get, key="bulk_notify_format")
    st.text_area("Email body", key="bulk_notify_body", height=260)
    st.caption("Placeholders: " + ", ".join(f"`{{{p}}}`" for p in PLACEHOLDERS)
               + ". Values from the spreadsheet are shown as text, never as markup; write `{{` and `}}` for a brace.")
    save, reset = st.columns(2)
    with save.popover("Save as template", icon=":material/save:", width="stretch"):
        st.text_input("Template name", key="bulk_notify_name", placeholder="Intake call reminder")
        st.button("Save", key="notify_save_button", on_click=_on_save)
    reset.button("Back to the default", on_click=_use, args=(DEFAULT,), icon=":material/restart_alt:", width="stretch")
    if said := st.session_state.pop("bulk_notify_said", None):
        (st.success if said[0] == "ok" else st.error)(said[1])
    try:
        return step.template_from(st.session_state["bulk_notify_subject"], st.session_state["bulk_notify_body"],
                                  st.session_state.get("bulk_notify_format") or HTML)
    except TemplateError as exc:
        st.error(f"{exc} Nothing can be sent until the template is fixed.", icon=":material/error:")
        return None


# -- the exact email ---------------------------------------------------------------------------------------
def _organizer() -> ics.Person:
    """The organizer's name and address, asked of Graph once per connection (as the run asks)."""
    p = state.profile()
    kept = st.session_state.get("bulk_notify_organizer")
    if kept and kept[0] == p.key:
        return kept[1]
    try:
        person = Notifier(state.client(), None).organizer()
    except Exception:  # GraphError / AuthError: the preview still shows the email, without the name
        person = ics.Person(p.organizer or "", "")
    st.session_state["bulk_notify_organizer"] = (p.key, person)
    return person


def _preview(template, targets) -> None:
    st.markdown("**What the client receives**")
    people = [(t, c) for t, c in step.recipients(targets) if c.email]
    if not people:
        st.info("No client of these appointments has an email address: use the calendar files below.",
                icon=":material/info:")
        return
    index = st.selectbox("Client", range(len(people)), format_func=lambda i: step.who(*people[i]),
                         key="bulk_notify_client")
    if template is None:
        st.caption("The email appears here once the template is fixed.")
        return
    target, client = people[min(index or 0, len(people) - 1)]
    shown = step.preview(template, target, client, _organizer())
    st.markdown(f"**To:** {_plain(shown.to)}  \n**Subject:** {_plain(shown.subject)}")
    st.iframe(step.framed(shown.body, shown.content_type), height=380, alt="The email this client receives")
    st.download_button(f"Invitation ({shown.attachment_name})", shown.attachment, shown.attachment_name,
                       "text/calendar", icon=":material/event:", on_click="ignore", key="notify_ics")


def _plain(text: str) -> str:
    """Markdown that shows ``text`` as typed (a cell's `*` or `<b>` is not formatting)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~" else ch for ch in text)


# -- sending -------------------------------------------------------------------------------------------------
def _mail_client(p, on_device_code=None, cancel=None):
    """A connection whose token carries the mail permissions (a token cache of its own, see lib.notify.access).

    Called on the job's thread too, so it is handed the profile: that thread has no session state.
    """
    from lib.graph import open_client

    quiet = (lambda flow: None) if p.is_sandbox else on_device_code
    return open_client(p, access.token_provider(p, on_device_code=quiet, cancel=cancel), cancel=cancel)


def _permission_problem():
    """The missing Mail.Send / Mail.ReadWrite consent, when it can be known without a sign-in; else None."""
    p = state.profile()
    if not (p.is_sandbox or p.auth == "client_credentials"):
        return None  # a delegated sign-in on a real tenant happens when sending; Graph's answer is explained then
    kept = st.session_state.get("bulk_notify_client_for")
    if not kept or kept[0] != p.key:
        kept = st.session_state["bulk_notify_client_for"] = (p.key, _mail_client(p))
    try:
        access.check_can_notify(kept[1])
    except Exception as exc:  # GraphError (missing consent) or AuthError (cannot sign in)
        return exc
    return None


def _start(template, targets, again=frozenset()) -> None:
    p = state.profile()
    job = step.NotifyJob(lambda on_code, cancel: _mail_client(p, on_code, cancel), default_journal_path(), template,
                         targets, again=set(again)).start()
    st.session_state["bulk_notify_job"] = job


def _send(template, targets) -> None:
    st.markdown("**Send**")
    count = step.email_count(targets)
    job = st.session_state.get("bulk_notify_job")
    busy = bool(job and not job.done)
    problem = _permission_problem()
    if problem is not None:
        messages.show_error(problem, what="Clients cannot be emailed from this connection yet")
    p = state.profile()
    if not p.is_sandbox and count > MESSAGES_PER_MINUTE:
        st.caption(f"Outlook sends about {MESSAGES_PER_MINUTE} messages a minute from one mailbox: {count:,} emails "
                   f"take about {count / MESSAGES_PER_MINUTE:.0f} minutes.")
    if st.button(step.button_label(count), type="primary", icon=":material/forward_to_inbox:",
                 disabled=busy or template is None or problem is not None or count == 0,
                 help="Each client gets their own link and invitation, at most once per appointment: "
                      "a second click sends nothing new."):
        _start(template, targets)
        st.rerun()
    if busy:
        _progress_panel()
    elif job is not None and job.error is not None:
        messages.show_error(job.error, what="The emails were not sent")
    _status(template, targets, job.result if job is not None and job.done and job.error is None else None)


@st.fragment(run_every=0.5)
def _progress_panel() -> None:
    job = st.session_state.get("bulk_notify_job")
    if job is None:
        return
    if job.done:
        st.rerun(scope="app")
    st.progress(job.finished / job.total if job.total else 0.0, text=job.line())
    if job.device_code:
        st.info(f"Sign in to send from your mailbox: {job.device_code}", icon=":material/key:")
    if job.cancelling:
        st.caption("Cancelling: finishing the emails already on their way…")
    elif st.button("Cancel", key="notify_cancel", icon=":material/cancel:"):
        job.cancel()


def _status(template, targets, latest) -> None:
    ledger = Ledger(default_journal_path())
    try:
        rows = step.status_rows(targets, ledger, latest)
    finally:
        ledger.close()
    st.caption(step.counts(rows))
    st.dataframe(rows, hide_index=True, width="stretch", key="notify_status",
                 column_config={"Status": st.column_config.TextColumn("Status", width="large")})
    people = [(t, c) for (t, c), row in zip(step.recipients(targets), rows)   # those already emailed or tried
              if c.email and row["Status"] != step.NOT_YET]
    if not people:
        return
    pick, again = st.columns([3, 1], vertical_alignment="bottom")
    index = pick.selectbox("Send again to one client", range(len(people)), key="bulk_notify_again",
                           format_func=lambda i: step.who(*people[i]))
    target, client = people[min(index or 0, len(people) - 1)]
    job = st.session_state.get("bulk_notify_job")
    if again.button(f"Send again to {client.display_name or client.email}", icon=":material/replay:",
                    width="stretch", disabled=template is None or bool(job and not job.done)):
        _start(template, [target], step.again_for(target, client))
        st.rerun()


# -- calendar files ----------------------------------------------------------------------------------------
def _calendar_files(targets) -> None:
    """The run's calendar files, made when a button is clicked (10,000 appointments take a while)."""
    st.markdown("**Calendar files** — for clients without email, or to add every appointment to a calendar")
    left, right = st.columns(2, vertical_alignment="bottom")
    left.download_button(f"All {len(targets):,} appointments (appointments.ics)",
                         lambda: step.all_appointments_file(targets), "appointments.ics", "text/calendar",
                         icon=":material/calendar_month:", on_click="ignore", width="stretch",
                         help="One file to import into Outlook or Google Calendar.")
    index = right.selectbox("One appointment", range(len(targets)), key="bulk_notify_ics_pick",
                            format_func=lambda i: f"{step.calendar_file_name(targets[i])} · "
                                                  f"{targets[i].appointment.clients_label}")
    chosen = targets[min(index or 0, len(targets) - 1)]
    right.download_button(f"Download {step.calendar_file_name(chosen)}", lambda: step.calendar_file(chosen),
                          step.calendar_file_name(chosen), "text/calendar", icon=":material/event:",
                          on_click="ignore", width="stretch", key="notify_ics_one")
