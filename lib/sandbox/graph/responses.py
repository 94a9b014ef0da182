"""HTTP layer of the Graph surface: read parameters, call the backend, format the reply."""
from __future__ import annotations

from .exceptions import BadRequest, Forbidden
from .models import GraphBackend
from .request import GraphRequest, GraphResponse

USER_FIELDS = {"id": "id", "displayname": "displayName", "userprincipalname": "userPrincipalName",
               "mail": "mail"}


def _meeting(req: GraphRequest, status: int, meeting: dict) -> GraphResponse:
    context = req.context(f"users('{req.user.id}')/onlineMeetings/$entity")
    return GraphResponse(status, {"@odata.context": context, **meeting})


def _appointment(req: GraphRequest, status: int, appointment: dict, etag: str) -> GraphResponse:
    context = req.context(f"users('{req.user.id}')/onlineMeetings('{req.meeting_id}')/virtualAppointment/$entity")
    body = {"@odata.context": context, "@odata.type": "#microsoft.graph.virtualAppointment", **appointment}
    return GraphResponse(status, body, {"ETag": etag})


# -- onlineMeetings -----------------------------------------------------------------------------
def create_meeting(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    return _meeting(req, 201, b.create_meeting(req.user, req.json()))


def create_or_get(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    meeting, created = b.create_or_get(req.user, req.json())
    return _meeting(req, 201 if created else 200, meeting)


def list_meetings(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    expression = req.query.get("$filter", req.query.get("filter"))
    found = b.find_meetings(req.user, expression, via_me=req.via_me)
    return GraphResponse(200, {"@odata.context": req.context(f"users('{req.user.id}')/onlineMeetings"),
                               "value": found})


def get_meeting(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    return _meeting(req, 200, b.get_meeting(req.meeting_id, req.user, via_me=req.via_me))


def update_meeting(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.require_meeting(req.meeting_id, req.user)
    return _meeting(req, 200, b.update_meeting(req.meeting_id, req.user, req.json()))


def delete_meeting(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.delete_meeting(req.meeting_id, req.user)
    return GraphResponse(204)


# -- join link and SMS --------------------------------------------------------------------------
def join_web_url(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    url = b.client_join_url(req.meeting_id, req.user)
    return GraphResponse(200, {"@odata.context": req.context("Edm.String"), "value": url})


def send_sms(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.require_meeting(req.meeting_id, req.user)
    b.send_sms(req.meeting_id, req.user, req.json(), reminder=False)
    return GraphResponse(202)


def send_reminder_sms(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.require_meeting(req.meeting_id, req.user)
    b.send_sms(req.meeting_id, req.user, req.json(), reminder=True)
    return GraphResponse(202)


# -- virtualAppointment (beta) ------------------------------------------------------------------
def put_appointment(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.require_meeting(req.meeting_id, req.user)
    appointment, etag, created = b.put_appointment(req.meeting_id, req.user, req.json(),
                                                   req.headers.get("if-match"))
    return _appointment(req, 201 if created else 200, appointment, etag)


def get_appointment(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    appointment, etag = b.get_appointment(req.meeting_id, req.user)
    return _appointment(req, 200, appointment, etag)


def patch_appointment(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.get_appointment(req.meeting_id, req.user)
    etag = b.patch_appointment(req.meeting_id, req.user, req.json(), req.headers.get("if-match"))
    return GraphResponse(204, None, {"ETag": etag})


def delete_appointment(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    b.delete_appointment(req.meeting_id, req.user, req.headers.get("if-match"))
    return GraphResponse(204)


# -- users (sandbox addition: resolve a UPN to an object id) ------------------------------------
def get_user(b: GraphBackend, req: GraphRequest) -> GraphResponse:
    key = req.params.get("user") or req.caller.oid
    caller = req.caller
    if not caller.is_app and key.lower() not in (caller.oid, (caller.upn or "").lower()):
        raise Forbidden("Insufficient privileges to complete the operation. With delegated User.Read only the "
                        "signed-in user can be read.")
    user = b.directory_user(key)
    full = {"id": user.id, "displayName": user.display_name, "userPrincipalName": user.upn, "mail": user.mail}
    select = req.query.get("$select", req.query.get("select"))
    if select:
        names = []
        for raw in select.split(","):
            name = USER_FIELDS.get(raw.strip().lower())
            if name is None:
                raise BadRequest(f"Could not find a property named '{raw.strip()}' on type 'microsoft.graph.user'.")
            names.append(name)
        body = {"@odata.context": req.context(f"users({','.join(names)})/$entity")}
        body.update({n: full[n] for n in names})
    else:
        body = {"@odata.context": req.context("users/$entity"), **full}
    return GraphResponse(200, body)
