"""Secrets never reach logs or messages: bearer tokens, JWTs, secret fields, registered secrets."""

from __future__ import annotations

import logging

from lib.graph.redaction import RedactingFilter, redact, register_secret


def test_redact_removes_bearer_tokens_jwts_and_secret_fields():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = (f"Authorization: Bearer {jwt} token={jwt} client_secret=abc123&scope=x "
            '{"access_token": "tok-value", "refresh_token": "rt-value", "code": "BadRequest"}')
    out = redact(text)
    for secret in (jwt, "abc123", "tok-value", "rt-value"):
        assert secret not in out
    assert "BadRequest" in out and "scope=x" in out


def test_redact_removes_registered_secrets_and_the_filter_cleans_log_records():
    register_secret("Sup3r-Secret-Value")
    record = logging.LogRecord("appointment_studio.graph", logging.DEBUG, __file__, 1, "secret is %s", ("Sup3r-Secret-Value",),
                               None)
    RedactingFilter().filter(record)
    assert "Sup3r-Secret-Value" not in record.getMessage()


