"""Outlook's own error codes (§15), in the Graph error body like every other sandbox error."""
from __future__ import annotations

from ..graph.exceptions import GraphError


class ErrorInvalidRecipients(GraphError):
    status, code = 400, "ErrorInvalidRecipients"


class ErrorInvalidUrlQueryFilter(GraphError):
    status, code = 400, "ErrorInvalidUrlQueryFilter"


class ErrorInvalidRequest(GraphError):
    status, code = 400, "ErrorInvalidRequest"


class ErrorAccessDenied(GraphError):
    status, code = 403, "ErrorAccessDenied"


class ErrorSendAsDenied(GraphError):
    status, code = 403, "ErrorSendAsDenied"


class ErrorInvalidUser(GraphError):
    status, code = 404, "ErrorInvalidUser"


class ErrorItemNotFound(GraphError):
    status, code = 404, "ErrorItemNotFound"


class MailboxConcurrency(GraphError):
    """More than 4 requests at once for one app and mailbox (§15 throttling)."""
    status, code = 429, "TooManyRequests"

    def __init__(self):
        super().__init__("Application is over its MailboxConcurrency limit. At most 4 requests may run at once "
                         "for one app and mailbox; retry after the number of seconds in Retry-After.",
                         headers={"Retry-After": "1"})
