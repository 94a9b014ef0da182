"""Snippets show the same requests the app sends, runnable as written."""

import ast
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lib.model.appointment import Appointment, Client
from lib.model.flows import JOIN_LINK, VIRTUAL_APPOINTMENT, plan
from lib.model.snippets import LANGUAGES, snippet

UTC = ZoneInfo("UTC")
APPT = Appointment("Visit O'Neil", datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC),
                   clients=(Client("Seán O'Neil", "sean@example.com"),))


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("flow", [VIRTUAL_APPOINTMENT, JOIN_LINK])
def test_every_snippet_names_every_request_and_never_a_real_token(language, flow):
    steps = plan(APPT, flow)
    text = snippet(language, steps, "https://graph.microsoft.com")
    for spec in steps:
        assert spec.path.split("/")[-1] in text
    assert "GRAPH_TOKEN" in text
    assert "eyJ" not in text


def test_python_snippet_is_valid_python_with_real_booleans():
    text = snippet("Python", plan(APPT, VIRTUAL_APPOINTMENT), "https://graph.microsoft.com")
    ast.parse(text)
    assert "True" in text and "true" not in text.replace("raise_for_status", "")


def test_curl_snippet_escapes_single_quotes_in_bodies():
    text = snippet("cURL", plan(APPT, VIRTUAL_APPOINTMENT), "https://graph.microsoft.com")
    assert "O'\\''Neil" in text


def test_sandbox_snippets_trust_the_sandbox_ca():
    text = snippet("cURL", plan(APPT, JOIN_LINK), "https://127.0.0.1:8765", ca_bundle="/tmp/ca.pem")
    assert "--cacert '/tmp/ca.pem'" in text
    assert "verify='/tmp/ca.pem'" in snippet("Python", plan(APPT, JOIN_LINK), "https://127.0.0.1:8765", "/tmp/ca.pem")
