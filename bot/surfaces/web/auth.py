"""Who may use the web app: the session secret, the NEWSBOT_AUTH users, and a guard against password guessing."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

logger = logging.getLogger(__name__)


def ui_secret(settings: Settings) -> str:
    """The key of the chats kept in browsers: made once and kept with the store, so chats survive
    a restart; a fresh one for this run if it cannot be kept (chats then last until a restart)."""
    if getattr(settings, "ui_secret", None):
        return str(settings.ui_secret)
    path = Path(settings.ui_secret_path())
    try:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 16:
            return secret
    except (OSError, UnicodeDecodeError):
        pass
    secret = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secret)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip() or secret
    except OSError as exc:
        logger.warning("cannot keep the chat key in %s (%s): chats in browsers last until a restart", path, exc)
    return secret


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``NEWSBOT_AUTH=user:password`` → ``(user, password)``."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("NEWSBOT_AUTH must be user:password (both non-empty)")
    return user, password


class LoginGuard:
    """The web UI's login check (``NEWSBOT_AUTH``), with a lockout against password guessing.

    After ``free_failures`` wrong logins in a row, every login (right or wrong) is refused for
    ``base_lockout`` seconds, doubling with each further failure up to ``max_lockout``; a right
    login resets the count. Without it a script tried 200 passwords in 1.2 s. The lockout is for
    the whole server, not per address (Gradio does not pass the client to the check): under an
    attack the real user waits too, at most ``max_lockout`` after it stops.
    """

    def __init__(
        self,
        user: str,
        password: str,
        *,
        free_failures: int = 5,
        base_lockout: float = 2.0,
        max_lockout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.free_failures, self.base_lockout, self.max_lockout = free_failures, base_lockout, max_lockout
        self._clock = clock
        self._lock = threading.Lock()
        self.failures = 0
        self.locked_until = 0.0

    def __call__(self, username: str, password: str) -> bool:
        with self._lock:
            now = self._clock()
            if now < self.locked_until:
                return False
            ok = hmac.compare_digest(str(username).encode(), self._user) & hmac.compare_digest(
                str(password).encode(), self._password
            )
            if ok:
                self.failures = 0
                return True
            self.failures += 1
            if self.failures >= self.free_failures:
                wait = self.base_lockout * 2 ** (self.failures - self.free_failures)
                self.locked_until = now + min(self.max_lockout, wait)
                logger.warning("%d failed logins in a row: logins refused for %.0f s", self.failures, min(self.max_lockout, wait))
            return False
