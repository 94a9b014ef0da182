"""HTTP layer of mail and calendar: read parameters, call the backend, format the reply."""
from __future__ import annotations

from urllib.parse import urlencode

from ..graph.exceptions import BadRequest
from ..graph.request import GraphRequest, GraphResponse
from .models import MailBackend, view

DEFAULT_PAGE = 10     # Outlook's default page size for messages and events
MAX_PAGE = 1000


def _mailbox(b: MailBackend, req: GraphRequest):
    return b.mailbox(req.caller, req.params.get("user"))


def _entity(req: GraphRequest, user, kind: str, resource: dict, status: int = 200) -> GraphResponse:
    return GraphResponse(status, {"@odata.context": req.context(f"users('{user.id}')/{kind}/$entity"),
                                  "@odata.etag": f'W/"{resource.get("changeKey", "")}"', **resource})


def _page(req: GraphRequest, user, kind: str, items: list[dict]) -> GraphResponse:
    """`$top` (default 10) and `$skip`, with `@odata.nextLink` while more remain."""
    try:
        top = int(req.query.get("$top", DEFAULT_PAGE))
        skip = int(req.query.get("$skip", 0))
    except ValueError:
        raise BadRequest("$top and $skip take whole numbers.") from None
    if not 1 <= top <= MAX_PAGE or skip < 0:
        raise BadRequest(f"$top must be between 1 and {MAX_PAGE}, $skip at least 0.")
    body = {"@odata.context": req.context(f"users('{user.id}')/{kind}"), "value": items[skip:skip + top]}
    if skip + top < len(items):
        query = {**req.query, "$top": str(top), "$skip": str(skip + top)}
        body["@odata.nextLink"] = f"{req.base_url}/{req.version}/{req.path}?{urlencode(query)}"
    return GraphResponse(200, body)


# -- messages -----------------------------------------------------------------------------------
def send_mail(b: MailBackend, req: GraphRequest) -> GraphResponse:
    b.send_mail(_mailbox(b, req), req.json())
    return GraphResponse(202)


def create_message(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _entity(req, user, "messages", view(b.create_draft(user, req.json())), 201)


def list_messages(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    folder = req.params.get("folder")
    kind = f"mailFolders('{folder}')/messages" if folder else "messages"
    return _page(req, user, kind, b.list_messages(user, folder, req.query))


def get_message(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _entity(req, user, "messages", b.get_message(user, req.params["message"], req.query.get("$expand")))


def send_draft(b: MailBackend, req: GraphRequest) -> GraphResponse:
    if req.body.strip() and req.body.strip() != b"{}":
        raise BadRequest("messages/{id}/send takes no request body.")
    prefer = req.headers.get("prefer", "").replace(" ", "").lower()
    b.send_draft(_mailbox(b, req), req.params["message"], immutable_id='idtype="immutableid"' in prefer)
    return GraphResponse(202)


# -- events -------------------------------------------------------------------------------------
def create_event(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _entity(req, user, "events", b.create_event(user, req.json()), 201)


def list_events(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _page(req, user, "events", b.list_events(user, req.query))


def get_event(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _entity(req, user, "events", b.get_event(user, req.params["event"]))


def update_event(b: MailBackend, req: GraphRequest) -> GraphResponse:
    user = _mailbox(b, req)
    return _entity(req, user, "events", b.update_event(user, req.params["event"], req.json()))


def delete_event(b: MailBackend, req: GraphRequest) -> GraphResponse:
    b.delete_event(_mailbox(b, req), req.params["event"])
    return GraphResponse(204)
