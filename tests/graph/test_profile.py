"""Connection profiles: contract fields, validation a person can act on, secrets kept out of sight."""

from __future__ import annotations

import json

import pytest

from lib.graph.profile import Profile, ProfileError

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"
ORGANIZER = "9d892f4c-f843-4fdc-9e82-c790f1a0f844"


def app_doc(**changes):
    doc = {"name": "Contoso app", "cloud": "global", "tenant_id": TENANT, "client_id": CLIENT,
           "auth": "client_credentials", "client_secret_env": "CONTOSO_SECRET", "organizer": ORGANIZER}
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def error_for(doc) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        Profile.from_dict(doc)
    return info.value


def test_a_real_cloud_profile_gets_its_graph_root_and_authority_from_the_cloud_table():
    p = Profile.from_dict(app_doc(cloud="usgov"))
    assert p.graph_base_url == "https://graph.microsoft.us"
    assert p.authority == f"https://login.microsoftonline.us/{TENANT}"
    assert p.graph_host == "https://graph.microsoft.us"
    assert p.verify is True and not p.is_sandbox


def test_the_profile_has_exactly_the_contract_fields_and_an_optional_rate():
    p = Profile.from_dict(app_doc(max_requests_per_second=20))
    assert set(p.to_dict(include_secret=True)) <= {
        "name", "cloud", "graph_base_url", "authority", "tenant_id", "client_id", "auth", "client_secret",
        "client_secret_env", "organizer", "ca_bundle", "max_requests_per_second"}
    assert p.max_requests_per_second == 20.0


@pytest.mark.parametrize("changes, field, words", [
    ({"cloud": "mars"}, "cloud", "global, usgov, dod, china, sandbox"),
    ({"cloud": None}, "cloud", "missing"),
    ({"auth": "password"}, "auth", "device_code"),
    ({"tenant_id": None}, "tenant_id", "Directory (tenant) ID"),
    ({"tenant_id": "common"}, "tenant_id", "cannot be used with client_credentials"),
    ({"client_id": "my app"}, "client_id", "Application (client) ID"),
    ({"organizer": None}, "organizer", "object id"),
    ({"organizer": "Ana"}, "organizer", "user principal name"),
    ({"client_secret_env": None}, "client_secret_env", "needs a client secret"),
    ({"client_secret_env": "abc def!"}, "client_secret_env", "environment variable name"),
    ({"graph_base_url": "https://graph.microsoft.us"}, "graph_base_url", "not Microsoft Graph of the global cloud"),
    ({"graph_base_url": "http://graph.microsoft.com"}, "graph_base_url", "https://"),
    ({"authority": "https://login.microsoftonline.us/x"}, "authority", "not a sign-in address of the global cloud"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle", "not found"),
    ({"max_requests_per_second": 0}, "max_requests_per_second", "more than 0"),
    ({"max_requests_per_second": "fast"}, "max_requests_per_second", "not a number"),
    ({"client_secert": "x"}, "client_secert", "did you mean 'client_secret'"),
    ({"tenant_id": 5}, "tenant_id", "must be text"),
])
def test_a_wrong_field_is_named_with_a_message_saying_how_to_fix_it(changes, field, words):
    error = error_for(app_doc(**changes))
    assert error.field == field
    assert words in str(error)
    assert str(error).startswith(f"{field}: ")


def test_device_code_needs_neither_organizer_nor_secret():
    p = Profile.from_dict({"cloud": "global", "tenant_id": "contoso.onmicrosoft.com", "client_id": CLIENT,
                           "auth": "device_code"})
    assert p.auth == "device_code" and p.name  # a name is made up when missing


def test_the_sandbox_needs_its_address():
    assert error_for({"cloud": "sandbox", "tenant_id": "t", "client_id": "c", "auth": "device_code"}).field == \
        "graph_base_url"


def test_load_reports_a_missing_file_and_bad_json_with_the_line(tmp_path):
    with pytest.raises(ProfileError, match="does not exist"):
        Profile.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"cloud": "global",\n "auth": }')
    with pytest.raises(ProfileError, match="line 2"):
        Profile.load(bad)


def test_load_resolves_a_relative_ca_bundle_next_to_the_profile(tmp_path):
    (tmp_path / "ca.pem").write_text("pem")
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"cloud": "sandbox", "graph_base_url": "https://127.0.0.1:9", "tenant_id": "t",
                                "client_id": "c", "auth": "device_code", "ca_bundle": "ca.pem"}))
    p = Profile.load(path)
    assert p.verify == str(tmp_path / "ca.pem") and p.is_sandbox


def test_the_secret_comes_from_the_environment_first_then_the_profile(monkeypatch):
    p = Profile.from_dict(app_doc(client_secret="from-file"))
    monkeypatch.delenv("CONTOSO_SECRET", raising=False)
    assert p.secret() == "from-file"
    monkeypatch.setenv("CONTOSO_SECRET", "from-env")
    assert p.secret() == "from-env"


def test_a_missing_environment_secret_explains_how_to_set_it(monkeypatch):
    monkeypatch.delenv("CONTOSO_SECRET", raising=False)
    p = Profile.from_dict(app_doc())
    with pytest.raises(ProfileError) as info:
        p.secret()
    assert info.value.field == "client_secret_env" and "export CONTOSO_SECRET=" in str(info.value)


def test_the_secret_stays_out_of_the_repr_and_of_to_dict_unless_asked():
    p = Profile.from_dict(app_doc(client_secret="s3cr3t-value"))
    assert "s3cr3t-value" not in repr(p)
    assert "client_secret" not in p.to_dict()
    assert p.to_dict(include_secret=True)["client_secret"] == "s3cr3t-value"


def test_the_key_is_stable_and_tells_connections_apart():
    a = Profile.from_dict(app_doc())
    assert a.key == Profile.from_dict(app_doc(name="renamed")).key
    assert a.key != Profile.from_dict(app_doc(organizer="someone@contoso.com")).key
    assert a.key != Profile.from_dict(app_doc(cloud="dod")).key


def test_to_dict_round_trips():
    p = Profile.from_dict(app_doc(max_requests_per_second=5))
    assert Profile.from_dict(p.to_dict()) == p
