"""The bulk page's "Tell the clients" step, without Streamlit: who gets an email, the exact email a chosen
client receives (framed so nothing in it runs), saved email templates, the calendar files, each client's
status, and the background job that sends through ``lib.notify.notifier.Notifier``.
"""

from __future__ import annotations

import base64
import html
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from lib.model.appointment import Client
from lib.screens.saved import SavedByName
from lib.notify import ics
from lib.notify.ledger import FAILED, PENDING, SENT, Ledger
from lib.notify.notifier import NO_EMAIL, NoticeResult, Notifier, Target, build_message, calendar_entry
from lib.notify.preview import PREVIEW_ID
from lib.notify.templates import HTML, TEXT, Template, load_template
from lib.screens.background import BackgroundTask

CONFIRMED = ("created", "existing", "updated")
NOT_YET = "not sent yet"
AGAIN = "Email clients again checks the mailbox first and finishes it (nobody gets two)"
# The frame a client's email is shown in: an inner iframe with an empty `sandbox` (no scripts, no forms,
# no same-origin) and a policy that loads nothing from the network (no tracking pixels, no remote CSS).
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def targets_of(outcomes: list) -> list[Target]:
    """The run's confirmed appointments that have the clients' link (what can be told to the clients)."""
    return [Target(o.key, o.appointment, o.client_join_web_url, o.organizer_id, o.appointment.source_rows)
            for o in outcomes if o.status in CONFIRMED and o.client_join_web_url]


def recipients(targets: list[Target]) -> list[tuple[Target, Client]]:
    """Every client of these appointments, those with an email first in row order (for the chooser)."""
    pairs = [(t, c) for t in targets for c in t.appointment.clients]
    return [p for p in pairs if p[1].email] + [p for p in pairs if not p[1].email]


def email_count(targets: list[Target]) -> int:
    """How many emails "Email N clients" sends at most: clients with an address, once per appointment."""
    return sum(1 for t in targets for c in t.appointment.clients if c.email)


def button_label(count: int) -> str:
    """``Email 48 clients`` (the count on the button, as for Create)."""
    return f"Email {count:,} client{'s' if count != 1 else ''}"


def who(target: Target, client: Client) -> str:
    """``Row 3 · Maria Lopez <maria@example.com>``: the row the user sees in Excel, then the client."""
    rows = ",".join(map(str, target.rows)) or "?"
    address = f" <{client.email}>" if client.email and client.display_name else ""
    return f"Row {rows} · {client.label}{address}"


# -- templates ------------------------------------------------------------------------------------
def template_from(subject: str, body: str, fmt: str, name: str = "The email template") -> Template:
    """The template the user typed; a TemplateError naming the part and the placeholder before anything is sent."""
    return Template(subject=subject, body=body, format=fmt if fmt in (TEXT, HTML) else HTML, name=name)


class EmailTemplates(SavedByName):
    """Saved email templates: one JSON file (subject, body, format) each in ``studio_home()/email-templates``."""

    what = "Email template"

    def save(self, name: str, template: Template) -> Path:
        """Write the template (the same name overwrites); it was checked when it was made."""
        return self.save_document(name, {"subject": template.subject, "body": template.body,
                                         "format": template.format})

    def load(self, name: str) -> Template:
        """A saved template, checked again (a file edited by hand may carry an unknown placeholder)."""
        return load_template(self.existing_path(name))


# -- what one client receives ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EmailPreview:
    """The message a client gets, as the run sends it (the notification id aside)."""

    to: str
    subject: str
    body: str
    content_type: str          # "text" or "html"
    attachment_name: str
    attachment: bytes          # the .ics invitation


def preview(template: Template, target: Target, client: Client, organizer: ics.Person) -> EmailPreview:
    """The exact email ``client`` receives for ``target``: built by the same code the run uses."""
    message = build_message(template, target, client, organizer, kind="request", sequence=0,
                            notification_id=PREVIEW_ID)
    recipient = message["toRecipients"][0]["emailAddress"]
    attached = message["attachments"][0]
    kind = HTML if message["body"]["contentType"] == "HTML" else TEXT
    return EmailPreview(to=f"{recipient['name']} <{recipient['address']}>", subject=message["subject"],
                        body=message["body"]["content"], content_type=kind, attachment_name=attached["name"],
                        attachment=base64.b64decode(attached["contentBytes"]))


def framed(body: str, content_type: str, height: int = 360) -> str:
    """An HTML page holding the email in a sandboxed frame: it is shown, never run, and loads nothing."""
    if content_type == TEXT:
        inner = f"<pre style=\"white-space:pre-wrap;font:14px sans-serif\">{html.escape(body)}</pre>"
    else:
        inner = body
    document = (f"<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" "
                f"content=\"{_POLICY}\"></head><body style=\"font:14px sans-serif;overflow-wrap:anywhere\">{inner}</body></html>")
    return (f"<iframe sandbox=\"\" referrerpolicy=\"no-referrer\" title=\"The email\" srcdoc=\"{html.escape(document, quote=True)}\" "
            f"style=\"width:100%;height:{height}px;border:1px solid #ddd;border-radius:6px;background:#fff\"></iframe>")


# -- calendar files -----------------------------------------------------------------------------------
def _entry(target: Target) -> ics.CalendarEntry:
    entry = calendar_entry(target, (), None)
    if target.appointment.clients:
        entry = replace(entry, description=f"Clients: {target.appointment.clients_label}\nJoin: {target.join_link}")
    return entry


def calendar_file_name(target: Target) -> str:
    """``row-3.ics``: named by the spreadsheet rows the appointment came from."""
    return f"row-{'-'.join(map(str, target.rows)) or target.appointment_key[:12]}.ics"


def calendar_file(target: Target) -> bytes:
    """One appointment as a calendar file (METHOD:PUBLISH): the clients' link, the clients in the description."""
    return ics.calendar_bytes([_entry(target)], ics.PUBLISH)


def all_appointments_file(targets: list[Target]) -> bytes:
    """Every appointment of the run in one file, for importing into Outlook or Google Calendar."""
    entries: dict[str, ics.CalendarEntry] = {}
    for target in targets:
        entry = _entry(target)
        entries.setdefault(entry.uid, entry)
    return ics.calendar_bytes(list(entries.values()), ics.PUBLISH)


# -- status ---------------------------------------------------------------------------------------------
def status_rows(targets: list[Target], ledger: Ledger, latest: list[NoticeResult] | None = None) -> list[dict]:
    """One line per client: this session's last outcome for them, else what the ledger knows."""
    said = {(r.target.appointment_key, r.client): _in_app(r.label) for r in latest or ()}
    rows = []
    for target, client in recipients(targets):
        label = said.get((target.appointment_key, client)) or _known(ledger, target, client)
        rows.append({"Row": ",".join(map(str, target.rows)), "Client": client.label, "Email": client.email,
                     "Status": label})
    return rows


def _in_app(label: str) -> str:
    # The notifier speaks to the command line; here the same step is a button.
    return label.replace("run notify again to check and finish", AGAIN).replace("run notify again", AGAIN)


def _known(ledger: Ledger, target: Target, client: Client) -> str:
    if not client.email:
        return NO_EMAIL
    found = ledger.get(target.appointment_key, client.email)
    if found is None:
        return NOT_YET
    if found.status == SENT:
        return "sent" if found.kind != "cancel" else "cancellation sent"
    if found.status == FAILED:
        return f"failed: {found.error or 'unknown error'}"
    if found.status == PENDING:
        return f"not confirmed yet: {AGAIN}"
    return found.status


def counts(rows: list[dict]) -> str:
    """``3 sent · 1 no email address · 1 failed`` for the status table's caption."""
    tally: dict[str, int] = {}
    for row in rows:
        key = "failed" if row["Status"].startswith("failed") else row["Status"]
        tally[key] = tally.get(key, 0) + 1
    return " · ".join(f"{n:,} {label}" for label, n in tally.items())


# -- sending in the background ------------------------------------------------------------------------------
class NotifyJob(BackgroundTask):
    """``Notifier.notify`` on its own thread, with progress to poll and Cancel.

    ``make_client(on_device_code, cancel)`` opens the connection on that thread, so a sign-in with the
    mail permissions (a device code on a real tenant) never blocks the page: its message is kept here.
    """

    def __init__(self, make_client, ledger_path: str | Path, template: Template, targets: list[Target], *,
                 again: set[tuple[str, str]] = frozenset()):
        self.client = None
        self.cancel_event = threading.Event()
        self.total = sum(1 for t in targets for c in t.appointment.clients if c.email)
        self.finished = 0
        self.device_code = ""

        def work() -> list[NoticeResult]:
            self.client = make_client(self.on_device_code, self.cancel_event)
            ledger = Ledger(ledger_path)
            try:
                notifier = Notifier(self.client, ledger, template, on_progress=self._progress)
                return notifier.notify(targets, again=set(again))
            finally:
                ledger.close()
        super().__init__(work, name="notify-clients")

    def _progress(self, done: int, total: int) -> None:
        self.finished = done

    def on_device_code(self, flow: dict) -> None:
        """Keep the sign-in instructions for the page to show."""
        self.device_code = flow.get("message") or f"Open {flow.get('verification_uri')} and enter {flow.get('user_code')}"

    def cancel(self) -> None:
        """Stop after the requests in flight; what was not confirmed is checked by the next send."""
        self.cancel_event.set()

    @property
    def cancelling(self) -> bool:
        return self.cancel_event.is_set() and not self.done

    def line(self) -> str:
        """``12 of 48 emails done`` and, while Graph makes us wait, how long."""
        text = f"{self.finished:,} of {self.total:,} emails done"
        throttle = getattr(self.client, "throttle", None)
        wait = throttle.notice() if throttle is not None and hasattr(throttle, "notice") else None
        return f"{text} · {wait}" if wait else text


def again_for(target: Target, client: Client) -> set[tuple[str, str]]:
    """The ``again`` set that re-sends to one client of one appointment ("Send again to Maria")."""
    return {(target.appointment_key, client.email.lower())} if client.email else set()

