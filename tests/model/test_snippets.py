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


def test_curl_snippet_quotes_bodies_for_the_shell():
    import json
    import shlex

    text = snippet("cURL", plan(APPT, VIRTUAL_APPOINTMENT), "https://graph.microsoft.com")
    words = shlex.split(text, comments=True)
    bodies = [json.loads(words[i + 1]) for i, w in enumerate(words) if w == "--data-binary"]
    assert any("O'Neil" in json.dumps(b) for b in bodies)


def test_sandbox_snippets_trust_the_sandbox_ca():
    text = snippet("cURL", plan(APPT, JOIN_LINK), "https://127.0.0.1:8765", ca_bundle="/tmp/ca.pem")
    assert "--cacert /tmp/ca.pem" in text
    assert "verify='/tmp/ca.pem'" in snippet("Python", plan(APPT, JOIN_LINK), "https://127.0.0.1:8765", "/tmp/ca.pem")


def test_the_sandbox_token_command_prints_a_token(sandbox):
    import subprocess
    import sys
    from pathlib import Path

    from lib.model.snippets import sandbox_token_command

    command = sandbox_token_command(str(sandbox.profile_path), python=sys.executable)
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # a JWT: header.payload.signature
    text = snippet("cURL", plan(APPT, JOIN_LINK), "https://127.0.0.1:8765", token_command=command)
    assert text.startswith("# A token for the sandbox") and f"export GRAPH_TOKEN=$({command})" in text
