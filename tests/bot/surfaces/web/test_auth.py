"""The web app's login (bot.surfaces.web.auth): NEWSBOT_AUTH parsed, password guessing locked out."""

from __future__ import annotations

import pytest


def test_parse_auth():
    from bot.surfaces.web.auth import parse_auth
    from ingest.errors import ConfigError

    assert parse_auth(None) is None
    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)


def test_login_guard_locks_out_password_guessing():
    from bot.surfaces.web.auth import LoginGuard

    now = [1000.0]
    guard = LoginGuard("ann", "pw", free_failures=3, base_lockout=2.0, max_lockout=10.0, clock=lambda: now[0])
    assert guard("ann", "pw")
    assert [guard("ann", f"guess{i}") for i in range(3)] == [False, False, False]
    assert not guard("ann", "pw")  # locked: even the right password waits
    now[0] += 2.1
    assert not guard("bob", "pw")  # the lockout ended; a fourth failure doubles it
    now[0] += 2.1
    assert not guard("ann", "pw")
    now[0] += 2.0
    assert guard("ann", "pw")  # after the 4 s lockout; success resets the count
    assert not guard("ann", "x") and guard("ann", "pw")
    for _ in range(20):
        guard("eve", "x")
        now[0] += 11.0  # each lockout is capped at max_lockout
    assert guard.locked_until - now[0] <= 10.0
