"""Fuzzing every loader (hypothesis): arbitrary bytes, malformed JSON/JSONL/HTML/YAML/PDF.

Two levels:

- ``load_file`` on one file: it returns articles whose text is usable (chunks slice it exactly),
  or raises ``IngestError`` with a one-line reason; never any other exception.
- the ingest of a folder holding a bad file beside a good one, into a real Chroma store: the run
  never raises, the bad file gets at most one one-line reason, the good file is stored.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_article
from ingest.errors import IngestError
from ingest.loaders.files import SUPPORTED_EXTENSIONS, load_file

MAX_BYTES = 1 << 20
ID_RE = re.compile(r"[A-Za-z0-9._-]+")
FUZZ = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
FUZZ_INGEST = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------------- strategies

BOMS = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]
PREFIXES = [b"", b"%PDF-1.4\n", b"<html>", b"{", b"[", b"---\n", b"\x00", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04"]

raw_bytes = st.builds(
    lambda bom, prefix, body: bom + prefix + body,
    st.sampled_from(BOMS),
    st.sampled_from(PREFIXES),
    st.binary(max_size=3000),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=200),
    st.sampled_from(["", " ", "\u200f", "\x00", "2024-13-45", "1e999", "تاريخ", "\ud800x" * 0 + "\ufeff"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["text", "content", "body", "title", "headline", "date", "published", "lang", "language", "id", "url", "source"]
records = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values, max_size=8)


def _mangle(text: str, data: st.DataObject) -> str:
    """Valid JSON made invalid (or not): truncated, garbage spliced in, or left alone."""
    how = data.draw(st.sampled_from(["keep", "truncate", "splice", "deep"]))
    if how == "truncate" and text:
        return text[: data.draw(st.integers(0, len(text) - 1))]
    if how == "splice":
        at = data.draw(st.integers(0, len(text)))
        return text[:at] + data.draw(st.sampled_from(["}", "]", ",", '"', "\\", "\x00", "NaN", "{{", "\n"])) + text[at:]
    if how == "deep":
        depth = data.draw(st.sampled_from([50, 5000, 100000]))
        return "[" * depth + text + "]" * data.draw(st.sampled_from([0, depth]))
    return text


@st.composite
def json_files(draw) -> bytes:
    shape = draw(st.sampled_from(["record", "array", "scalar", "huge-int"]))
    if shape == "record":
        value = draw(records)
    elif shape == "array":
        value = draw(st.lists(records | json_values, max_size=4))
    elif shape == "scalar":
        value = draw(json_values)
    else:  # an integer longer than Python converts by default
        value = None
    if value is None:
        text = '{"text": "Some text.", "id": ' + "9" * draw(st.sampled_from([10, 5000])) + "}"
    else:
        text = json.dumps(value, ensure_ascii=draw(st.booleans()), allow_nan=True)
    text = _mangle(text, draw(st.data()))
    return text.encode("utf-8", "surrogatepass")


@st.composite
def jsonl_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["record", "value", "garbage", "blank"]))
        if kind == "record":
            lines.append(json.dumps(draw(records), allow_nan=True))
        elif kind == "value":
            lines.append(json.dumps(draw(json_values), allow_nan=True))
        elif kind == "garbage":
            lines.append(draw(st.text(max_size=50)))
        else:
            lines.append("")
    sep = draw(st.sampled_from(["\n", "\r\n", "\r", "\u2028"]))
    return sep.join(lines).encode("utf-8", "surrogatepass")


HTML_PIECES = [
    "<html>",
    "</html>",
    "<head>",
    "<body>",
    "</body>",
    "<p>",
    "</p>",
    "<div>",
    "</div",
    "<article>",
    "<h1>",
    "</h1>",
    "<script>",
    "</script>",
    "<style>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml version='1.0'?>",
    "<br>",
    "<br/>",
    "&amp;",
    "&#0;",
    "&#xFFFFFF;",
    "&nbsp;",
    "&bogus;",
    "<meta charset='x-no-such-charset'>",
    '<meta charset="windows-1256">',
    "<title>",
    "</title>",
    "<nav>",
    "<footer>",
    "<table><tr><td>",
    "<",
    ">",
    '"',
    "'",
    "=",
    "<time datetime='2024-02-30'>",
    "<meta property='article:published_time' content='x'>",
    "<a href='javascript:x'>",
    "<base href='::::'>",
    "<link rel=canonical href='http://[::1'>",
]
html_files = st.lists(
    st.sampled_from(HTML_PIECES) | st.text(max_size=40) | st.sampled_from(["Words of an article. " * 8, "نص عربي. " * 8]),
    max_size=40,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@st.composite
def text_files(draw) -> bytes:
    front = draw(
        st.sampled_from(["", "---\n", "---\ntitle: [unclosed\n---\n", "---\n: : :\n---\n", "---\ndate: 2024-02-30\n---\n"])
        | st.text(max_size=80).map(lambda t: f"---\n{t}\n---\n")
    )
    body = draw(st.text(max_size=600))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "cp1256", "latin-1"]))
    return (front + body).encode(encoding, "replace")


def _pdf_bytes(text: str) -> bytes:
    """A small valid PDF with one page (pypdf writes it; text only in the metadata)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@st.composite
def pdf_files(draw) -> bytes:
    data = bytearray(_pdf_bytes(draw(st.text(max_size=30))))
    for _ in range(draw(st.integers(0, 6))):  # flip bytes, then maybe truncate
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(1, len(data)))]
    return bytes(data)


BY_EXT = {
    ".json": json_files(),
    ".jsonl": jsonl_files(),
    ".html": html_files,
    ".htm": html_files,
    ".txt": text_files(),
    ".md": text_files(),
    ".markdown": text_files(),
    ".pdf": pdf_files(),
}
assert set(BY_EXT) == set(SUPPORTED_EXTENSIONS)

any_file = st.sampled_from(sorted(SUPPORTED_EXTENSIONS)).flatmap(
    lambda ext: st.tuples(st.just(ext), st.one_of(raw_bytes, BY_EXT[ext]))
)

# --------------------------------------------------------------------------- loader level


def _check_load(path: Path) -> None:
    try:
        articles = load_file(path, max_bytes=MAX_BYTES)
    except IngestError as exc:
        reason = str(exc)
        assert reason.strip(), "empty reason"
        assert "\n" not in reason and "\r" not in reason, repr(reason)
        assert len(reason) <= 300, reason
        return
    assert articles
    for a in articles:
        assert isinstance(a.text, str) and a.text.strip()
        assert ID_RE.fullmatch(a.id), a.id
        assert isinstance(a.title, str)
        a.text.encode("utf-8")  # storable: no lone surrogates
        a.title.encode("utf-8")
        for c in chunk_article(a, size=300, max_size=500, overlap=1):
            assert a.text[c.start : c.end] == c.text


@pytest.mark.parametrize("ext", sorted(SUPPORTED_EXTENSIONS))
@FUZZ
@given(data=st.data())
def test_loader_never_crashes(ext: str, data) -> None:
    content = data.draw(st.one_of(raw_bytes, BY_EXT[ext]), label="content")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{ext}"
        path.write_bytes(content)
        _check_load(path)


# Inputs that once crashed a loader (found by the fuzzing above).
REGRESSIONS = [
    (".json", b"[" * 100000),  # RecursionError
    (".jsonl", b"[" * 100000 + b"\n"),
    (".json", b'{"text": "Some text.", "id": ' + b"9" * 5000 + b"}"),  # int too long to convert
    (".md", b"---\ndate: 2024-02-30\n---\nSome text."),  # YAML's date constructor: ValueError
    (".html", b"<body><html><script>"),  # AssertionError inside lxml via htmldate
]


@pytest.mark.parametrize(("ext", "content"), REGRESSIONS)
def test_known_crashers_get_a_reason(tmp_path: Path, ext: str, content: bytes) -> None:
    path = tmp_path / f"bad{ext}"
    path.write_bytes(content)
    with pytest.raises(IngestError) as info:
        load_file(path, max_bytes=MAX_BYTES)
    assert str(info.value).strip() and "\n" not in str(info.value)


# --------------------------------------------------------------------------- ingest level

_counter = itertools.count()


@pytest.fixture(scope="module")
def fuzz_ingestor(tmp_path_factory):
    from ingest.embeddings.factory import make_embeddings
    from ingest.pipeline import ChunkingOptions, Ingestor
    from ingest.store.articles import open_store

    tmp = tmp_path_factory.mktemp("fuzz-store")
    store = open_store(collection="fuzz", embeddings=make_embeddings("fake", model_dir=tmp), embedder_id="fake", db=tmp / "db")
    return Ingestor(store, chunking=ChunkingOptions(size=300, max_size=500), max_bytes=MAX_BYTES)


@FUZZ_INGEST
@given(bad=st.lists(any_file, min_size=1, max_size=3))
def test_bad_files_never_stop_the_ingest(fuzz_ingestor, bad) -> None:
    n = next(_counter)
    good_text = f"Good article {n}\n\nThe ferry to Island{n} left at {n % 24} o'clock with {n} passengers aboard.\n"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bad_paths = []
        for i, (ext, content) in enumerate(bad):
            p = folder / f"bad{i}{ext}"
            p.write_bytes(content)
            bad_paths.append(str(p))
        good = folder / f"good{n}.txt"
        good.write_text(good_text, encoding="utf-8")

        report = fuzz_ingestor.ingest_paths([folder])

        assert report.stopped is None
        failed = [f.path for f in report.failures]
        places = [(f.path, f.where) for f in report.failures]
        assert len(places) == len(set(places)), "a file or record reported twice"
        assert str(good) not in failed, report.failures
        assert set(failed) <= set(bad_paths)
        for f in report.failures:
            assert f.reason.strip() and "\n" not in f.line() and "\r" not in f.line(), repr(f.line())
        (good_article,) = load_file(good, max_bytes=MAX_BYTES)
        stored = fuzz_ingestor.store.article(good_article.id)
        assert stored is not None and fuzz_ingestor.store.article_text(good_article.id) == good_article.text
