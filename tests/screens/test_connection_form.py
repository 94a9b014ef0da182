"""The Connection form's words and the credential store (lib/screens/connection_form.py)."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as NoKeyring

from lib.graph.profile import Profile, ProfileError
from lib.screens import connection_form


def test_profile_errors_name_the_forms_labels():
    with pytest.raises(ProfileError) as caught:
        Profile.from_dict({"name": "x", "cloud": "global", "auth": "device_code", "tenant_id": "contoso.onmicrosoft.com",
                           "client_id": "not-a-guid"})
    said = connection_form.in_form_words(caught.value)
    assert said.field == "Application (client) ID" and "client_id" not in said.message


def test_each_sign_in_names_its_permissions_and_policies():
    delegated = " ".join(connection_form.NEEDS["device_code"])
    app_only = " ".join(connection_form.NEEDS["client_credentials"])
    assert "OnlineMeetings.ReadWrite" in delegated and "VirtualAppointmentNotification.Send" in delegated
    assert "Teams Premium" in delegated and "EnableSmsNotifications" in delegated
    assert "OnlineMeetings.ReadWrite.All" in app_only and "Grant-CsApplicationAccessPolicy" in app_only


class MemoryKeyring(KeyringBackend):
    """A credential store in memory: keyring's own backend interface, for the test only."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.kept = {}

    def set_password(self, service, username, password):
        self.kept[(service, username)] = password

    def get_password(self, service, username):
        return self.kept.get((service, username))

    def delete_password(self, service, username):
        self.kept.pop((service, username), None)


@pytest.fixture
def use_keyring():
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_a_secret_goes_to_the_credential_store_and_comes_back(use_keyring):
    store = MemoryKeyring()
    use_keyring(store)
    said = connection_form.store_secret("Contoso.onmicrosoft.com", "ABC", "s3cret")
    assert said.startswith("Saved in ") and store.kept == {("Appointment Studio", "contoso.onmicrosoft.com/abc"): "s3cret"}
    assert connection_form.stored_secret("contoso.onmicrosoft.com", "abc") == "s3cret"


def test_without_a_credential_store_it_says_so(use_keyring):
    use_keyring(NoKeyring())
    with pytest.raises(connection_form.CredentialStoreMissing) as caught:
        connection_form.store_secret("t", "c", "s3cret")
    assert "session only" in str(caught.value) and "s3cret" not in str(caught.value)
    assert connection_form.stored_secret("t", "c") == ""


def test_a_bookings_refusal_names_the_permissions_of_the_connection_s_kind():
    from lib.graph.errors import GraphError

    refused = GraphError(403, "Forbidden", "Missing role", request_id="r-1")
    app_only = connection_form.bookings_error(refused, "client_credentials")
    assert "application permissions Bookings.Read.All" in app_only.fix and app_only.request_id == "r-1"
    assert "delegated permissions" in connection_form.bookings_error(refused, "device_code").fix
    other = GraphError(500, "UnknownError", "")
    assert connection_form.bookings_error(other, "device_code") is other


def test_no_businesses_says_why_for_a_search_and_for_the_connection():
    assert "Clear the search box" in connection_form.no_businesses_message("acme", "device_code")
    assert "where they are staff" in connection_form.no_businesses_message("", "device_code")
    assert "every business" in connection_form.no_businesses_message(" ", "client_credentials")
