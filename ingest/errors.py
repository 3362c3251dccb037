"""Domain errors whose message is shown to the user as one line."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class for errors the CLI turns into a one-line message (no traceback)."""


class IngestError(NewsbotError):
    """A file could not be turned into articles. The message names the reason."""


class StoreError(NewsbotError):
    """The vector store could not be opened, read, or written."""


class ConfigError(NewsbotError):
    """A setting is missing or wrong; the message says which one."""


def human_size(n: int | None) -> str:
    """A byte count for a message: "512 bytes", "20 MB", "1.5 GB" (binary units), "unknown"."""
    if n is None:
        return "unknown"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type name if it has none), cut to ``limit``."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]
