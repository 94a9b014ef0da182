"""Email templates: a subject and a body (plain text or HTML) with the contract's placeholders.

Values come from spreadsheets anyone may have edited, so nothing from a cell becomes markup: in an
HTML body every value is escaped, the only link made is the Graph-issued join link, and the subject
and recipient names never carry line breaks (a header injection).
"""
from __future__ import annotations

import html
import json
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

PLACEHOLDERS = ("client_name", "subject", "date", "time", "time_zone", "join_link", "organizer_name")
TEXT, HTML = "text", "html"
_TAG = re.compile(r"<[A-Za-z/!][^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]")
# Hosts that issue Teams join links (Global and US Government clouds); anything else is shown as text.
JOIN_HOSTS = ("teams.microsoft.com", "visit.teams.microsoft.com", "teams.microsoft.us", "gov.teams.microsoft.us",
              "dod.teams.microsoft.us")


class TemplateError(ValueError):
    """A template that cannot be used; the message names the file, the part and the fix."""


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    format: str = HTML
    name: str = "default"

    def __post_init__(self):
        if self.format not in (TEXT, HTML):
            raise TemplateError(f"{self.name}: format must be \"text\" or \"html\", not {self.format!r}.")
        if not self.subject.strip():
            raise TemplateError(f"{self.name}: the subject is empty. Write a subject line.")
        for part, text in (("subject", self.subject), ("body", self.body)):
            check_placeholders(text, f"{self.name}, {part}")

    def render(self, values: dict[str, str]) -> "RenderedEmail":
        """Subject (one line) and body with every value escaped for the body's format."""
        subject = one_line(_fill(self.subject, {k: one_line(v) for k, v in values.items()}, markup=False))
        if self.format == TEXT:
            return RenderedEmail(subject, _fill(self.body, values, markup=False), TEXT)
        return RenderedEmail(subject, _fill(self.body, values, markup=True), HTML)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    content_type: str     # "text" or "html"

    def graph_body(self) -> dict:
        """The message's `body` as Graph takes it."""
        return {"contentType": "HTML" if self.content_type == HTML else "Text", "content": self.body}




def check_placeholders(text: str, where: str) -> None:
    """Only the contract's placeholders, written plainly as {name}; `{{` and `}}` are literal braces."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc} (write {{{{ and }}}} for a literal brace).") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise TemplateError(f"{where}: unknown placeholder {shown}. Use only "
                                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                                + " (write {{ and }} for a literal brace).")


def load_template(path: str | Path) -> Template:
    """A template from a TOML or JSON file with `subject`, `body` and optionally `format` (text|html)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror or exc}). Check the --template path.") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8-sig"))
        else:
            data = tomllib.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise TemplateError(f"{path.name}: not valid {kind}: {exc}.") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path.name}: expected an object with subject and body.")
    unknown = sorted(set(data) - {"subject", "body", "format"})
    if unknown:
        raise TemplateError(f"{path.name}: unknown key(s) {', '.join(unknown)}; a template has subject, body and "
                            "optionally format (\"text\" or \"html\").")
    for key in ("subject", "body"):
        if not isinstance(data.get(key), str):
            raise TemplateError(f"{path.name}: {key} is missing or not text.")
    body = data["body"]
    fmt = data.get("format") or (HTML if _TAG.search(body) else TEXT)
    return Template(subject=data["subject"], body=body, format=str(fmt).lower(), name=path.name)


def one_line(value: str) -> str:
    """No line breaks or control characters: safe in a subject or a recipient's name."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def is_join_link(url: str) -> bool:
    """A Teams join link as Graph issues them (https on a Teams host), the only kind made clickable."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in JOIN_HOSTS) \
        and not any(c in url for c in "\"'<> \r\n")


def _fill(template: str, values: dict[str, str], *, markup: bool) -> str:
    out, inside_tag = [], False
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if markup:
            inside_tag = _inside_tag(literal, inside_tag)
        if name is None:
            continue
        value = str(values.get(name, ""))
        if not markup:
            out.append(value)
        elif name == "join_link" and not inside_tag and is_join_link(value):
            link = html.escape(value, quote=True)
            out.append(f'<a href="{link}">{link}</a>')
        elif name == "join_link" and inside_tag and not is_join_link(value):
            out.append("")           # never put a link Graph did not issue into an attribute
        else:
            out.append(html.escape(value, quote=True))
    return "".join(out)


def _inside_tag(literal: str, inside: bool) -> bool:
    for char in literal:
        if char == "<":
            inside = True
        elif char == ">":
            inside = False
    return inside


DEFAULT = Template(
    subject="Your appointment: {subject} on {date} at {time}",
    body=("<p>Hello {client_name},</p>\n"
          "<p>your appointment <b>{subject}</b> with {organizer_name} is on <b>{date}</b> at <b>{time}</b> "
          "({time_zone}).</p>\n"
          "<p>At that time, join from your browser or the Teams app with your own link:<br>{join_link}</p>\n"
          "<p>The attached invitation adds the appointment to your calendar.</p>\n"
          "<p>Kind regards,<br>{organizer_name}</p>\n"),
    format=HTML, name="default template")
