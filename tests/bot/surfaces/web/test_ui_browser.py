# Over 400 lines: one Chromium and one served app are started per module; every browser case shares them.
"""End-to-end: `newsbot serve` in a real Chromium (Debian's, never a downloaded one) via Playwright.

The server runs as a subprocess on a free port of 127.0.0.1 with a temporary store holding the seed
article (.txt) and two articles written here (.html, .pdf), ingested through the CLI with the real
embedder. A hostile article is uploaded through the Corpus tab and must show as text, run nothing,
and not become a link, in the chat, the sources panel and the article view.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import SEED, free_port
from synthetic import make_pdf

CHROMIUM = Path("/usr/bin/chromium")


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not SEED.is_file(), reason="../shared (test data) is not beside the repo"),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed at /usr/bin/chromium (run `make browser`)",
    ),
]

HOSTILE_ARTICLE = """---
title: "<script>alert(1)</script> Portville harbour <img src=x onerror=alert(2)>"
source: "<b onmouseover=alert(6)>Evil Wire</b>"
url: "javascript:alert(3)"
date: 2024-06-04
---
The Portville harbour authority announced the plan for a new ferry terminal on Monday.

The new ferry terminal in Portville will open in September <img src=x onerror=alert(2)> after two years of work <script>alert(1)</script>.

Officials said the ferry terminal cost forty million dollars, paid by the port.
"""

HTML_ARTICLE = """<!doctype html><html><head><title>Glass museum opens in Varrow</title>
<meta name="date" content="2024-04-11"><meta name="author" content="Valley Post"></head>
<body><nav>Home | Sport | Weather</nav><article><h1>Glass museum opens in Varrow</h1>
<p>The town of Varrow opened a museum of glass on Saturday.</p>
<p>The museum holds four hundred pieces of blown glass, most of them made in the old furnaces of the town.</p>
<p>Entry is free for children under twelve.</p></article></body></html>
"""

PDF_LINES = [
    "Bridge repairs close the Ostmark crossing",
    "12 May 2024",
    "The Ostmark bridge will close for repairs for six weeks from Monday.",
    "Engineers found cracks in two of its steel girders in April.",
    "Buses will carry pedestrians across the river during the works.",
]

# Appear in the answer/sources of the hostile article exactly as written (escaped, not parsed).
HOSTILE_MARKUP = ["<img src=x onerror=alert(2)>", "<script>alert(1)</script>"]


def _newsbot() -> list[str]:
    script = Path(sys.executable).with_name("newsbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"newsbot serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"newsbot serve did not answer at {url} within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`newsbot serve` on a free port with a temp store holding the seed article."""
    tmp = tmp_path_factory.mktemp("ui")
    env = dict(os.environ)
    env.update(
        NEWSBOT_DB=str(tmp / "db"),
        NEWSBOT_COLLECTION="uitest",
        GRADIO_TEMP_DIR=str(tmp / "gradio"),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    for key in ("NEWSBOT_AUTH", "NEWSBOT_CHROMA_URL", "NEWSBOT_LLM_BASE_URL", "NEWSBOT_ANSWERER"):
        env.pop(key, None)
    (tmp / "museum.html").write_text(HTML_ARTICLE, encoding="utf-8")
    (tmp / "bridge.pdf").write_bytes(make_pdf([PDF_LINES], title=PDF_LINES[0]))
    done = subprocess.run(
        [*_newsbot(), "ingest", "--quiet", str(SEED), str(tmp / "museum.html"), str(tmp / "bridge.pdf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    port = free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*_newsbot(), "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, proc, log)
        yield {"url": url, "tmp": tmp, "log": log, "feedback": tmp / "db" / "feedback-uitest.jsonl"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.goto(server["url"])
    wait_until_loaded(pg)
    yield pg
    context.close()


def wait_until_loaded(page) -> None:
    """The page is up and its load events ran (the corpus shows its example questions)."""
    page.wait_for_selector("#nb-question textarea", timeout=60_000)
    page.wait_for_selector("#nb-examples", state="visible", timeout=60_000)


def ask(page, question: str):
    """Type a question, wait for the final answer; return the last bot message locator."""
    from playwright.sync_api import expect

    before = page.locator("#nb-chat .nb-answer, #nb-chat .nb-notice, #nb-chat .nb-error").count()
    page.fill("#nb-question textarea", question)
    page.press("#nb-question textarea", "Enter")
    final = page.locator("#nb-chat .nb-answer, #nb-chat .nb-notice, #nb-chat .nb-error")
    expect(final).to_have_count(before + 1, timeout=120_000)
    return final.last


def assert_answered(page, answer) -> None:
    classes = answer.get_attribute("class") or ""
    assert "nb-answer" in classes, f"no answer, the chat shows: {answer.inner_text()!r}"
    links = answer.locator("a.nb-cite")
    assert links.count() >= 1, f"the chain abstained or cited nothing: {answer.inner_text()!r}"


def click_citation(page, answer, n: int = 1):
    """Click [n] in the answer; return the highlighted sentence of that citation in the panel."""
    from playwright.sync_api import expect

    link = answer.locator("a.nb-cite", has_text=f"[{n}]").first
    href = link.get_attribute("href")
    assert href and href.startswith("#nb-cite-")
    link.click()
    source = page.locator(f"#nb-sources-panel {href}")
    expect(source).to_have_class("nb-source nb-active", timeout=5_000)
    mark = source.locator("mark.nb-quote")
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport(timeout=5_000)
    return source, mark


def test_seed_question_answers_with_clickable_highlighted_citation(page, server):
    from playwright.sync_api import expect

    answer = ask(page, "Who did Yevkurov meet in Benghazi?")
    assert_answered(page, answer)
    assert page.dialogs == []
    source, mark = click_citation(page, answer, 1)

    quote = " ".join(mark.inner_text().split())
    # The supporting sentence: Yevkurov in Benghazi with Haftar (the one quoted sentence is the
    # one about his reception there by Haftar's son, or the one about meeting Khalifa Haftar).
    assert "حفتر" in quote and "بنغازي" in quote, quote
    # The question's names are marked in the Arabic quote (Yevkurov ↔ يفكيروف, Benghazi ↔ بنغازي).
    marked = [" ".join(t.split()) for t in mark.locator("b.nb-term").all_inner_texts()]
    assert "بنغازي" in marked, marked
    head = source.locator(".nb-source-head")
    expect(head).to_contain_text("[1]")
    expect(source.locator(".nb-meta")).to_contain_text("2024-06-03")
    # Arabic passage: the browser lays it out right to left.
    assert source.locator(".nb-passage").evaluate("e => getComputedStyle(e).direction") == "rtl"
    # English question: English interface strings around the answer.
    expect(page.locator("#nb-sources-panel .nb-turn-head").first).to_contain_text("Sources")

    shot = server["tmp"] / "answered-chat.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_low_confidence_answer_is_shown_hedged(page, server):
    """A question the seed article is about but does not answer (it never says when anyone was
    born: no sentence can state it, so the answer can't be confident) shows the closest sentence
    under a muted, labelled hedge, and its citation still opens the source."""
    from playwright.sync_api import expect

    answer = ask(page, "When was Yevkurov born?")
    assert_answered(page, answer)
    assert "nb-low" in (answer.get_attribute("class") or "")
    hedge = page.locator("#nb-chat .nb-hedge").last
    expect(hedge).to_be_visible()
    expect(hedge).to_contain_text("The articles may not answer this directly.")
    expect(hedge.locator(".nb-badge")).to_have_text("Low confidence")
    # Visibly different from the answer: smaller, muted, italic.
    style = hedge.evaluate("e => { const s = getComputedStyle(e); return [s.fontStyle, +s.opacity]; }")
    assert style[0] == "italic" and style[1] < 1, style
    assert "The articles may not" not in answer.inner_text(), "the hedge is shown once, above the sentence"
    click_citation(page, answer, 1)
    page.screenshot(path=str(server["tmp"] / "low-confidence.png"))


def test_arabic_question_gets_arabic_interface_strings(page):
    from playwright.sync_api import expect

    answer = ask(page, "من التقى يفكيروف في بنغازي؟")
    assert_answered(page, answer)
    assert answer.evaluate("e => getComputedStyle(e).direction") == "rtl"
    expect(page.locator("#nb-chat .nb-srcline").last).to_contain_text("المصادر")
    source, mark = click_citation(page, answer, 1)
    assert "حفتر" in mark.inner_text()
    panel_head = page.locator("#nb-sources-panel .nb-turn").first
    assert panel_head.get_attribute("dir") == "rtl"
    expect(panel_head.locator(".nb-turn-head")).to_contain_text("المصادر")

    # "New chat" clears the conversation and the sources.
    page.click("#nb-new-chat")
    expect(page.locator("#nb-chat .nb-answer")).to_have_count(0)
    expect(page.locator("#nb-sources-panel .nb-source")).to_have_count(0)

    # An example question for the loaded corpus fills the question box.
    page.locator("#nb-examples button").first.click()
    expect(page.locator("#nb-question textarea")).to_have_value(re.compile(r"^(ماذا جاء في خبر|What does the article)"))


def test_hostile_article_shows_as_text_and_runs_nothing(page, server):
    from playwright.sync_api import expect

    tmp = server["tmp"]
    hostile = tmp / "hostile.md"
    hostile.write_text(HOSTILE_ARTICLE, encoding="utf-8")
    broken = tmp / "broken.pdf"
    broken.write_bytes(b"this is not a pdf")

    page.get_by_role("tab", name="Corpus").click()
    page.locator("#nb-upload input[type=file]").set_input_files([str(hostile), str(broken)])
    expect(page.locator("#nb-upload tr")).to_have_count(2, timeout=30_000)  # both files uploaded
    page.click("#nb-ingest")
    report = page.locator("#nb-ingest-report")
    expect(report).to_contain_text("ingested 1 articles", timeout=120_000)
    expect(report).to_contain_text("broken.pdf:")  # the per-file reason, as the CLI prints it
    # Gradio's copies of the uploads are gone once ingested (the store keeps the text).
    leftovers = [p.name for p in (tmp / "gradio").rglob("*") if p.is_file() and p.name in ("hostile.md", "broken.pdf")]
    assert leftovers == [], leftovers
    table = page.locator("#nb-articles")
    expect(table).to_contain_text("<script>alert(1)</script> Portville harbour", timeout=30_000)

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "When will the new ferry terminal in Portville open?")
    assert_answered(page, answer)
    # The extractive answer may quote several sentences; the one that says "September" is among
    # the citations, and its highlight shows the hostile markup as text.
    n_cites = answer.locator("a.nb-cite").count()
    found = None
    for n in range(1, n_cites + 1):
        source, mark = click_citation(page, answer, n)
        if "September" in mark.inner_text():
            found = (source, mark)
            break
    assert found is not None, "no citation highlights the sentence that answers the question"
    source, mark = found
    expect(source.locator(".nb-title")).to_have_text("<script>alert(1)</script> Portville harbour <img src=x onerror=alert(2)>")
    panel_text = page.locator("#nb-sources-panel").inner_text()
    for markup in HOSTILE_MARKUP:
        assert markup in panel_text
    assert "<img src=x onerror=alert(2)>" in mark.inner_text()
    expect(source.locator(".nb-meta")).to_contain_text("javascript:alert(3)")  # shown as text
    expect(source.locator(".nb-meta")).to_contain_text("<b onmouseover=alert(6)>Evil Wire</b>")

    page.wait_for_timeout(500)  # give an injected handler time to fire
    assert page.dialogs == []
    injected = page.evaluate(
        """() => ({
            imgs: document.querySelectorAll('img[src="x"]').length,
            handlers: document.querySelectorAll('[onerror], [onmouseover]').length,
            scripts: Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length,
            js_links: document.querySelectorAll('a[href^="javascript:" i]').length,
            bold: Array.from(document.querySelectorAll('b')).filter(b => b.textContent.includes('Evil')).length,
        })"""
    )
    assert injected == {"imgs": 0, "handlers": 0, "scripts": 0, "js_links": 0, "bold": 0}
    page.screenshot(path=str(tmp / "hostile-article.png"))

    # The article view of the hostile article: the whole text, still text, still inert.
    source.locator(".nb-source-head a.nb-open").click()
    view = page.locator("#nb-article")
    expect(view.locator(".nb-article-title")).to_have_text(
        "<script>alert(1)</script> Portville harbour <img src=x onerror=alert(2)>", timeout=10_000
    )
    expect(view.locator("mark#nb-article-focus")).to_be_in_viewport(timeout=5_000)
    for markup in HOSTILE_MARKUP:
        assert markup in view.inner_text()
    expect(view.locator(".nb-meta")).to_contain_text("javascript:alert(3)")
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert (
        page.evaluate(
            """() => document.querySelectorAll('#nb-article img, #nb-article script, #nb-article [onerror],'
                 + ' #nb-article [onmouseover], #nb-article a[href^="javascript:" i]').length"""
        )
        == 0
    )


def open_cited_article(page, answer, n: int = 1):
    """[n] in the answer → its passage in the sources panel → [n] there opens the article view;
    return the highlighted sentence there."""
    from playwright.sync_api import expect

    source, _ = click_citation(page, answer, n)
    source.locator(".nb-source-head a.nb-open").click()
    view = page.locator("#nb-article")
    expect(view).to_be_visible(timeout=10_000)
    focus = view.locator("mark#nb-article-focus")
    expect(focus).to_be_visible(timeout=10_000)
    expect(focus).to_be_in_viewport(timeout=5_000)
    return view, focus


@pytest.mark.parametrize(
    ("question", "sentence", "title", "language"),
    [
        ("Who did Yevkurov meet in Benghazi?", "بنغازي", "نائب وزير الدفاع الروسي", "Arabic"),  # .txt
        (
            "How many pieces of glass does the Varrow museum hold?",
            "four hundred pieces",
            "Glass museum opens in Varrow",
            "English",
        ),  # .html
        (
            "How long will the Ostmark bridge close for repairs?",
            "six weeks",
            "Bridge repairs close the Ostmark crossing",
            "English",
        ),  # .pdf
    ],
    ids=["txt", "html", "pdf"],
)
def test_citation_opens_the_whole_article_with_the_sentence_in_view(page, server, question, sentence, title, language):
    from playwright.sync_api import expect

    answer = ask(page, question)
    assert_answered(page, answer)
    view, focus = open_cited_article(page, answer, 1)
    assert sentence in focus.inner_text()
    expect(view.locator(".nb-article-title")).to_contain_text(title)
    expect(view.locator(".nb-lang")).to_contain_text(language)
    expect(view.locator(".nb-article-note").first).to_contain_text("Cited as [1] in the answer to:")
    # The whole article, not the passage: more paragraphs than the cited one.
    assert view.locator(".nb-article-body p").count() >= 3
    if language == "Arabic":
        # An English question about an Arabic article: the names it asked about are marked.
        marked = [" ".join(t.split()) for t in focus.locator("b.nb-term").all_inner_texts()]
        assert "يفكيروف" in marked and "بنغازي" in marked, marked
        assert focus.locator("xpath=ancestor::p").evaluate("e => getComputedStyle(e).direction") == "rtl"
        page.screenshot(path=str(server["tmp"] / "article-view-cross-lingual.png"))
    page.click("#nb-back")
    expect(page.locator("#nb-question textarea")).to_be_visible()


def test_corpus_row_opens_its_article(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Corpus").click()
    page.locator("#nb-articles a.nb-open", has_text="Bridge repairs close").click()
    view = page.locator("#nb-article")
    expect(view.locator(".nb-article-title")).to_have_text("Bridge repairs close the Ostmark crossing", timeout=10_000)
    expect(view.locator(".nb-article-body")).to_contain_text("Buses will carry pedestrians")
    expect(view.locator("mark")).to_have_count(0)  # nothing was cited


def test_reload_keeps_the_chat_and_earlier_chats_come_back(page, server):
    from playwright.sync_api import expect

    kept = "() => localStorage.getItem('newsbot-chats-uitest')"
    empty = page.evaluate(kept)
    answer = ask(page, "How long will the Ostmark bridge close for repairs?")
    assert_answered(page, answer)
    before = answer.inner_text()
    # The browser keeps the chat just after the answer is shown.
    page.wait_for_function(f"(empty) => ({kept})() !== empty", arg=empty, timeout=10_000)
    page.reload()
    wait_until_loaded(page)
    restored = page.locator("#nb-chat .nb-answer")
    expect(restored).to_have_count(1, timeout=10_000)
    assert restored.inner_text() == before
    expect(page.locator("#nb-sources-panel .nb-source")).not_to_have_count(0)
    click_citation(page, restored.last, 1)  # the citations of a restored answer still work

    filed = page.evaluate(kept)
    page.click("#nb-new-chat")
    expect(page.locator("#nb-chat .nb-answer")).to_have_count(0)
    page.wait_for_function(f"(filed) => ({kept})() !== filed", arg=filed, timeout=10_000)
    page.reload()
    wait_until_loaded(page)
    expect(page.locator("#nb-chat .nb-answer")).to_have_count(0)  # the new chat is the current one
    page.locator("#nb-earlier input").click()
    page.get_by_role("option", name=re.compile(r"^How long will the Ostmark bridge")).click()
    expect(page.locator("#nb-chat .nb-answer")).to_have_count(1, timeout=10_000)
    assert page.locator("#nb-chat .nb-answer").inner_text() == before


def test_thumbs_down_writes_one_line_with_the_article_offsets(page, server):
    from playwright.sync_api import expect

    log = server["feedback"]
    before = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    kept = "() => localStorage.getItem('newsbot-chats-uitest')"
    empty = page.evaluate(kept)
    answer = ask(page, "Who did Yevkurov meet in Benghazi?")
    assert_answered(page, answer)
    page.wait_for_function(f"(empty) => ({kept})() !== empty", arg=empty, timeout=10_000)
    answered = page.evaluate(kept)
    page.locator("#nb-chat button[aria-label='Dislike']").last.click()
    expect(page.locator("#nb-reason")).to_be_visible(timeout=10_000)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(log.read_text(encoding="utf-8").splitlines() if log.exists() else []) == len(
        before
    ):
        time.sleep(0.2)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(before) + 1
    import json

    record = json.loads(lines[-1])
    assert record["verdict"] == "down" and record["question"] == "Who did Yevkurov meet in Benghazi?"
    assert "user" not in record and not any("127.0.0.1" in line for line in lines)
    seed_text = SEED.read_text(encoding="utf-8")  # a .txt article is stored as its text
    assert record["citations"], record
    for c in record["citations"]:
        assert seed_text[c["quote_start"] : c["quote_end"]] == c["quote"]
    # The optional reason: the same record again with it.
    page.locator("#nb-reason-text input").fill("right answer, wrong source")
    page.click("#nb-reason-send")
    expect(page.locator("#nb-reason")).to_be_hidden(timeout=10_000)
    lines = log.read_text(encoding="utf-8").splitlines()
    again = json.loads(lines[-1])
    assert again["id"] == record["id"] and again["reason"] == "right answer, wrong source"
    # A reload shows the verdict already given (no second vote by accident).
    page.wait_for_function(f"(answered) => ({kept})() !== answered", arg=answered, timeout=10_000)
    page.reload()
    wait_until_loaded(page)
    expect(page.locator("#nb-chat button[aria-label='Disliked']")).to_have_count(1, timeout=10_000)
