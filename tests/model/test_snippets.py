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


# -- any RequestSpec: Bookings, mail, queries and placeholders (issues 11 and 13) -------------------------
def test_paths_with_dollars_quotes_and_braces_stay_literal_in_every_language():
    import json
    import re
    import subprocess

    from lib.model.flows import MEETING_ID, RequestSpec

    odd = [RequestSpec("q", "GET", "v1.0", "/me/messages?$filter=subject eq 'a\"b'&$top=1"),
           RequestSpec("send", "POST", "v1.0", "/me/messages/{messageId}/send"),
           RequestSpec("x", "GET", "v1.0", f"/me/onlineMeetings/{MEETING_ID}?$select=id")]
    curl = snippet("cURL", odd, "https://graph.microsoft.com")
    urls = re.findall(r'-X \w+ ("[^\n]*") \\', curl)
    shown = subprocess.run(["bash", "-c", "GRAPH=G; MEETING_ID=M; printf '%s\\n' " + " ".join(urls)],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    assert shown == ["G/v1.0/me/messages?$filter=subject eq 'a\"b'&$top=1", "G/v1.0/me/messages/{messageId}/send",
                     "G/v1.0/me/onlineMeetings/M?$select=id"]  # bash keeps $filter as written
    python = snippet("Python", odd, "https://graph.microsoft.com")
    tree = ast.parse(python)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert "/v1.0/me/messages/{messageId}/send" in strings and "?$select=id" in strings
    power = snippet("PowerShell", odd, "https://graph.microsoft.com")
    assert '"$graph/v1.0/me/messages?`$filter=subject eq \'a`"b\'&`$top=1"' in power
    assert '"$graph/v1.0/me/onlineMeetings/$meetingId?`$select=id"' in power
    assert json.dumps  # the .http form needs no escaping: {{ }} are its only placeholders
    assert "GET {{graph}}/v1.0/me/messages?$filter=" in snippet(".http", odd, "https://graph.microsoft.com")


def _bookings_and_mail_specs(sandbox, tag: str):
    """A booking in the sandbox's business and the email that tells its customer, as the designer shows them."""
    import random
    from datetime import timedelta

    from lib.model.bookings import BookingsTarget, create_spec
    from lib.notify import ics
    from lib.notify.notifier import Target
    from lib.notify.preview import send_mail_spec
    from lib.notify.templates import DEFAULT

    business = sandbox.bookings()["value"][0]
    service = business["services"][0]
    zone = ZoneInfo("America/New_York")
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    # A Monday one to 40 weeks ahead: inside the business's 365 days in advance, in its opening hours.
    day = today + timedelta(days=7 - today.weekday() + 7 * random.randrange(40))
    start = day.replace(hour=8) + timedelta(minutes=30 * random.randrange(18))
    customer = Client(f"Seán O'Neil {tag}", f"{tag.lower()}@example.com", "+12125550142")
    appt = Appointment(f"Visit {tag}", start, start + timedelta(minutes=30), time_zone="America/New_York",
                       clients=(customer,))
    target = BookingsTarget(business["id"], service["id"], service["displayName"], 30)
    mail = send_mail_spec(DEFAULT, Target(tag, appt, "https://visit.teams.microsoft.com/x"), customer,
                          ics.Person("Adele Vance", "adele.vance@contoso.onmicrosoft.com"),
                          "/users/9d892f4c-f843-4fdc-9e82-c790f1a0f844")
    return [create_spec(appt, target), mail], business["id"]


@pytest.mark.parametrize("language", ["cURL", "Python"])
def test_the_bookings_and_mail_snippets_run_as_written_against_the_sandbox(sandbox, tmp_path, language):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from lib.graph.profile import Profile
    from lib.model.snippets import sandbox_token_command
    from tests.helpers import unique_tag

    tag = unique_tag("SNP")
    steps, business = _bookings_and_mail_specs(sandbox, tag)
    profile = Profile.load(sandbox.app_profile_path)
    text = snippet(language, steps, profile.graph_base_url, profile.ca_bundle,
                   token_command=sandbox_token_command(str(sandbox.app_profile_path), python=sys.executable))
    script = tmp_path / ("snippet.sh" if language == "cURL" else "snippet.py")
    token_line = text.splitlines()[1].lstrip("# ")  # the snippet's own "export GRAPH_TOKEN=$(...)"
    script.write_text(text)
    run = (f"set -e; {token_line}; bash {script}" if language == "cURL"
           else f"set -e; {token_line}; {sys.executable} {script}")
    done = subprocess.run(["bash", "-c", run], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})
    assert done.returncode == 0, done.stderr + done.stdout
    booked = [a for b in sandbox.bookings()["value"] if b["id"] == business for a in b["appointments"]
              if any(c.get("emailAddress") == f"{tag.lower()}@example.com" for c in a.get("customers") or [])]
    assert len(booked) == 1 and booked[0]["additionalInformation"] == f"Visit {tag}"
    to = [m for m in sandbox.mail() if f"{tag.lower()}@example.com" in str(m.get("toRecipients"))]
    assert any(m.get("subject", "").startswith("Your appointment: Visit") for m in to)
