"""The error tree. Operations raise these; `api/errors.py` turns them into HTTP in one place.

Each error has a stable `code` (for logs and clients that want more than a status) and the
HTTP status it maps to. Driver errors are wrapped at the storage boundary, never leaked.
"""

from __future__ import annotations

from collections.abc import Mapping


class WaypostError(Exception):
    code = "waypost_error"
    status = 500
    default_message = "Internal error"
    # The interrupt a refused answer was about, when the refusal names one: the audit log
    # records the attempt under it.
    interrupt_id: str | None = None

    def __init__(self, message: str | None = None, *, headers: Mapping[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequest(WaypostError):
    code, status, default_message = "bad_request", 400, "Bad request"


class Unauthorized(WaypostError):
    code, status, default_message = "unauthorized", 401, "Unauthorized"


class Forbidden(WaypostError):
    code, status, default_message = "forbidden", 403, "Forbidden"


class NotFound(WaypostError):
    code, status, default_message = "not_found", 404, "Not found"


class Conflict(WaypostError):
    code, status, default_message = "conflict", 409, "Conflict"


class InvalidInput(WaypostError):
    code, status, default_message = "invalid_input", 422, "Invalid input"


class PayloadTooLarge(WaypostError):
    code, status, default_message = "payload_too_large", 413, "Request body too large"


class StorageError(WaypostError):
    code, status, default_message = "storage_error", 500, "Storage error"


class ConfigError(WaypostError):
    """A broken langgraph.json or graph; the CLI prints it in one line and exits 2."""

    code, status, default_message = "config_error", 500, "Invalid configuration"
