"""Keeping secrets out of logs and messages: bearer tokens, JWTs, client secrets."""

from __future__ import annotations

import logging
import re
import threading
from typing import Iterable
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SECRET_FIELDS = r"client_secret|access_token|refresh_token|id_token|client_assertion|device_code|password"
_FORM_FIELD = re.compile(rf"(?i)\b({_SECRET_FIELDS})=([^&\s\"']+)")
_JSON_FIELD = re.compile(rf"(?i)([\"']({_SECRET_FIELDS})[\"']\s*:\s*)([\"'])(.*?)(?<!\\)\3")
_AUTH_HEADER = re.compile(r"(?i)([\"']?authorization[\"']?\s*[:=]\s*[\"']?)(?!bearer\b)([^\s\"',}]+)")


def register_secret(value: str) -> None:
    """Have ``redact`` remove this exact value (a client secret) wherever it appears."""
    if value and len(value) >= 6:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without bearer tokens, JWTs, secret form/JSON fields or registered secrets."""
    if not text:
        return text
    text = str(text)
    with _SECRETS_LOCK:
        known = set(_SECRETS)
    for secret in sorted(known | {s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _JWT.sub("[redacted-token]", text)
    text = _FORM_FIELD.sub(r"\1=[redacted]", text)
    text = _JSON_FIELD.sub(r"\1\3[redacted]\3", text)
    text = _AUTH_HEADER.sub(r"\1[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts tokens and secrets from every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error handling
            return True
        record.msg, record.args = redact(message), None
        return True


for _name in ("appointment_studio.graph", "appointment_studio.auth"):
    logging.getLogger(_name).addFilter(RedactingFilter())
