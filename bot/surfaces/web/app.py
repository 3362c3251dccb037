"""The web UI (Gradio Blocks): a chat with a sources panel beside it, and a corpus tab.

Thin: it receives the :class:`bot.wiring.App`, calls ``app.chain.stream`` / ``app.ingestor`` /
``app.store``, and formats what they return with :mod:`bot.surfaces.web.render`. No retrieval or
answering logic lives here.

Per browser session, a ``gr.State`` holds the chain results of the conversation (turn ``i`` of the
chat is ``results[i]``; a turn that got a notice instead of an answer holds the notice): they are
the ``history`` of the next question (follow-ups), the content of the sources panel and what a 👍/👎
refers to. The browser keeps them too (``gr.BrowserState``, see :mod:`bot.surfaces.web.chats`), so a reload
brings the chat back. Links with class ``nb-open`` (citations, corpus rows) open the Article tab
through a small script (``OPENER_JS``).
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import TYPE_CHECKING, Any

import gradio as gr

from bot.surfaces import feedback
from bot.surfaces.web import chats
from bot.surfaces.web import render as fmt
from bot.surfaces.web import render_article as fmt_article
from bot.surfaces.web import render_corpus as fmt_corpus
from bot.surfaces.web.auth import LoginGuard, parse_auth, ui_secret
from bot.surfaces.web.handlers import Handlers
from ingest.errors import ConfigError
from ingest.loaders.files import SUPPORTED_EXTENSIONS

if TYPE_CHECKING:
    from bot.wiring import App

logger = logging.getLogger(__name__)


def _asset(name: str) -> str:
    """A static file of the web app (``assets/``, shipped as package data)."""
    return (resources.files("bot.surfaces.web") / "assets" / name).read_text(encoding="utf-8")


CSS = _asset("app.css")
# Clicking a citation link: bring the passage into view in the sources panel and mark it.
CLICK_JS = _asset("click.js")
# Links that open the article view (class nb-open, in answers, the sources panel, the corpus
# table) hand their data to the opener component, which sends it to the server as its click event.
OPENER_JS = _asset("opener.js")
# The article view: once it is shown, bring the highlighted sentence into view (the view may be
# drawn before its tab is visible, hence the retries).
FOCUS_JS = _asset("focus.js")

NO_LLM_NOTICE = (
    "**No LLM configured:** answers are sentences quoted from the articles. To have an LLM write "
    "answers, set `NEWSBOT_LLM_BASE_URL` and `NEWSBOT_LLM_MODEL` (and `NEWSBOT_LLM_API_KEY`), e.g. "
    "`NEWSBOT_LLM_BASE_URL=http://localhost:11434/v1 NEWSBOT_LLM_MODEL=qwen2.5` for Ollama, then "
    "restart `newsbot serve`.  \n"
    '<span dir="rtl">لا يوجد نموذج لغوي: الإجابات جمل مقتبسة من المقالات.</span>'
)


def build_ui(app: App) -> gr.Blocks:
    """The Gradio app for one :class:`bot.wiring.App`. Launch it with :func:`launch_options`."""
    h = Handlers(app)
    chain = app.chain
    settings = app.settings
    answerers = list(chain.answerers)
    llm_configured = any(a.chat_model is not None for a in chain.answerers.values())

    with gr.Blocks(title="newsbot", analytics_enabled=False) as demo:
        gr.Markdown("## newsbot: answers from your news articles, with the source sentence of every claim")
        if not llm_configured:
            gr.Markdown(NO_LLM_NOTICE, elem_id="nb-no-llm")
        messages_state = gr.State([])
        results_state = gr.State([])
        verdict_state = gr.State(None)  # the last 👍/👎 record, until its reason is sent
        kept_chats = gr.BrowserState(
            chats.empty(), storage_key=f"newsbot-chats-{settings.collection}", secret=ui_secret(settings)
        )
        # Receives "open this article" from links anywhere on the page (OPENER_JS, CLICK_JS).
        opener = gr.HTML("", elem_id="nb-opener", js_on_load=OPENER_JS, container=False, padding=False)

        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="nb-chat",
                            label="Chat",
                            height=520,
                            latex_delimiters=[],
                            feedback_options=("Like", "Dislike"),
                            buttons=[],
                            placeholder=None,
                        )
                        with gr.Row(visible=False, elem_id="nb-reason") as reason_row:
                            reason = gr.Dropdown(
                                list(feedback.REASONS),
                                value=None,
                                allow_custom_value=True,
                                label="Thanks! Why? (optional: choose or type one line)",
                                scale=5,
                                elem_id="nb-reason-text",
                            )
                            reason_send = gr.Button("Send", size="sm", scale=1, elem_id="nb-reason-send")
                        with gr.Row():
                            question = gr.Textbox(
                                elem_id="nb-question",
                                show_label=False,
                                placeholder="Ask a question about the articles… / اطرح سؤالًا عن المقالات…",
                                scale=5,
                                lines=1,
                                max_lines=4,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="nb-send")
                        with gr.Row():
                            new_chat = gr.Button("New chat", size="sm", elem_id="nb-new-chat", scale=1)
                            earlier = gr.Dropdown(
                                [],
                                value=None,
                                label="Earlier chats (kept in this browser)",
                                scale=3,
                                elem_id="nb-earlier",
                                visible=False,
                            )
                        examples = gr.Dataset(
                            components=[question],
                            samples=[[""]],
                            label="Examples",
                            elem_id="nb-examples",
                            visible=False,
                        )
                        with gr.Accordion("Settings", open=False):
                            k = gr.Slider(1, 20, value=settings.k, step=1, label="Passages to retrieve")
                            answerer = gr.Dropdown(answerers, value=chain.answerer, label="Answerer")
                        with gr.Accordion("Retrieval debug", open=False):
                            debug = gr.HTML("", elem_id="nb-debug", js_on_load=None)
                    with gr.Column(scale=2):
                        sources = gr.HTML(fmt.sources_html([]), elem_id="nb-sources-panel", js_on_load=None)

            with gr.Tab("Article", id="article"):
                back = gr.Button("← Back to the chat", size="sm", elem_id="nb-back")
                article_view = gr.HTML(fmt_article.article_placeholder_html(), elem_id="nb-article", js_on_load=FOCUS_JS)

            with gr.Tab("Corpus", id="corpus"):
                upload = gr.File(
                    label="Upload articles (" + " ".join(SUPPORTED_EXTENSIONS) + ")",
                    file_count="multiple",
                    file_types=list(SUPPORTED_EXTENSIONS),
                    type="filepath",
                    elem_id="nb-upload",
                )
                ingest_btn = gr.Button("Ingest", variant="primary", elem_id="nb-ingest")
                report = gr.HTML("", elem_id="nb-ingest-report", js_on_load=None)
                table = gr.HTML(fmt_corpus.articles_html([]), elem_id="nb-articles", js_on_load=None)
                with gr.Row():
                    # Custom values: the /remove API takes any id (the choices fill only in a browser
                    # session); remove() says when there is no such article.
                    to_remove = gr.Dropdown([], label="Article to remove", scale=4, allow_custom_value=True)
                    remove_btn = gr.Button("Remove", variant="stop", scale=1)
                refresh = gr.Button("Refresh list", size="sm")

        corpus_outputs = [table, to_remove, examples, chatbot]
        chat_inputs = [question, k, answerer, messages_state, results_state]
        chat_outputs = [chatbot, messages_state, results_state, sources, debug, question]
        shown = [*chat_outputs, kept_chats, earlier]
        private: dict[str, Any] = {"api_visibility": "private"}
        # Twice NEWSBOT_CONCURRENCY: half for LLM answers, half for extractive ones (Handler._slots).
        chat_opts: dict[str, Any] = {"concurrency_limit": 2 * settings.concurrency, "concurrency_id": "chat"}

        keep: dict[str, Any] = {
            "fn": h.keep,
            "inputs": [results_state, kept_chats],
            "outputs": [kept_chats, earlier],
            "queue": False,
            **private,
        }
        question.submit(h.respond, chat_inputs, chat_outputs, api_name="chat", **chat_opts).then(**keep)
        send.click(h.respond, chat_inputs, chat_outputs, **private, **chat_opts).then(**keep)
        new_chat.click(h.new_chat, [results_state, kept_chats], shown, **private, queue=False)
        chatbot.clear(h.new_chat, [results_state, kept_chats], shown, **private, queue=False)  # its trash icon
        earlier.select(h.open_chat, [earlier, results_state, kept_chats], shown, **private, queue=False)
        examples.click(lambda sample: sample[0] if sample else "", examples, question, **private)

        chatbot.like(h.feedback, [results_state], [reason_row, verdict_state, results_state], **private).then(**keep)
        reason_send.click(h.feedback_reason, [reason, verdict_state], [reason_row, verdict_state, reason], **private)

        opener.click(h.open_article, [results_state], [article_view, tabs], **private)
        back.click(lambda: gr.Tabs(selected="chat"), None, tabs, **private, queue=False)

        corpus_opts: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "corpus"}
        ingest_btn.click(h.ingest, upload, [report, *corpus_outputs], api_name="ingest", **corpus_opts)
        remove_btn.click(h.remove, to_remove, [report, *corpus_outputs], api_name="remove", **corpus_opts)
        refresh.click(h.corpus_views, None, corpus_outputs, **private)
        demo.load(h.corpus_views, None, corpus_outputs, **private)
        demo.load(h.restore, [messages_state, kept_chats], shown, **private, queue=False)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def launch_options(app: App) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (assets, login, upload size limit)."""
    s = app.settings
    return {
        "css": CSS,
        "js": CLICK_JS,
        "auth": LoginGuard(*credentials) if (credentials := parse_auth(s.auth)) else None,
        "max_file_size": s.max_file_bytes(),
        "share": False,
        "ssr_mode": False,
        "show_error": False,
        "footer_links": ["api", "settings"],
    }


def serve(app: App, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the app and serve it until interrupted (``newsbot serve``)."""
    options = launch_options(app)  # a bad NEWSBOT_AUTH fails before anything loads
    app.start_warm_up()  # started by the CLI before this module imported gradio; here for other callers
    app.chain  # noqa: B018 - opens the store: a store that cannot open fails here, before the UI is up
    demo = build_ui(app)
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning(
            "newsbot is listening on %s: anyone who can reach it can use it%s",
            host,
            "" if options["auth"] else " (set NEWSBOT_AUTH=user:password to require a login)",
        )
    try:
        demo.launch(server_name=host, server_port=port, inbrowser=False, quiet=False, **options)
    except OSError as exc:  # port taken, address not available
        raise ConfigError(f"cannot listen on {host}:{port}: {str(exc).splitlines()[0]} (choose another --port)") from None
