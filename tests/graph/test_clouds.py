"""The cloud table: every cloud's Graph root, sign-in host, scopes and what it offers."""

from __future__ import annotations

import pytest

from lib.graph.clouds import CLOUD_NAMES, CLOUDS, cloud_for, scopes_for
from lib.graph.profile import Profile

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"

TABLE = {
    "global": ("https://graph.microsoft.com", "https://login.microsoftonline.com", True, True),
    "usgov": ("https://graph.microsoft.us", "https://login.microsoftonline.us", True, False),
    "dod": ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us", True, False),
    "china": ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn", False, False),
}


def profile(cloud: str, auth: str = "device_code", **extra) -> Profile:
    doc = {"cloud": cloud, "tenant_id": TENANT, "client_id": CLIENT, "auth": auth, **extra}
    if auth == "client_credentials":
        doc.setdefault("organizer", TENANT)
        doc.setdefault("client_secret_env", "GRAPH_SECRET")
    return Profile.from_dict(doc)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_cloud_has_the_graph_root_sign_in_host_and_features_of_the_reference_table(name):
    root, authority, meetings, join_link = TABLE[name]
    cloud = CLOUDS[name]
    assert (cloud.graph_root, cloud.authority_host, cloud.meetings, cloud.join_link_and_sms) == (
        root, authority, meetings, join_link)
    assert cloud.app_scope == f"{root}/.default"


def test_the_profile_accepts_every_cloud_plus_the_sandbox():
    assert set(CLOUD_NAMES) == set(TABLE) | {"sandbox"}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_app_only_asks_for_the_clouds_default_scope(name):
    assert scopes_for(profile(name, "client_credentials")) == [f"{TABLE[name][0]}/.default"]


@pytest.mark.parametrize("name", sorted(TABLE))
def test_delegated_scopes_are_full_uris_on_the_clouds_own_graph(name):
    root = TABLE[name][0]
    scopes = scopes_for(profile(name))
    assert f"{root}/OnlineMeetings.ReadWrite" in scopes
    assert f"{root}/User.Read" in scopes
    assert all(s.startswith(root + "/") for s in scopes)


def test_only_clouds_with_join_links_ask_for_the_virtual_appointment_and_sms_permissions():
    assert "https://graph.microsoft.com/VirtualAppointmentNotification.Send" in scopes_for(profile("global"))
    assert "https://graph.microsoft.com/VirtualAppointment.ReadWrite" in scopes_for(profile("global"))
    assert not any("VirtualAppointment" in s for s in scopes_for(profile("usgov")))


def test_the_sandbox_takes_its_roots_and_scopes_from_the_profile(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    p = Profile.from_dict({"cloud": "sandbox", "graph_base_url": "https://127.0.0.1:8765/", "tenant_id": "t",
                           "client_id": "c", "auth": "device_code", "ca_bundle": str(ca)})
    cloud = cloud_for(p)
    assert cloud.graph_root == "https://127.0.0.1:8765" and cloud.meetings and cloud.join_link_and_sms
    assert p.authority == "https://127.0.0.1:8765/t"
    assert scopes_for(p) == ["https://127.0.0.1:8765/OnlineMeetings.ReadWrite",
                             "https://127.0.0.1:8765/VirtualAppointment.ReadWrite",
                             "https://127.0.0.1:8765/VirtualAppointmentNotification.Send",
                             "https://127.0.0.1:8765/User.Read"]
