"""Errors in the shape the YooKassa API answers them, so the SDK raises its own exceptions."""

from __future__ import annotations

import uuid
from typing import Any


class ApiFailure(Exception):
    """A refusal the emulator answers with `{"type": "error", ...}` and an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        parameter: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "error",
            "id": str(uuid.uuid4()),
            "code": self.code,
            "description": self.description,
        }
        if self.parameter is not None:
            body["parameter"] = self.parameter
        body.update(self.extra)
        return body


def invalid_request(description: str, parameter: str | None = None) -> ApiFailure:
    """400 invalid_request: the SDK turns it into BadRequestError."""
    return ApiFailure(400, "invalid_request", description, parameter)


def not_found(description: str = "Object not found") -> ApiFailure:
    return ApiFailure(404, "not_found", description)


def invalid_credentials() -> ApiFailure:
    return ApiFailure(
        401,
        "invalid_credentials",
        "Login or password is incorrect. Check the shopId and the secret key.",
    )
