"""The bundled e5 on OpenVINO with int8 weights (ingest/embeddings/openvino_encoder.py) against torch fp32, on
real sentences (written for this test, Arabic and English): the same vectors to ~2e-4, the same
late-chunked sentence vectors, one vector space in one store, and the variant recorded."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("openvino", reason="openvino is not installed (pip install openvino nncf)")

from ingest.embeddings.factory import make_embeddings
from ingest.errors import ConfigError
from ingest.store.articles import open_store
from ingest.types import Article

pytestmark = pytest.mark.slow

SENTENCES = [
    "وصل نائب وزير الدفاع إلى بنغازي صباح الجمعة، والتقى قائد الجيش في مقره شرق المدينة.",
    "قالت البلدية إن أعمال صيانة الجسر ستستمر ستة أسابيع، وإن الحافلات ستنقل المشاة.",
    "The harbour authority said the new ferry terminal would open in September.",
    "Engineers found cracks in two steel girders of the Ostmark bridge in April.",
    "Who did the deputy minister meet in Benghazi?",
    "متى يفتح مبنى العبارات الجديد؟",
]


@pytest.fixture(scope="module")
def encoders(model_dir):
    return make_embeddings("e5", model_dir=model_dir), make_embeddings("e5", model_dir=model_dir, encoder="openvino-int8")


def test_int8_vectors_agree_with_fp32(encoders):
    fp32, int8 = encoders
    assert int8.encoder == "openvino-int8" and fp32.encoder == "torch"
    assert int8.space == fp32.space and int8.dim == fp32.dim
    for embed in ("embed_documents_array", "embed_query_array"):
        a, b = getattr(fp32, embed)(SENTENCES), getattr(int8, embed)(SENTENCES)
        cos = np.sum(a * b, axis=1)
        assert cos.min() > 0.999, (embed, cos)
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    # The sentence vectors pooled from one pass (late chunking) agree as well.
    text = " ".join(SENTENCES[:4])
    spans = [(0, len(SENTENCES[0])), (len(SENTENCES[0]) + 1, len(SENTENCES[0]) + 1 + len(SENTENCES[1]))]
    _, pooled_a = fp32.embed_documents_with_spans([text], [spans])
    _, pooled_b = int8.embed_documents_with_spans([text], [spans])
    assert np.sum(pooled_a[0] * pooled_b[0], axis=1).min() > 0.999


def test_one_store_is_written_by_one_variant_and_read_by_the_other(encoders, tmp_path):
    fp32, int8 = encoders
    article = Article(id="bridge", title="Bridge repairs", text=" ".join(SENTENCES[1:4]), lang="ar")
    from ingest.chunking import chunk_article

    writer = open_store(collection="news", embeddings=int8, embedder_id="multilingual-e5-small", db=tmp_path / "db")
    assert writer.write_article(article, chunk_article(article))
    assert writer._catalog.get(ids=["bridge"], include=["metadatas"])["metadatas"][0]["encoder"] == "openvino-int8"
    reader = open_store(collection="news", embeddings=fp32, embedder_id="multilingual-e5-small", db=tmp_path / "db")
    hits = reader.query(fp32.embed_query("When will the Ostmark bridge girders be repaired?"), 1)
    assert hits and hits[0][0].article_id == "bridge" and hits[0][1] > 0.8


def test_the_encoder_is_only_for_the_bundled_model(tmp_path):
    with pytest.raises(ConfigError, match="unknown encoder"):
        make_embeddings("e5", model_dir=tmp_path, encoder="gpu")
    with pytest.raises(ConfigError, match="for the bundled e5"):
        make_embeddings("fake", model_dir=tmp_path, encoder="openvino-int8")
