"""Request, response and error types shared by LocalTogether's routes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class ApiError(Exception):
    """Raised by handlers; becomes a JSON error response in Together's ``ErrorData`` shape."""

    def __init__(self, status: int, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def response(self) -> Response:
        kind = {400: "invalid_request_error", 401: "invalid_api_key", 404: "not_found"}.get(
            self.status, "server_error"
        )
        return error_response(self.status, self.message, kind=kind, param=self.param)


def error_response(status: int, message: str, *, kind: str, param: str | None = None) -> Response:
    return Response(
        status, {"error": {"message": message, "type": kind, "param": param, "code": None}}
    )


def iso(wall: float) -> str:
    return (
        datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_iso(value: str, param: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"{param} must be an ISO-8601 timestamp, got {value!r}", param=param
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
