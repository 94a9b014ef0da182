"""Code snippets a developer can copy: the same requests the app sends, as cURL, Python, PowerShell, .http."""

from __future__ import annotations

import json
import pprint
import shlex

from lib.model.flows import MEETING_ID, RequestSpec

LANGUAGES = {"cURL": "bash", "Python": "python", "PowerShell": "powershell", ".http": "http"}

_RESULT_KEYS = {  # where each step's interesting value is in its response
    "virtualAppointment": "appointmentClientJoinWebUrl",
    "joinLink": "value",
    "booking": "id",
}


def snippet(language: str, steps: list[RequestSpec], graph_base_url: str, ca_bundle: str = "",
            token_command: str = "") -> str:
    """The flow ``steps`` as a runnable snippet in ``language`` (a key of LANGUAGES).

    ``token_command`` (a shell command printing an access token, see ``sandbox_token_command``) is
    written at the top, ready to copy, so the snippet runs as it is.
    """
    makers = {"cURL": _curl, "Python": _python, "PowerShell": _powershell, ".http": _http}
    if language not in makers:
        raise ValueError(f"no snippet for {language!r}")
    text = makers[language](steps, graph_base_url.rstrip("/"), ca_bundle)
    if not token_command:
        return text
    how = {"cURL": f"export GRAPH_TOKEN=$({token_command})", "Python": f"export GRAPH_TOKEN=$({token_command})",
           "PowerShell": f"$env:GRAPH_TOKEN = ({token_command})", ".http": f"echo GRAPH_TOKEN=$({token_command}) > .env"}
    comment = "//" if language == ".http" else "#"
    return (f"{comment} A token for the sandbox: run this in the Appointment Studio folder first (a token lasts an hour)\n"
            f"{comment} {how[language]}\n" + text)


def sandbox_token_command(profile_path: str, python: str = "python") -> str:
    """A shell command that prints an access token for a connection profile (the sandbox signs in by itself)."""
    code = ("import sys; from lib.graph.profile import Profile; from lib.graph.signin import token_provider_for; "
            "print(token_provider_for(Profile.load(sys.argv[1]), "
            "on_device_code=lambda f: print(f['message'], file=sys.stderr)).get_token())")
    return f"{python} -c {shlex.quote(code)} {shlex.quote(str(profile_path))}"


def _shell_path(path: str, variable: str, escape: str) -> str:
    """A path inside a double-quoted shell string: ``$``, quotes and escapes are literal, the meeting id a variable."""
    for ch in (escape, "$", '"') + (("`",) if escape == "\\" else ()):
        path = path.replace(ch, escape + ch)
    return path.replace(MEETING_ID.replace("$", escape + "$"), variable)


def _body(spec: RequestSpec) -> str:
    return json.dumps(spec.body, indent=2, ensure_ascii=False)


def _curl(steps, base, ca):
    tls = f" --cacert {shlex.quote(ca)}" if ca else ""
    lines = ["# Needs curl and jq. Put an access token in GRAPH_TOKEN first.", f"GRAPH={shlex.quote(base)}"]
    for spec in steps:
        url = "$GRAPH/" + spec.version + _shell_path(spec.path, "$MEETING_ID", "\\")
        lines.append(f"\n# {spec.title or spec.step}")
        cmd = (f'curl -sS{tls} -X {spec.method} "{url}" \\\n  -H "Authorization: Bearer $GRAPH_TOKEN"'
               f' \\\n  -H "client-request-id: $(uuidgen)"')
        if spec.body is not None:
            cmd += f" \\\n  -H 'Content-Type: application/json' \\\n  --data-binary {shlex.quote(_body(spec))}"
        if spec.step == "meeting":
            lines.append(f"{cmd} > meeting.json")
            lines.append("MEETING_ID=$(jq -r '.id | @uri' meeting.json)")
        else:
            lines.append(cmd)
    return "\n".join(lines) + "\n"


def _python(steps, base, ca):
    verify = f", verify={ca!r}" if ca else ""
    lines = ["import os", "import uuid", "from urllib.parse import quote", "", "import requests", "",
             f"GRAPH = {base!r}", "session = requests.Session()",
             'session.headers["Authorization"] = "Bearer " + os.environ["GRAPH_TOKEN"]', ""]
    for spec in steps:
        url = _python_url(spec)
        lines.append(f"# {spec.title or spec.step}")
        args = f'{url}, headers={{"client-request-id": str(uuid.uuid4())}}'
        if spec.body is not None:
            args += f", json={_python_literal(spec.body)}"
        lines.append(f"response = session.request({spec.method!r}, {args}{verify}, timeout=60)")
        lines.append("response.raise_for_status()")
        if spec.step == "meeting":
            lines.append('meeting_id = quote(response.json()["id"], safe="")')
        elif spec.step in _RESULT_KEYS:
            lines.append(f'print(response.json()["{_RESULT_KEYS[spec.step]}"])')
        lines.append("")
    return "\n".join(lines)


def _python_url(spec: RequestSpec) -> str:
    """The URL as a Python expression: a plain string, or an f-string when it needs the meeting id."""
    if MEETING_ID not in spec.path:
        return f"GRAPH + {'/' + spec.version + spec.path!r}"
    head, _, tail = spec.path.partition(MEETING_ID)
    literal = (lambda text: text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}"))
    return f'f"{{GRAPH}}/{spec.version}{literal(head)}{{meeting_id}}{literal(tail)}"'


def _python_literal(value) -> str:
    return pprint.pformat(value, indent=1, width=100, sort_dicts=False)


def _powershell(steps, base, ca):
    lines = ["# Put an access token in $env:GRAPH_TOKEN first.", f"$graph = '{base}'",
             '$headers = @{ Authorization = "Bearer $env:GRAPH_TOKEN" }']
    if ca:
        lines.append(f"# The sandbox's certificate authority must be trusted: {ca}")
    for spec in steps:
        url = "$graph/" + spec.version + _shell_path(spec.path, "$meetingId", "`")
        lines.append(f"\n# {spec.title or spec.step}")
        cmd = f'Invoke-RestMethod -Method {spec.method.title()} -Uri "{url}" -Headers $headers'
        if spec.body is not None:
            cmd = f"$body = @'\n{_body(spec)}\n'@\n" + cmd + " -ContentType 'application/json' -Body $body"
        if spec.step == "meeting":
            lines.append(f"$meeting = {cmd}" if spec.body is None else cmd.replace("Invoke-RestMethod", "$meeting = Invoke-RestMethod", 1))
            lines.append("$meetingId = [uri]::EscapeDataString($meeting.id)")
        else:
            lines.append(cmd)
    return "\n".join(lines) + "\n"


def _http(steps, base, ca):
    lines = [f"@graph = {base}", "@token = {{$dotenv GRAPH_TOKEN}}"]
    for spec in steps:
        path = spec.path.replace(MEETING_ID, "{{meeting.response.body.id}}")
        lines.append("\n###")
        lines.append(f"# {spec.title or spec.step}")
        if spec.step == "meeting":
            lines.append("# @name meeting")
        lines.append(f"{spec.method} {{{{graph}}}}/{spec.version}{path}")
        lines.append("Authorization: Bearer {{token}}")
        if spec.body is not None:
            lines.append("Content-Type: application/json")
            lines.append("")
            lines.append(_body(spec))
    return "\n".join(lines) + "\n"
