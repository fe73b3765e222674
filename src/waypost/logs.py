"""Logging: plain lines for a terminal, or JSON lines for a log pipeline.

Records about a run carry `run_id` and `thread_id` (passed as `extra=`); the JSON format
puts them in fields of their own, so a run can be followed across processes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

# Fields a record may carry about what it concerns; the JSON format lifts them out.
CONTEXT_FIELDS = ("run_id", "thread_id", "attempt", "worker_id")


def run_context(run_id: str, thread_id: str, **more: Any) -> dict[str, Any]:
    """`extra=` for a log call about a run."""
    return {"run_id": run_id, "thread_id": thread_id, **more}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{n}={getattr(record, n)}" for n in CONTEXT_FIELDS if getattr(record, n, None) is not None)
        return f"{line} [{context}]" if context else line


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else _Text("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
