"""The refusals of the Bot API, worded as Telegram words them.

aiogram picks its exception class from the HTTP status and from
``parameters`` (retry_after, migrate_to_chat_id), so both must match the real
service for a test to see the same exception as production.
"""

from __future__ import annotations

from typing import Any

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
WRONG_FILE = "wrong file identifier/HTTP URL specified"


class ApiError(Exception):
    """A refusal: becomes ``{"ok": false, "error_code", "description", "parameters"}``."""

    def __init__(self, code: int, description: str, **parameters: int) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(message: str, **parameters: int) -> ApiError:
    return ApiError(400, f"Bad Request: {message}", **parameters)


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def conflict(message: str) -> ApiError:
    return ApiError(409, f"Conflict: {message}")


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")
