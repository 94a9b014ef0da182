"""Plain-language explanations: what happened and what to do, for the failures people meet."""

from __future__ import annotations

import pytest

from lib.graph.explain import explain

CLIENT = "66666666-7777-8888-9999-000000000000"
ORGANIZER = "9d892f4c-f843-4fdc-9e82-c790f1a0f844"


def test_the_access_policy_403_gives_the_exact_powershell_with_client_id_and_organizer():
    what, fix = explain(403, "General", "No application access policy found for this app.", auth_kind="app",
                        client_id=CLIENT, organizer=ORGANIZER)
    assert "application access policy" in what
    assert f'New-CsApplicationAccessPolicy -Identity AppointmentStudio -AppIds "{CLIENT}"' in fix
    assert f'Grant-CsApplicationAccessPolicy -PolicyName AppointmentStudio -Identity "{ORGANIZER}"' in fix
    assert "-Global" in fix and "30 minutes" in fix and "device code" in fix


@pytest.mark.parametrize("status", [403, 400])
def test_app_only_on_me_says_to_use_the_organizer_object_id(status):
    what, fix = explain(status, "Forbidden", "/me request is only valid with delegated authentication flow.",
                        auth_kind="app")
    assert "/me" in what and "object id" in fix


def test_a_missing_permission_is_named_with_admin_consent():
    what, fix = explain(403, "Forbidden", "Missing role permissions on the request. API requires one of "
                        "'OnlineMeetings.ReadWrite.All'. Roles on the request 'User.Read.All'.", auth_kind="app")
    assert "OnlineMeetings.ReadWrite.All" in what
    assert "Application permission" in fix and "admin consent" in fix


def test_a_delegated_user_on_another_users_path_is_told_only_me_works():
    what, fix = explain(403, "General", "Organizer ID in token(a) does not match organizer ID in request url(b). "
                        "With delegated permission only /me endpoint is supported.", auth_kind="delegated")
    assert "only create meetings for themself" in what


def test_an_unknown_user_points_to_the_object_id_in_entra():
    what, fix = explain(404, "NotFound", "User 'ana@contoso.com' was not found. Online meeting paths take the "
                        "user's object id (a GUID), not a user principal name.", organizer="ana@contoso.com",
                        path="/users/ana@contoso.com/onlineMeetings/createOrGet")
    assert "object id" in what and "Entra admin center → Users" in fix


def test_a_user_lookup_404_is_about_the_user():
    what, fix = explain(404, "Request_ResourceNotFound", "Resource 'x' does not exist or one of its queried "
                        "reference-property objects are not present.", path="/users/x?$select=id")
    assert "does not know the user" in what


def test_a_missing_meeting_says_it_is_gone_and_resending_is_safe():
    what, fix = explain(404, "NotFound", "The specified online meeting was not found, or the user is not its "
                        "organizer.", path="/me/onlineMeetings/MSpabc")
    assert "meeting does not exist" in what and "safe" in fix


def test_first_time_provisioning_says_wait_a_few_minutes():
    what, fix = explain(409, "Conflict", "The tenant's virtual appointments service is being provisioned. Retry "
                        "later.")
    assert "first time" in what and "few minutes" in fix


@pytest.mark.parametrize("status, code, message, words", [
    (401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", "expired"),
    (429, "TooManyRequests", "", "throttling"),
    (503, "ServiceUnavailable", "", "temporarily unavailable"),
    (504, "GatewayTimeout", "", "gateway timeout"),
    (400, "BadRequest", "endDateTime must be later than startDateTime.", "endDateTime must be later"),
    (412, "PreconditionFailed", "", "changed since it was read"),
    (0, "UnknownOutcome", "", "unknown whether"),
    (0, "NotSupported", "join links need delegated sign-in", "join links need delegated"),
    (418, "Teapot", "short and stout", "418"),
])
def test_each_common_failure_has_an_explanation_and_a_fix(status, code, message, words):
    what, fix = explain(status, code, message)
    assert words in what
    assert fix


def test_a_connection_failure_to_the_sandbox_asks_whether_it_is_running():
    what, fix = explain(0, "ConnectionFailed", "127.0.0.1:8765: ConnectionError: Connection refused",
                        cloud="sandbox")
    assert "Is the sandbox running?" in fix


def test_a_tls_failure_points_to_the_ca_bundle():
    what, fix = explain(0, "ConnectionFailed", "SSLError: CERTIFICATE_VERIFY_FAILED")
    assert "ca_bundle" in fix and "never turned off" in fix


def test_codes_are_compared_case_insensitively():
    assert explain(0, "unknownoutcome", "") == explain(0, "UnknownOutcome", "")


def test_a_bad_time_literal_says_to_add_an_offset():
    _, fix = explain(400, "BadRequest", "Cannot convert the literal '2024-01-19T13:38:22' to the expected type "
                     "'Edm.DateTimeOffset'.")
    assert "offset" in fix


def test_one_table_words_sign_in_errors_too():
    from lib.graph.explain import GRAPH_RULES, SIGN_IN_RULES, TABLE, explain_sign_in

    what, fix = explain_sign_in("expired_token", "AADSTS70019: Verification code expired.", 70019)
    assert what == "The sign-in code expired before anyone entered it." and "again" in fix
    assert TABLE == GRAPH_RULES + SIGN_IN_RULES  # one list of match -> explanation, fix, tried in order


def test_building_a_graph_error_does_not_consult_the_wording_table(monkeypatch):
    import lib.graph.errors as errors

    def refuse(*args, **kwargs):
        raise AssertionError("explain called")

    monkeypatch.setattr(errors, "explain", refuse)
    error = errors.GraphError(0, "InternalError", "boom")
    assert error.status == 0 and error.code == "InternalError"
    with pytest.raises(AssertionError):
        _ = error.explanation  # worded only when someone reads it
    given = errors.GraphError(404, "NotFound", "gone", explanation="Gone.", fix="Make it again.")
    assert str(given) == "404 Not Found: gone" and given.fix == "Make it again."
