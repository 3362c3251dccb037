"""The chats the web UI keeps in each reader's browser (Gradio's ``BrowserState``): pure functions.

The kept value is ``{"current": CHAT | None, "earlier": [CHAT, ...]}`` (newest first), a CHAT
being ``{"id", "title", "time", "results"}``. Results are the chain's results with what only the
moment needed left out (the retrieved passages, scores, timings): what remains redraws the chat
and its sources panel and serves as the history of a follow-up. Nothing is kept on the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

#: Earlier chats kept beside the current one.
MAX_EARLIER = 10
#: Turns kept per chat (the newest); a browser gives a site about 5 MB.
MAX_TURNS = 40
#: Result keys kept: enough to redraw an answer, its sources and to ask a follow-up.
KEPT_KEYS = (
    "question",
    "language",
    "answer",
    "confidence",
    "abstained",
    "hedge",
    "citations",
    "answerer",
    "standalone_question",
    "notice",
    "kind",
    "feedback",
)


def kept_result(result: Mapping[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in KEPT_KEYS if k in result}


def empty() -> dict[str, Any]:
    return {"current": None, "earlier": []}


def _valid(chats: Any) -> dict[str, Any]:
    """The kept value, or an empty one if it is not of this shape (an older version, damage)."""
    if not isinstance(chats, Mapping):
        return empty()
    current = chats.get("current")
    earlier = chats.get("earlier")
    return {
        "current": current if _is_chat(current) else None,
        "earlier": [c for c in earlier if _is_chat(c)] if isinstance(earlier, list) else [],
    }


def _is_chat(chat: Any) -> bool:
    return (
        isinstance(chat, Mapping)
        and isinstance(chat.get("id"), str)
        and isinstance(chat.get("results"), list)
        and all(isinstance(r, Mapping) and isinstance(r.get("question"), str) for r in chat["results"])
    )


def title_of(results: Sequence[Mapping[str, Any]]) -> str:
    first = " ".join(str(results[0].get("question") or "").split()) if results else ""
    return first if len(first) <= 60 else first[:59] + "…"


def current_results(chats: Any) -> list[dict[str, Any]]:
    current = _valid(chats)["current"]
    return list(current["results"]) if current else []


def save(chats: Any, results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The kept value with the current chat's results replaced by ``results``."""
    kept = _valid(chats)
    if not results:
        return kept
    current = kept["current"] or {"id": uuid.uuid4().hex[:12], "time": _now()}
    kept["current"] = {
        **current,
        "title": title_of(results),
        "results": [kept_result(r) for r in list(results)[-MAX_TURNS:]],
    }
    return kept


def start_new(chats: Any) -> dict[str, Any]:
    """The current chat moves to the top of the earlier ones; no current chat."""
    kept = _valid(chats)
    if kept["current"]:
        kept["earlier"] = [kept["current"], *kept["earlier"]][:MAX_EARLIER]
    kept["current"] = None
    return kept


def switch_to(chats: Any, chat_id: str | None) -> dict[str, Any]:
    """Chat ``chat_id`` (an earlier one) becomes current; the current one becomes earlier."""
    kept = _valid(chats)
    chosen = next((c for c in kept["earlier"] if c["id"] == chat_id), None)
    if chosen is None:
        return kept
    rest = [c for c in kept["earlier"] if c["id"] != chat_id]
    kept["earlier"] = ([kept["current"]] if kept["current"] else []) + rest
    kept["earlier"] = kept["earlier"][:MAX_EARLIER]
    kept["current"] = chosen
    return kept


def choices(chats: Any) -> list[tuple[str, str]]:
    """(label, id) of the earlier chats, newest first."""
    out = []
    for c in _valid(chats)["earlier"]:
        when = str(c.get("time") or "")[:16].replace("T", " ")
        out.append((f"{c.get('title') or '…'}" + (f" ({when})" if when else ""), c["id"]))
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
