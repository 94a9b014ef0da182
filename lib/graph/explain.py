"""Plain-language explanations of Graph failures: what happened, and what the person can do.

Graph's ``code`` is compared case-insensitively (its casing varies by workload); the message is
only used to tell apart cases that share a status and code.
"""

from __future__ import annotations

import re

_POLICY_NAME = "AppointmentStudio"


def explain(status: int, code: str, message: str, *, auth_kind: str = "", cloud: str = "", client_id: str = "",
            organizer: str = "", path: str = "") -> tuple[str, str]:
    """(what happened, what to do) for one failed request, in words a non-developer can act on.

    ``auth_kind`` is "app" or "delegated"; ``path`` the request path, when known, to tell a missing
    user from a missing meeting.
    """
    code_l = (code or "").lower()
    text = message or ""
    low = text.lower()
    app_only = auth_kind in ("app", "client_credentials")
    delegated = auth_kind in ("delegated", "device_code")

    # -- failures on this side of the wire ----------------------------------------------------
    if status == 0:
        if code_l == "connectionfailed":
            return _connection_failed(text, cloud)
        if code_l == "unknownoutcome":
            return ("The connection dropped after the request was sent, so it is unknown whether Microsoft Graph "
                    "carried it out.",
                    "It was not sent again automatically, because doing it twice would not be harmless (for "
                    "example a second text message). Check whether it happened (ask the client, or look at the "
                    "meeting) before sending it again.")
        if code_l == "notsupported":
            return (text or "This is not available for this connection.",
                    "Join links and SMS need a delegated sign-in (device code) in the Global cloud; Teams meetings "
                    "through Graph are not available in the China cloud. Use a connection that offers it, or "
                    "choose the virtual-appointment flow.")
        if code_l == "cancelled":
            return ("The run was cancelled before this request was sent.",
                    "Run it again; only what is missing is created.")
        if code_l == "signinfailed":
            return (text or "Signing in failed.", "Check the connection profile and sign in again.")
        if code_l == "foreignhost":
            return (text or "The request was not sent: its address is not this connection's Graph host.",
                    "Only the Graph address of the connection profile receives the access token. Check the "
                    "profile's cloud and graph_base_url.")
        return (text or "The request failed before Microsoft Graph answered.",
                "Try again; if it keeps failing, report it with the message above.")

    # -- 403: permissions and policies --------------------------------------------------------
    if status == 403 or (status == 400 and "only valid with delegated" in low):
        if "application access policy" in low:
            return _access_policy(client_id, organizer)
        if "does not match organizer id" in low or "only /me endpoint is supported" in low:
            return ("You signed in as a person (delegated), and a person can only create meetings for themself, "
                    "not for another user.",
                    "Leave the organizer empty (or use your own account), or use an app connection "
                    "(client_credentials) with an application access policy for that organizer.")
        if "/me request is only valid" in low:
            return ("An app signed in on its own (client credentials) called /me, which only exists for a person "
                    "who signed in.",
                    "Set organizer in the connection profile to the user's object id so requests go to "
                    "/users/{id}, or sign in with device code instead.")
        permissions = _required_permissions(text)
        if permissions or "permission" in low or "privilege" in low or code_l in ("authorization_requestdenied",):
            return _missing_permission(permissions, app_only, delegated, text)
        return ("Microsoft Graph refused the request (403 Forbidden)" + (f": {text}" if text else "."),
                "Check the app's API permissions and admin consent in Entra admin center → App registrations; "
                "for an app connection, also the application access policy.")

    # -- 404: a user or a meeting that isn't there --------------------------------------------
    if status == 404:
        if _is_user_problem(text, path):
            who = f" '{organizer}'" if organizer else ""
            upn = "@" in organizer or "@" in text
            return ((f"Microsoft Graph does not know the user{who}" +
                     (" as written: meeting paths take the user's object id, not the sign-in name (UPN)." if upn
                      else ".")),
                    "Copy the user's Object ID from Entra admin center → Users → the user → Overview and put it "
                    "in the organizer field (or give the app User.Read.All so the name can be looked up).")
        if "onlinemeeting" in path.lower() or "meeting" in low or "virtual appointment" in low:
            if "virtual appointment" in low or path.lower().rstrip("/").endswith("virtualappointment"):
                return ("The meeting has no virtual appointment (yet), or it was removed.",
                        "Create it again; sending the same appointment again is safe.")
            return ("The meeting does not exist (any more): it was deleted, expired 60 days after its time, or "
                    "belongs to another organizer.",
                    "Create the appointment again; re-sending the same row is safe and makes exactly one meeting.")
        return ("Microsoft Graph did not find what the request points to" + (f": {text}" if text else "."),
                "Check the organizer and the meeting id; for a user, use the object id from Entra admin "
                "center → Users.")

    if status == 409:
        if "provision" in low or "retry" in low or code_l == "conflict" and not text:
            return _provisioning()
        if code_l == "conflict" and ("virtual" in low or "first" in low or "tenant" in low):
            return _provisioning()
        return ("Microsoft Graph reported a conflict" + (f": {text}" if text else "."),
                "If this is your organization's first virtual appointment, wait a few minutes (setup takes under "
                "five) and send again; it is safe to repeat.")

    if status == 401:
        reason = ""
        if "expired" in low:
            reason = " It has expired."
        elif "audience" in low or "foreign" in low:
            reason = " It was issued for another service or cloud."
        return ("Microsoft Graph did not accept the sign-in (401): the access token is missing, expired or "
                "invalid." + reason,
                "Sign in again. If it keeps happening, check that the profile's cloud and tenant match the app "
                "registration and that this computer's clock is right.")

    if status == 429:
        return ("Microsoft Graph is throttling: too many requests in a short time.",
                "The app waited and retried as Graph asked; if this remains, run again later, lower the "
                "concurrency, or set max_requests_per_second in the profile.")

    if status in (502, 503, 504):
        what = {502: "a bad gateway", 503: "temporarily unavailable", 504: "a gateway timeout"}[status]
        return (f"Microsoft Graph reported {what} ({status}) and did not recover during the retries.",
                "Run again later; re-sending is safe: appointments already created are not duplicated.")

    if status == 400:
        return _bad_request(text)

    if status == 412:
        return ("The appointment changed since it was read (412 Precondition Failed): someone or something "
                "else updated it.",
                "Reload it to see the current version, then apply your change again.")

    if status == 415:
        return ("Microsoft Graph did not accept the request body's format (415).",
                "Send the body as JSON with Content-Type: application/json.")

    if status == 424:
        return ("An earlier step of the same batch failed, so this one was not run (424).",
                "Fix the error of the earlier step; then run again.")

    if status == 405:
        return ("That operation is not allowed at this address (405).",
                "Check the method and the path; virtualAppointment exists only under /beta.")

    if status >= 500:
        return (f"Microsoft Graph had an internal error ({status})" + (f": {text}" if text else "."),
                "Run again later; if it persists, report it with the request-id.")

    return (f"Microsoft Graph answered {status} {code}" + (f": {text}" if text else "."),
            "Check the message; if it is unclear, report it with the request-id.")


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
