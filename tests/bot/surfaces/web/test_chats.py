"""The chats the web app keeps in each browser (bot.surfaces.web.chats), and their key
(bot.surfaces.web.auth.ui_secret)."""

from __future__ import annotations

from bot.surfaces.web import chats


def test_chats_keep_the_current_one_and_a_bounded_list_of_earlier_ones(result):
    kept = chats.save(None, [result()])
    first = kept["current"]["id"]
    assert chats.save(kept, [result(), result()])["current"]["id"] == first  # same chat, more turns
    for i in range(chats.MAX_EARLIER + 3):
        kept = chats.start_new(chats.save(kept, [result(question=f"Question {i}?")]))
    labels = [label for label, _ in chats.choices(kept)]
    assert len(labels) == chats.MAX_EARLIER and labels[0].startswith("Question 12?")
    chosen = chats.choices(kept)[3][1]
    kept = chats.switch_to(chats.save(kept, [result(question="Now?")]), chosen)
    assert kept["current"]["id"] == chosen and chats.choices(kept)[0][0].startswith("Now?")
    long = chats.save(None, [result(question=f"q{i}") for i in range(chats.MAX_TURNS + 5)])
    assert len(long["current"]["results"]) == chats.MAX_TURNS and long["current"]["results"][0]["question"] == "q5"


def test_chats_from_a_damaged_or_older_browser_value_start_empty():
    for value in (None, "text", {"current": {"id": 1}}, {"current": None, "earlier": "x"}, [1, 2]):
        assert chats.current_results(value) == [] and chats.choices(value) == []


def test_the_chat_key_is_made_once_and_kept_beside_the_store(tmp_path):
    from bot.settings import Settings
    from bot.surfaces.web.auth import ui_secret

    settings = Settings(db=tmp_path / "db", collection="c1")
    first = ui_secret(settings)
    assert ui_secret(settings) == first and len(first) >= 16  # chats survive a restart
    path = settings.ui_secret_path()
    assert path.parent == tmp_path / "db" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert ui_secret(Settings(db=tmp_path / "db", collection="c2")) != first
    assert ui_secret(Settings(db=tmp_path / "db", ui_secret="s" * 20)) == "s" * 20
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert len(ui_secret(Settings(db=blocked / "db"))) >= 16  # cannot be kept: one for this run
