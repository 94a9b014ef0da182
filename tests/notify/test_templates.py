"""Email templates: the contract's placeholders only, and nothing from a cell ever becomes markup."""
from __future__ import annotations

import json

import pytest

from lib.notify.templates import DEFAULT, HTML, TEXT, Template, TemplateError, is_join_link, load_template

LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_x@thread.v2"
VALUES = {"client_name": "Maria Garcia", "subject": "Consultation", "date": "Friday 1 March 2030",
          "time": "09:00–09:30", "time_zone": "Europe/Berlin", "join_link": LINK, "organizer_name": "Adele Vance"}


def test_the_default_template_says_who_when_and_gives_the_clients_own_link():
    email = DEFAULT.render(VALUES)
    assert email.subject == "Your appointment: Consultation on Friday 1 March 2030 at 09:00–09:30"
    assert email.content_type == HTML
    for text in ("Hello Maria Garcia", "Adele Vance", "Friday 1 March 2030", "09:00–09:30", "Europe/Berlin"):
        assert text in email.body
    assert f'<a href="{LINK}">' in email.body.replace("&amp;", "&")


@pytest.mark.parametrize("text", ["Hi {name}", "Hi {client_name.upper}", "Hi {client_name!r}", "Hi {date:%Y}",
                                  "Hi {0}", "Hi {}", "Hi {client_name"])
def test_an_unknown_or_decorated_placeholder_is_refused(text):
    with pytest.raises(TemplateError, match="placeholder|brace"):
        Template(subject="Appointment", body=text)
    with pytest.raises(TemplateError):
        Template(subject=text, body="Body")


def test_literal_braces_are_written_doubled():
    email = Template(subject="Hi", body="Use {{curly}} for {client_name}", format=TEXT).render(VALUES)
    assert email.body == "Use {curly} for Maria Garcia"


def test_cell_values_are_escaped_in_html_and_never_become_links():
    hostile = {**VALUES, "client_name": "<script>alert(1)</script>",
               "subject": '<a href="https://evil.example/login">Click</a>'}
    email = DEFAULT.render(hostile)
    assert "<script>" not in email.body and "&lt;script&gt;alert(1)&lt;/script&gt;" in email.body
    assert "evil.example" in email.body and '<a href="https://evil.example' not in email.body
    assert email.body.count("<a ") == 1


def test_only_a_graph_issued_join_link_becomes_a_link():
    assert is_join_link(LINK) and is_join_link("https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0")
    for bad in ("https://evil.example/?teams.microsoft.com", "http://teams.microsoft.com/x",
                'https://teams.microsoft.com/x"onmouseover="alert(1)', "javascript:alert(1)",
                "https://teams.microsoft.com.evil.example/x"):
        assert not is_join_link(bad)
        email = DEFAULT.render({**VALUES, "join_link": bad})
        assert "<a " not in email.body


def test_a_join_link_inside_an_attribute_is_only_the_escaped_url():
    template = Template(subject="Hi", body='<a class="button" href="{join_link}">Join</a>', format=HTML)
    assert template.render(VALUES).body == f'<a class="button" href="{LINK}">Join</a>'.replace("&", "&amp;")
    assert template.render({**VALUES, "join_link": "javascript:alert(1)"}).body == \
        '<a class="button" href="">Join</a>'


def test_subjects_never_carry_line_breaks():
    email = DEFAULT.render({**VALUES, "subject": "Visit\r\nBcc: everyone@example.com"})
    assert "\r" not in email.subject and "\n" not in email.subject
    assert "Visit Bcc: everyone@example.com" in email.subject


def test_plain_text_templates_stay_plain(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('subject = "Your visit {date}"\nbody = """Hello {client_name},\njoin: {join_link}"""\n')
    template = load_template(path)
    assert template.format == TEXT
    email = template.render({**VALUES, "client_name": "<b>Bo</b>"})
    assert email.body == f"Hello <b>Bo</b>,\njoin: {LINK}" and email.graph_body()["contentType"] == "Text"


def test_json_and_toml_files_load_and_an_unknown_placeholder_in_a_file_is_refused(tmp_path):
    good = tmp_path / "t.json"
    good.write_text(json.dumps({"subject": "{subject}", "body": "<p>{join_link}</p>"}))
    assert load_template(good).format == HTML
    bad = tmp_path / "bad.toml"
    bad.write_text('subject = "Hi {client}"\nbody = "x"\n')
    with pytest.raises(TemplateError, match=r"bad.toml, subject: unknown placeholder \{client\}"):
        load_template(bad)


@pytest.mark.parametrize("content, message", [("subject = 1\nbody = 'x'", "subject is missing or not text"),
                                              ("subject = 'a'\nbody = 'b'\ncolour = 'red'", "unknown key"),
                                              ("subject = ", "not valid TOML")])
def test_broken_template_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "t.toml"
    path.write_text(content)
    with pytest.raises(TemplateError, match=message):
        load_template(path)
