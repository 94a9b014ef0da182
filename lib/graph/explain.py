"""Plain-language explanations of failures: what happened, and what the person can do.

One table, ``TABLE``, serves both Graph's replies (``explain``) and sign-in errors from MSAL
(``explain_sign_in``): each ``Rule`` is ``match -> explanation, fix``, tried in order, and the first
that matches answers. Graph's ``code`` is compared case-insensitively (its casing varies by
workload); the message is only used to tell apart cases that share a status and code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Union

_POLICY_NAME = "AppointmentStudio"
GRAPH = "graph"
SIGN_IN = "sign-in"


@dataclass(frozen=True)
class Case:
    """One failure to explain, with what the words may mention.

    For Graph: ``status``, ``code`` (Graph's), ``text`` (its message), the connection's ``auth_kind``,
    ``cloud``, ``client_id``, ``organizer`` and the request ``path``. For sign-in: ``code`` is MSAL's
    ``error``, ``text`` its ``error_description``, ``aadsts`` the Entra error number, plus the
    profile's ``tenant_id``, ``cloud`` and where its secret comes from (``secret_place``).
    """

    source: str
    status: int = 0
    code: str = ""
    text: str = ""
    auth_kind: str = ""
    cloud: str = ""
    client_id: str = ""
    organizer: str = ""
    path: str = ""
    tenant_id: str = ""
    aadsts: int | None = None
    secret_place: str = ""
    low: str = field(init=False)
    code_l: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "low", (self.text or "").lower())
        object.__setattr__(self, "code_l", (self.code or "").lower())

    @property
    def app_only(self) -> bool:
        return self.auth_kind in ("app", "client_credentials")

    @property
    def delegated(self) -> bool:
        return self.auth_kind in ("delegated", "device_code")

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0] if self.text else self.code

    def has(self, *words: str) -> bool:
        return any(w in self.low for w in words)


Words = Union[str, Callable[[Case], str]]


@dataclass(frozen=True)
class Rule:
    """``match`` a case -> (``explanation``, ``fix``); ``say`` instead computes both at once."""

    match: Callable[[Case], bool]
    explanation: Words = ""
    fix: Words = ""
    say: Callable[[Case], tuple[str, str]] | None = None

    def answer(self, case: Case) -> tuple[str, str]:
        if self.say is not None:
            return self.say(case)
        return _words(self.explanation, case), _words(self.fix, case)


def _words(words: Words, case: Case) -> str:
    return words(case) if callable(words) else words


def _with_text(head: str) -> Callable[[Case], str]:
    """``head`` followed by ": message" when Graph said something, else a full stop."""
    return lambda c: head + (f": {c.text}" if c.text else ".")


def _graph(status=None, code: str | None = None) -> Callable[[Case], bool]:
    statuses = status if isinstance(status, tuple) else (status,)

    def match(c: Case) -> bool:
        return (c.source == GRAPH and (status is None or c.status in statuses)
                and (code is None or c.code_l == code))
    return match


def _forbidden(c: Case) -> bool:
    return c.source == GRAPH and (c.status == 403 or (c.status == 400 and "only valid with delegated" in c.low))


def _sign_in(*aadsts: int, errors: tuple[str, ...] = (), also: Callable[[Case], bool] | None = None):
    def match(c: Case) -> bool:
        return c.source == SIGN_IN and (c.aadsts in aadsts or c.code in errors or (also is not None and also(c)))
    return match


# -- the table --------------------------------------------------------------------------------------
_UNKNOWN_OUTCOME = (
    "The connection dropped after the request was sent, so it is unknown whether Microsoft Graph carried it out.",
    "It was not sent again automatically, because doing it twice would not be harmless (for example a second text "
    "message). Check whether it happened (ask the client, or look at the meeting) before sending it again.")
_MEETING_PATH = lambda c: "onlinemeeting" in c.path.lower() or c.has("meeting", "virtual appointment")  # noqa: E731
_SECRET_REJECTED = lambda c: (c.code == "invalid_client" and "secret" in c.low  # noqa: E731
                              and c.aadsts not in (7000218, 700025))

GRAPH_RULES: tuple[Rule, ...] = (
    # failures on this side of the wire
    Rule(_graph(0, "connectionfailed"), say=lambda c: _connection_failed(c.text, c.cloud)),
    Rule(_graph(0, "unknownoutcome"), *_UNKNOWN_OUTCOME),
    Rule(_graph(0, "notsupported"), lambda c: c.text or "This is not available for this connection.",
         "Join links and SMS need a delegated sign-in (device code) in the Global cloud; Teams meetings through Graph "
         "are not available in the China cloud. Use a connection that offers it, or choose the virtual-appointment "
         "flow."),
    Rule(_graph(0, "cancelled"), "The run was cancelled before this request was sent.",
         "Run it again; only what is missing is created."),
    Rule(_graph(0, "signinfailed"), lambda c: c.text or "Signing in failed.",
         "Check the connection profile and sign in again."),
    Rule(_graph(0, "foreignhost"),
         lambda c: c.text or "The request was not sent: its address is not this connection's Graph host.",
         "Only the Graph address of the connection profile receives the access token. Check the profile's cloud "
         "and graph_base_url."),
    Rule(_graph(0), lambda c: c.text or "The request failed before Microsoft Graph answered.",
         "Try again; if it keeps failing, report it with the message above."),
    # 403: permissions and policies
    Rule(lambda c: _forbidden(c) and c.has("application access policy"),
         say=lambda c: _access_policy(c.client_id, c.organizer)),
    Rule(lambda c: _forbidden(c) and c.has("does not match organizer id", "only /me endpoint is supported"),
         "You signed in as a person (delegated), and a person can only create meetings for themself, not for "
         "another user.",
         "Leave the organizer empty (or use your own account), or use an app connection (client_credentials) with "
         "an application access policy for that organizer."),
    Rule(lambda c: _forbidden(c) and c.has("/me request is only valid"),
         "An app signed in on its own (client credentials) called /me, which only exists for a person who signed in.",
         "Set organizer in the connection profile to the user's object id so requests go to /users/{id}, or sign "
         "in with device code instead."),
    Rule(lambda c: _forbidden(c) and (bool(_required_permissions(c.text)) or c.has("permission", "privilege")
                                      or c.code_l == "authorization_requestdenied"),
         say=lambda c: _missing_permission(_required_permissions(c.text), c.app_only, c.delegated, c.text)),
    Rule(_forbidden, _with_text("Microsoft Graph refused the request (403 Forbidden)"),
         "Check the app's API permissions and admin consent in Entra admin center → App registrations; for an app "
         "connection, also the application access policy."),
    # 404: a user or a meeting that isn't there
    Rule(lambda c: _graph(404)(c) and _is_user_problem(c.text, c.path), say=lambda c: _unknown_user(c)),
    Rule(lambda c: _graph(404)(c) and _MEETING_PATH(c) and (
        c.has("virtual appointment") or c.path.lower().rstrip("/").endswith("virtualappointment")),
         "The meeting has no virtual appointment (yet), or it was removed.",
         "Create it again; sending the same appointment again is safe."),
    Rule(lambda c: _graph(404)(c) and _MEETING_PATH(c),
         "The meeting does not exist (any more): it was deleted, expired 60 days after its time, or belongs to "
         "another organizer.",
         "Create the appointment again; re-sending the same row is safe and makes exactly one meeting."),
    Rule(_graph(404), _with_text("Microsoft Graph did not find what the request points to"),
         "Check the organizer and the meeting id; for a user, use the object id from Entra admin center → Users."),
    # 409: first-time provisioning, or a real conflict
    Rule(lambda c: _graph(409)(c) and (c.has("provision", "retry") or c.code_l == "conflict" and (
        not c.text or c.has("virtual", "first", "tenant"))), say=lambda c: _provisioning()),
    Rule(_graph(409), _with_text("Microsoft Graph reported a conflict"),
         "If this is your organization's first virtual appointment, wait a few minutes (setup takes under five) and "
         "send again; it is safe to repeat."),
    Rule(_graph(401), lambda c: "Microsoft Graph did not accept the sign-in (401): the access token is missing, "
                                "expired or invalid." + _token_reason(c),
         "Sign in again. If it keeps happening, check that the profile's cloud and tenant match the app registration "
         "and that this computer's clock is right."),
    Rule(_graph(429), "Microsoft Graph is throttling: too many requests in a short time.",
         "The app waited and retried as Graph asked; if this remains, run again later, lower the concurrency, or set "
         "max_requests_per_second in the profile."),
    Rule(_graph((502, 503, 504)),
         lambda c: f"Microsoft Graph reported {_GATEWAY[c.status]} ({c.status}) and did not recover during the "
                   "retries.",
         "Run again later; re-sending is safe: appointments already created are not duplicated."),
    Rule(_graph(400), say=lambda c: _bad_request(c.text)),
    Rule(_graph(412), "The appointment changed since it was read (412 Precondition Failed): someone or something else "
                      "updated it.",
         "Reload it to see the current version, then apply your change again."),
    Rule(_graph(415), "Microsoft Graph did not accept the request body's format (415).",
         "Send the body as JSON with Content-Type: application/json."),
    Rule(_graph(424), "An earlier step of the same batch failed, so this one was not run (424).",
         "Fix the error of the earlier step; then run again."),
    Rule(_graph(405), "That operation is not allowed at this address (405).",
         "Check the method and the path; virtualAppointment exists only under /beta."),
    Rule(lambda c: c.source == GRAPH and c.status >= 500,
         lambda c: f"Microsoft Graph had an internal error ({c.status})" + (f": {c.text}" if c.text else "."),
         "Run again later; if it persists, report it with the request-id."),
    Rule(lambda c: c.source == GRAPH,
         lambda c: f"Microsoft Graph answered {c.status} {c.code}" + (f": {c.text}" if c.text else "."),
         "Check the message; if it is unclear, report it with the request-id."),
)

SIGN_IN_RULES: tuple[Rule, ...] = (
    Rule(_sign_in(7000215, also=_SECRET_REJECTED),
         "The app's client secret was rejected (AADSTS7000215: invalid client secret).",
         lambda c: "Create a new secret in Entra admin center → App registrations → your app → Certificates & "
                   f"secrets, and put its Value (not its Secret ID) in {c.secret_place}. Secrets also expire."),
    Rule(_sign_in(7000222), "The app's client secret has expired.",
         lambda c: "Create a new secret (App registrations → Certificates & secrets) and put it in "
                   f"{c.secret_place}."),
    Rule(_sign_in(700016, 700038, also=lambda c: c.code == "unauthorized_client" and c.has("not found")),
         lambda c: f"The app {c.client_id} is unknown in tenant {c.tenant_id} ({c.first_line}).",
         "Check client_id (Application (client) ID) and tenant_id in the profile, and that the app registration "
         "exists in that tenant and cloud."),
    Rule(_sign_in(7000218), "This app is not set up for device-code sign-in: Entra expects a client secret from it.",
         "In Entra admin center → App registrations → your app → Authentication, turn on \"Allow public client "
         "flows\", or use auth client_credentials."),
    Rule(_sign_in(700025), "This app is a public client, so it cannot sign in with a client secret.",
         "Use auth device_code for this app, or use a confidential app registration for client_credentials."),
    Rule(_sign_in(90002, 900023, also=lambda c: c.has("tenant") and c.has("not found")),
         lambda c: f"The tenant {c.tenant_id} was not found in the {c.cloud} cloud ({c.first_line}).",
         "Check tenant_id and cloud in the profile."),
    Rule(_sign_in(70019, 70016, errors=("expired_token", "authorization_pending")),
         "The sign-in code expired before anyone entered it.",
         "Start the sign-in again and enter the code within the time shown."),
    Rule(_sign_in(errors=("authorization_declined", "access_denied"),
                  also=lambda c: c.aadsts == 70000 and c.has("declin")),
         "The sign-in was declined.",
         "Start again and approve the request, signing in with the account that should own the meetings."),
    Rule(_sign_in(65001, errors=("consent_required",)), "Nobody has consented to the app's permissions yet.",
         "An administrator must grant admin consent in Entra admin center → App registrations → your app → API "
         "permissions."),
    Rule(_sign_in(500011, errors=("invalid_resource",)),
         lambda c: f"Entra does not know Microsoft Graph of this cloud in this tenant ({c.first_line}).",
         "Check that the profile's cloud matches the tenant: tokens do not cross clouds."),
    Rule(_sign_in(70011, 1002012, errors=("invalid_scope",)),
         lambda c: f"The requested permissions were refused ({c.first_line}).",
         "Check the app's API permissions for Microsoft Graph and the profile's cloud."),
    Rule(_sign_in(errors=("invalid_grant",)), lambda c: f"The sign-in was refused ({c.first_line}).", "Sign in again."),
    Rule(lambda c: c.source == SIGN_IN,
         lambda c: f"Sign-in failed: {c.code}" + (f" ({c.first_line})" if c.first_line != c.code else "") + ".",
         "Check the profile (cloud, tenant_id, client_id, auth) and try again."),
)

TABLE: tuple[Rule, ...] = GRAPH_RULES + SIGN_IN_RULES
_GATEWAY = {502: "a bad gateway", 503: "temporarily unavailable", 504: "a gateway timeout"}


def lookup(case: Case) -> tuple[str, str]:
    """(explanation, fix) from the first rule of ``TABLE`` that matches ``case``."""
    for rule in TABLE:
        if rule.match(case):
            return rule.answer(case)
    return "", ""  # unreachable: each source ends with a catch-all rule


def explain(status: int, code: str, message: str, *, auth_kind: str = "", cloud: str = "", client_id: str = "",
            organizer: str = "", path: str = "") -> tuple[str, str]:
    """(what happened, what to do) for one failed Graph request, in words a non-developer can act on.

    ``auth_kind`` is "app" or "delegated"; ``path`` the request path, when known, to tell a missing
    user from a missing meeting.
    """
    return lookup(Case(GRAPH, status=int(status or 0), code=code or "", text=message or "", auth_kind=auth_kind,
                       cloud=cloud, client_id=client_id, organizer=organizer, path=path or ""))


def explain_sign_in(error: str, description: str, aadsts: int | None, *, client_id: str = "", tenant_id: str = "",
                    cloud: str = "", secret_place: str = "") -> tuple[str, str]:
    """(what happened, what to do) for an MSAL error reply (``error``, ``error_description``, AADSTS number)."""
    return lookup(Case(SIGN_IN, code=error, text=description or "", aadsts=aadsts, client_id=client_id,
                       tenant_id=tenant_id, cloud=cloud, secret_place=secret_place))


def aadsts_in(text: str) -> int | None:
    """The AADSTS error number quoted in a sign-in message, if any."""
    match = re.search(r"AADSTS(\d+)", text or "")
    return int(match.group(1)) if match else None


def _token_reason(c: Case) -> str:
    if c.has("expired"):
        return " It has expired."
    if c.has("audience", "foreign"):
        return " It was issued for another service or cloud."
    return ""


def _unknown_user(c: Case) -> tuple[str, str]:
    who = f" '{c.organizer}'" if c.organizer else ""
    upn = "@" in c.organizer or "@" in c.text
    return ((f"Microsoft Graph does not know the user{who}" +
             (" as written: meeting paths take the user's object id, not the sign-in name (UPN)." if upn else ".")),
            "Copy the user's Object ID from Entra admin center → Users → the user → Overview and put it in the "
            "organizer field (or give the app User.Read.All so the name can be looked up).")


# -- the individual explanations -------------------------------------------------------------------
def access_policy_commands(client_id: str, organizer: str, policy_name: str = _POLICY_NAME) -> str:
    """The two Teams PowerShell commands that let an app create meetings for ``organizer`` (or everyone)."""
    client = client_id or "<client_id>"
    who = f'-Identity "{organizer}"' if organizer else '-Identity "<organizer object id>"'
    return (f'New-CsApplicationAccessPolicy -Identity {policy_name} -AppIds "{client}" '
            f'-Description "Appointment Studio"\n'
            f"Grant-CsApplicationAccessPolicy -PolicyName {policy_name} {who}\n"
            f"(or, for every user: Grant-CsApplicationAccessPolicy -PolicyName {policy_name} -Global)")


def _access_policy(client_id: str, organizer: str) -> tuple[str, str]:
    return ("The app may not create Teams meetings for this organizer: no application access policy allows "
            f"app {client_id or '(this app)'} to act for {organizer or 'this user'}.",
            "A Teams administrator must run, in Teams PowerShell (Connect-MicrosoftTeams):\n"
            + access_policy_commands(client_id, organizer)
            + "\nthen wait up to 30 minutes for it to take effect. Or sign in with device code (delegated) "
              "instead, which needs no policy.")


def _missing_permission(permissions: list[str], app_only: bool, delegated: bool, text: str) -> tuple[str, str]:
    kind = "Application" if app_only else "Delegated" if delegated else "the needed"
    which = " or ".join(permissions) if permissions else "the permission this request needs"
    what = f"The sign-in lacks the permission Microsoft Graph requires here: {which}."
    if "join" in text.lower() or "sms" in text.lower():
        what += " Join links and SMS only work with a delegated sign-in."
    fix = (f"In Entra admin center → App registrations → your app → API permissions, add {kind} permission "
           f"{which} for Microsoft Graph, click \"Grant admin consent\", then sign in again.")
    if app_only:
        fix += (" Join links and SMS have no application permission: for those, sign in with device code.")
    return what, fix


def _provisioning() -> tuple[str, str]:
    return ("Microsoft is setting up virtual appointments for your organization for the first time "
            "(409 Conflict). This happens once per tenant and takes under five minutes.",
            "Wait a few minutes and send again; it was already retried automatically and repeating is safe.")


def _connection_failed(text: str, cloud: str) -> tuple[str, str]:
    low = text.lower()
    if "certificate" in low or "ssl" in low or "tls" in low:
        return ("The secure connection failed: this computer does not trust the server's certificate.",
                "For the sandbox, set ca_bundle in the profile to the sandbox's ca.pem; behind a company proxy "
                "that inspects TLS, set ca_bundle (or REQUESTS_CA_BUNDLE) to its certificate authority. "
                "Certificate checks are never turned off.")
    sandbox = cloud == "sandbox" or "127.0.0.1" in low or "localhost" in low
    what = "Could not reach Microsoft Graph" + (f" ({text})" if text else "") + "."
    if sandbox:
        return (what, "Is the sandbox running? Start it with: python -m lib sandbox (and check the address in "
                      "the profile's graph_base_url).")
    return (what, "Check the network connection and any proxy settings (HTTPS_PROXY, NO_PROXY), then run again; "
                  "re-sending is safe.")


def _bad_request(text: str) -> tuple[str, str]:
    low = text.lower()
    what = "Microsoft Graph refused the request as invalid (400)" + (f": {text}" if text else ".")
    if "cannot convert the literal" in low and "datetimeoffset" in low:
        return what, "Give start and end times with a time zone offset (e.g. 2026-03-01T09:00:00+01:00 or ...Z)."
    if "resource not found for the segment" in low:
        return what, ("The address is wrong for this Graph version: virtualAppointment exists only under /beta, "
                      "and the segment is the plural onlineMeetings.")
    if "does not exist on type" in low:
        return what, "Remove the property named in the message; Graph does not know it."
    if "phone" in low:
        return what, "SMS goes to US numbers only, written as +1 and ten digits (e.g. +12125550123)."
    return what, "Correct the value named in the message and send again."


def _required_permissions(text: str) -> list[str]:
    """Permission names from "API requires one of 'A, B'" style messages."""
    match = re.search(r"requires one of '([^']*)'", text, re.IGNORECASE)
    if not match:
        return []
    return [p.strip() for p in match.group(1).split(",") if p.strip()]


def _is_user_problem(text: str, path: str) -> bool:
    low = text.lower()
    if re.search(r"user '[^']*' (was )?not found", low) or "request_resourcenotfound" in low:
        return True
    p = path.split("?", 1)[0].rstrip("/").lower()
    if "/onlinemeetings" in p:
        return False
    # "/users/{x}" alone (the lookup) is about the user
    return bool(re.fullmatch(r"(/(v1\.0|beta))?/users/[^/]+", p)) or "queried reference-property" in low
