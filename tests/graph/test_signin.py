"""Sign-in through MSAL against the sandbox's identity platform, and the persisted token cache."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time

import pytest

from lib.graph.signin import AuthError, StaticTokenProvider, _auth_error, token_cache_path, token_provider_for
from lib.graph.profile import Profile


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """A token cache folder of the test's own, so 'first sign-in' really is the first."""
    monkeypatch.setenv("APPOINTMENT_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def profile_from(path, **changes) -> Profile:
    doc = json.loads(path.read_text())
    doc.update(changes)
    return Profile.from_dict(doc)


def test_client_credentials_get_an_app_token_through_msal(sandbox, own_home):
    tokens = token_provider_for(Profile.load(sandbox.app_profile_path))
    token = tokens.get_token()
    assert tokens.kind == "app" and token.count(".") == 2
    assert tokens.get_token() == token  # served from memory, no new request
    assert tokens.account_name.startswith("app ")


def test_device_code_hands_the_code_to_the_caller_and_signs_in(sandbox, own_home):
    shown = []
    tokens = token_provider_for(Profile.load(sandbox.profile_path), on_device_code=shown.append)
    assert tokens.get_token()
    assert tokens.kind == "delegated"
    assert len(shown) == 1 and {"user_code", "verification_uri", "message"} <= set(shown[0])
    assert "@" in tokens.account_name


def test_a_second_run_signs_in_silently_from_the_owner_only_cache_file(sandbox, own_home):
    profile = Profile.load(sandbox.profile_path)
    first = []
    token_provider_for(profile, on_device_code=first.append).get_token()
    cache = token_cache_path(profile)
    assert cache.is_file() and stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert first

    again = []
    second = token_provider_for(profile, on_device_code=again.append)  # a new process would do the same
    assert second.get_token() and again == []
    assert second.account_name == "adele.vance@contoso.onmicrosoft.com" or "@" in second.account_name
    assert "access_token" not in repr(second) and second.get_token() not in repr(second)


def test_a_cached_sign_in_is_fetched_ahead_and_a_device_code_is_never_asked_for_there(sandbox, own_home):
    profile = Profile.load(sandbox.profile_path)
    asked = []
    fresh = token_provider_for(profile, on_device_code=asked.append)
    fresh.prefetch().join(10)
    assert asked == [] and not fresh._fresh()  # nobody signed in yet: prefetching asks nobody
    assert fresh.get_token() and len(asked) == 1  # get_token asks, as before
    ahead = token_provider_for(profile, on_device_code=asked.append)
    ahead.prefetch().join(10)
    assert ahead._fresh() and "@" in ahead.account_name
    assert ahead.get_token() and len(asked) == 1


def test_the_app_token_is_cached_on_disk_too(sandbox, own_home):
    profile = Profile.load(sandbox.app_profile_path)
    token_provider_for(profile).get_token()
    assert stat.S_IMODE(token_cache_path(profile).stat().st_mode) == 0o600


def test_a_forced_refresh_gets_a_new_token(sandbox, own_home):
    tokens = token_provider_for(Profile.load(sandbox.app_profile_path))
    first = tokens.get_token()
    assert tokens.get_token(force_refresh=True) != first


def test_a_wrong_client_secret_is_explained_without_showing_it(sandbox, own_home):
    profile = profile_from(sandbox.app_profile_path, client_secret="not-the-secret-123", client_secret_env=None)
    with pytest.raises(AuthError) as info:
        token_provider_for(profile).get_token()
    assert info.value.aadsts == 7000215
    assert "client secret was rejected" in info.value.explanation and "Certificates & secrets" in info.value.fix
    assert "not-the-secret-123" not in str(info.value)


def test_an_unknown_client_id_is_explained(sandbox, own_home):
    profile = profile_from(sandbox.app_profile_path, client_id="00000000-0000-0000-0000-000000000001")
    with pytest.raises(AuthError) as info:
        token_provider_for(profile).get_token()
    assert "client_id" in info.value.fix


def test_an_unreachable_sign_in_host_says_to_start_the_sandbox(sandbox, own_home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    profile = profile_from(sandbox.profile_path, graph_base_url=url, authority=None)
    with pytest.raises(AuthError) as info:
        token_provider_for(profile).get_token()
    assert "could not be reached" in info.value.explanation and "sandbox running" in info.value.fix


def test_cancel_stops_a_device_code_sign_in_that_nobody_approves(fresh_sandbox, own_home):
    fresh_sandbox.configure(auto_approve=False)
    cancel = threading.Event()
    tokens = token_provider_for(Profile.load(fresh_sandbox.profile_path),
                                on_device_code=lambda flow: threading.Timer(0.3, cancel.set).start(), cancel=cancel)
    started = time.monotonic()
    with pytest.raises(AuthError) as info:
        tokens.get_token()
    assert info.value.code == "cancelled" and time.monotonic() - started < 5


def test_a_device_code_nobody_enters_in_time_is_reported_as_expired(fresh_sandbox, own_home):
    fresh_sandbox.configure(auto_approve=False, device_code_seconds=1)
    tokens = token_provider_for(Profile.load(fresh_sandbox.profile_path), on_device_code=lambda flow: None)
    with pytest.raises(AuthError) as info:
        tokens.get_token()
    assert "expired" in info.value.explanation and "again" in info.value.fix


@pytest.mark.parametrize("result, words", [
    ({"error": "expired_token", "error_description": "AADSTS70019: Verification code expired."}, "expired"),
    ({"error": "authorization_declined", "error_description": "AADSTS70000: The user declined."}, "declined"),
    ({"error": "invalid_client", "error_codes": [7000215],
      "error_description": "AADSTS7000215: Invalid client secret provided."}, "client secret was rejected"),
    ({"error": "unauthorized_client", "error_codes": [700016],
      "error_description": "AADSTS700016: Application with identifier 'x' was not found in the directory."}, "unknown"),
    ({"error": "invalid_resource", "error_codes": [500011], "error_description": "AADSTS500011: ..."}, "cloud"),
])
def test_msal_error_replies_become_plain_explanations(result, words):
    profile = Profile.from_dict({"cloud": "global", "tenant_id": "contoso.onmicrosoft.com", "auth": "device_code",
                                 "client_id": "66666666-7777-8888-9999-000000000000"})
    error = _auth_error(result, profile)
    assert words in (error.explanation + error.fix).lower() or words in error.explanation
    assert error.fix


def test_a_static_token_provider_refreshes_only_when_asked():
    tokens = StaticTokenProvider("a", refresh=lambda: "b")
    assert tokens.get_token() == "a" and tokens.get_token(force_refresh=True) == "b" and tokens.refreshes == 1


# -- the cache file is portable and shared ----------------------------------------------------------
def test_the_cache_is_written_owner_only_without_os_fchmod(tmp_path, monkeypatch):
    from lib.graph.signin import write_private

    monkeypatch.delattr("os.fchmod", raising=False)  # Windows before Python 3.13 has none
    path = tmp_path / "cache" / "c.json"
    write_private(path, '{"a": 1}')
    write_private(path, '{"a": 2}')
    assert json.loads(path.read_text()) == {"a": 2} and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["c.json"]  # no temporary file left behind


def test_sign_in_imports_without_posix_only_modules(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys; sys.modules['fcntl'] = None; sys.modules['termios'] = None; import lib.graph, lib.graph.signin"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_an_app_and_a_cli_share_one_cache_file_at_the_same_time(sandbox, own_home):
    profile = Profile.load(sandbox.profile_path)
    token_provider_for(profile, on_device_code=lambda flow: None).get_token()  # signed in once
    shown, tokens, errors = [], [], []

    def other_process():  # each provider keeps its own memory, as two processes do
        try:
            provider = token_provider_for(profile, on_device_code=shown.append)
            tokens.append(provider.get_token(force_refresh=True))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=other_process) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(tokens) == 6 and shown == []  # every one signed in silently from the shared cache
    cache = token_cache_path(profile)
    assert json.loads(cache.read_text())["RefreshToken"]  # whole and readable after concurrent writes
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
