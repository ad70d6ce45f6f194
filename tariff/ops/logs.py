"""Logging for operators: JSON lines (one object a line, for a log shipper) or plain text.

Every record carries its time, level, logger and message; what a call or a catalog event
adds (`method`, `code`, `duration_ms`, `catalog_version`, `principal`, ...) is passed as
`extra={"fields": {...}}` and lands as top-level keys, so a query never parses a message.
A record with an exception keeps its traceback (a bug must be findable).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

Format = Literal["json", "text"]
LEVELS = ("debug", "info", "warning", "error")


class JsonLines(logging.Formatter):
    """A record as one JSON object: time (RFC 3339, UTC, ms), level, logger, message, the
    record's `fields`, and `traceback` when it carries an exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class Text(logging.Formatter):
    """Plain lines for a terminal: the message, then the fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def configure(level: str = "info", fmt: Format = "text") -> None:
    """Send every logger to stderr in `fmt` at `level` (replacing earlier handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else Text())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in ("grpc", "alembic"):  # their info lines say nothing an operator acts on
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))


def event(logger: logging.Logger, message: str, **fields: Any) -> None:
    """Log an operator event (install, publish, reload, drain) with its fields."""
    logger.info(message, extra={"fields": fields})
