"""What a client will receive, for the app to show before sending: the rendered email and the requests.

The designer's preview and snippets show the one-request form (`sendMail`); a run sends the same
message as a draft and then sends the draft, so that a lost reply can be checked (see notifier).
"""
from __future__ import annotations

from lib.model.appointment import Client
from lib.model.flows import RequestSpec
from lib.notify import ics
from lib.notify.notifier import Target, build_message, template_values
from lib.notify.templates import RenderedEmail, Template

PREVIEW_ID = "00000000-0000-0000-0000-000000000000"


def email_for(template: Template, target: Target, client: Client, organizer_name: str) -> RenderedEmail:
    """The exact subject and body this client gets."""
    return template.render(template_values(target, client, organizer_name))


def send_mail_spec(template: Template, target: Target, client: Client, organizer: ics.Person,
                   user_path: str = "/me") -> RequestSpec:
    """`POST {user}/sendMail` with the client's message and invitation, as a previewable request."""
    message = build_message(template, target, client, organizer, kind="request", sequence=0,
                            notification_id=PREVIEW_ID)
    return RequestSpec("sendMail", "POST", "v1.0", f"{user_path}/sendMail", {"message": message, "saveToSentItems": True},
                       title=f"Email {client.display_name or client.email} their link and invitation", idempotent=False)


def run_specs(template: Template, target: Target, client: Client, organizer: ics.Person,
              user_path: str = "/me") -> list[RequestSpec]:
    """The requests a run makes for this client: create the draft, then send it (`{messageId}` from the first)."""
    message = build_message(template, target, client, organizer, kind="request", sequence=0,
                            notification_id=PREVIEW_ID)
    return [RequestSpec("notifyDraft", "POST", "v1.0", f"{user_path}/messages", message,
                        title="Create the email as a draft (it carries the notification id)", idempotent=False),
            RequestSpec("notifySend", "POST", "v1.0", f"{user_path}/messages/{{messageId}}/send",
                        title="Send the draft", idempotent=False)]
