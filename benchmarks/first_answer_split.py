"""How much a second process would buy ``newsbot serve``'s first answer (issue 12's 5 s goal).

    .venv/bin/python benchmarks/first_answer_split.py --db STORE_FOLDER [--collection news]
        [--question "Who did Yevkurov meet?"] [--runs 3]

Starts, in turn, the real ``newsbot serve`` and a prototype of the same UI whose answers come from
a second process (it opens the store, loads the keyword index and the query encoder, and answers
pickled requests on its stdin) while the UI process imports the web framework: the two imports
then run on two cores instead of sharing one interpreter lock. Each start is timed as
``newsbot bench`` times it (``bot/measure/bench/runner.py``): from starting the process to a
``gradio_client`` connection, then to the first answer, then a second question on the warm
process. Only the chat's answering goes to the second process in the prototype (the corpus tab
and uploads are not wired): it measures, it does not serve.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack("<I", len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError("the answering process closed its output")
    return pickle.loads(stream.read(struct.unpack("<I", head)[0]))


def answering_process() -> None:
    """The second process: warm up at once, then answer requests until stdin closes."""
    from bot.settings import Settings
    from bot.wiring import App

    out, inp = sys.stdout.buffer, sys.stdin.buffer
    sys.stdout = sys.stderr  # the pipe carries only answers
    app = App(Settings())
    app.start_warm_up()
    chain = app.chain
    while True:
        try:
            request = _receive(inp)
        except EOFError:
            return
        try:
            for event in chain.stream(request):
                _send(out, event)
        except Exception as exc:
            _send(out, ("error", repr(exc)))
        _send(out, None)


def ui_process(port: int) -> None:
    """The UI process: newsbot's web app, with a chain that asks the answering process."""
    child = subprocess.Popen([sys.executable, __file__, "--child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    from bot.settings import Settings
    from bot.surfaces.web.app import serve
    from bot.wiring import App

    lock = threading.Lock()
    assert child.stdin is not None and child.stdout is not None
    to_child, from_child = child.stdin, child.stdout

    class RemoteChain:
        answerer = "extractive"
        answerers = {"extractive": types.SimpleNamespace(chat_model=None)}

        def stream(self, request: Any) -> Iterator[Any]:
            with lock:
                _send(to_child, request)
                while (event := _receive(from_child)) is not None:
                    if isinstance(event, tuple):
                        raise RuntimeError(event[1])
                    yield event

    app = App(Settings())
    app.__dict__["chain"] = RemoteChain()  # App.chain is a cached_property
    app.start_warm_up = lambda: None  # type: ignore[method-assign,assignment,return-value]
    serve(app, host="127.0.0.1", port=port)


def time_start(kind: str, env: dict[str, str], question: str) -> dict[str, float]:
    from gradio_client import Client

    from bot.measure.bench.machine import free_port

    port = free_port()
    if kind == "serve":
        cmd = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [sys.executable, __file__, "--ui", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = None
        while client is None:
            if proc.poll() is not None:
                raise SystemExit(f"{kind} exited with {proc.returncode}")
            if time.perf_counter() - t0 > 300:
                raise SystemExit(f"{kind} did not come up within 300 s")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:
                time.sleep(0.25)
        connected = time.perf_counter() - t0
        first = client.predict(question, 5, "extractive", api_name="/chat")
        answered = time.perf_counter() - t0
        if "nb-answer" not in str(first[0][-1]["content"]):
            raise SystemExit(f"{kind} did not answer: {str(first[0][-1]['content'])[:200]}")
        t = time.perf_counter()
        client.predict(f"{question} Please.", 5, "extractive", api_name="/chat")
        return {"connected": connected, "first": answered, "question": answered - connected, "next": time.perf_counter() - t}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return answering_process()
    if sys.argv[1:2] == ["--ui"]:
        return ui_process(int(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a local store folder (e.g. a dev store of benchmarks/dev_matrix.py)")
    ap.add_argument("--collection", default="news")
    ap.add_argument("--question", default="Who did Yevkurov meet?")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update({"NEWSBOT_DB": str(args.db), "NEWSBOT_COLLECTION": args.collection, "GRADIO_ANALYTICS_ENABLED": "False"})
    print(f"{'start':<22}{'connected s':>12}{'first answer s':>16}{'its question s':>16}{'next question s':>17}")
    for _ in range(args.runs):
        for kind, label in (("serve", "newsbot serve"), ("split", "two processes")):
            r = time_start(kind, env, args.question)
            print(f"{label:<22}{r['connected']:>12.2f}{r['first']:>16.2f}{r['question']:>16.2f}{r['next']:>17.2f}", flush=True)


if __name__ == "__main__":
    main()
