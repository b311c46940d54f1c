"""Logging for the process: LOG_LEVEL, LOG_FORMAT (text or json, one event a line), secrets
masked in every line, and the update being handled named in each line logged while it is.

`setup_logging` is called once by ``python -m bot``; `redact` is usable anywhere a message
is about to be shown (a start-up error line). `handling` binds the update id and customer
(the inbox lane) to the lines logged inside it; `bind` adds what is learnt later (an order).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

MASK = "***"
QUIET = ("aiogram.event", "aiohttp.access", "alembic", "urllib3", "vk_api", "asyncio")
"""Third-party loggers that speak at INFO about every request: WARNING and up only (but at
LOG_LEVEL=DEBUG, which is for finding out what goes on)."""
NOISE = ("aiosqlite",)
"""Loggers that say nothing useful even when debugging (a line per SQLite call)."""

_PATTERNS = (
    # a Bot API token wherever it appears: /bot123:AAE.../getUpdates, or alone
    re.compile(r"(?<!\d)(\d+):[A-Za-z0-9_-]{30,}"),
    # query parameters: VK long poll's key=..., access_token=..., passwords
    re.compile(r"(?i)((?:[?&]key|access_token|secret_key|client_secret|password)=)[^&\s'\"]+"),
    # the same as dict or JSON items: 'access_token': '...'
    re.compile(
        r"(?i)(['\"](?:access_token|key|secret|secret_key|password)['\"]\s*:\s*['\"])[^'\"]+"
    ),
    # credentials in a URL: scheme://user:password@host
    re.compile(r"(://[^/\s:@]*:)[^@\s/]+(?=@)"),
    # Authorization: Basic/Bearer ...
    re.compile(r"(?i)(authorization['\"]?\s*[=:]\s*['\"]?(?:basic|bearer)\s+)[A-Za-z0-9+/=._-]+"),
)

_secrets: list[str] = []
_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "log_context", default=None
)


def add_secrets(values: Iterable[str]) -> None:
    """Values masked wherever they would appear (tokens, keys, webhook secrets)."""
    for value in values:
        if value and len(value) >= 4 and value not in _secrets:
            _secrets.append(value)
    _secrets.sort(key=len, reverse=True)  # a longer secret that holds a shorter one first


def redact(text: str) -> str:
    """``text`` with every known secret and every token-looking part masked."""
    for value in _secrets:
        if value in text:
            text = text.replace(value, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}:{MASK}", text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, its arguments and its traceback, before any handler
    formats the record (installed on the handlers, so every logger's records pass it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it as it is rather than lose it
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the bound context, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("update_id", "customer", "order", "source"):
            value = getattr(record, key, None)
            if value is not None:
                event[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            event["traceback"] = record.exc_text
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [update=… customer=…]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        bound = [
            f"{key}={getattr(record, key)}"
            for key in ("update_id", "customer", "order")
            if getattr(record, key, None) is not None
        ]
        return f"{line} [{' '.join(bound)}]" if bound else line


def setup_logging(level: str = "INFO", form: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send every logger to stderr at ``level`` in ``form`` (text or json), secrets masked."""
    add_secrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in QUIET:
        logging.getLogger(name).setLevel(quiet if level != "DEBUG" else logging.DEBUG)
    for name in NOISE:
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    warnings.simplefilter("default" if level == "DEBUG" else "ignore", DeprecationWarning)


@contextlib.contextmanager
def handling(update_id: str, customer: str, source: str) -> Iterator[None]:
    """Name this update (and its sender) in every line logged inside."""
    with naming(update_id=update_id, customer=customer, source=source):
        yield


@contextlib.contextmanager
def naming(**values: object) -> Iterator[None]:
    """Name these (an update, a customer, an order...) in every line logged inside."""
    token = _context.set({key: value for key, value in values.items() if value is not None})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**values: object) -> None:
    """Add to what the lines of the update being handled name (``order=12``)."""
    current = _context.get()
    if current is not None:
        current.update(values)
