"""One Graph request as the handlers see it (top-level or a `$batch` item) and its reply."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..directory import User
from .exceptions import BadRequest, UnsupportedMediaType
from .models import Caller

_UNSET = object()


@dataclass
class GraphResponse:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class GraphRequest:
    """Method, version, decoded path segments, query, headers and body of one Graph call."""

    def __init__(self, method: str, version: str, raw_path: str, query_string: str, headers: dict[str, str],
                 body: bytes = b"", *, base_url: str, request_id: str, client_request_id: str,
                 parsed_body: Any = _UNSET):
        self.method = method.upper()
        self.version = version
        segments = [unquote(s) for s in raw_path.split("/")]
        while segments and segments[-1] == "":
            segments.pop()
        while segments and segments[0] == "":
            segments.pop(0)
        self.segments = segments
        self.path = "/".join(segments)
        self.query = dict(parse_qsl(query_string, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.parsed_body = parsed_body
        self.base_url = base_url
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.params: dict[str, str] = {}
        self.caller: Caller | None = None
        self.user: User | None = None
        self.via_me = False

    @property
    def meeting_id(self) -> str:
        return self.params["meeting"]

    def context(self, fragment: str) -> str:
        return f"{self.base_url}/{self.version}/$metadata#{fragment}"

    def json(self) -> dict[str, Any]:
        """The JSON object body: 415 unless application/json, 400 if empty, malformed or not an object."""
        content_type = self.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if self.parsed_body is not _UNSET:
            if content_type and media != "application/json":
                raise UnsupportedMediaType(f"Content type '{content_type}' is not supported; send application/json.")
            value = self.parsed_body
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise BadRequest("Unable to read JSON request payload. Please ensure Content-Type header is "
                                     "set and payload is of valid JSON format.") from None
        else:
            if (content_type or self.body.strip()) and media != "application/json":
                raise UnsupportedMediaType(
                    f"Content type '{content_type or '(none)'}' is not supported for this request body; "
                    "send Content-Type: application/json.")
            if not self.body.strip():
                raise BadRequest("Empty Payload. JSON content expected.")
            try:
                value = json.loads(self.body)
            except ValueError:
                raise BadRequest("Unable to read JSON request payload. Please ensure Content-Type header is set "
                                 "and payload is of valid JSON format.") from None
        if not isinstance(value, dict):
            raise BadRequest("Unable to read JSON request payload: a JSON object is expected.")
        return value
