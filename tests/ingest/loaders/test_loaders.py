# Over 400 lines: every format and bad-input kind in one place, so a change to the shared loading path is checked against all at once.
"""Loaders: every format, every bad-input kind, encodings, ids, language and dates.

Fixture files are generated in ``tmp_path`` so each test shows its input.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from helpers import ROOT
from synthetic import make_pdf

from ingest.errors import IngestError
from ingest.loaders.dates import find_header_date, parse_date
from ingest.loaders.files import BYTES_PER_MB, SUPPORTED_EXTENSIONS, discover_files, load_file, load_records
from ingest.loaders.identity import article_id, sanitise_id
from ingest.loaders.textio import decode_bytes
from ingest.text.language import detect_language, normalise_lang_tag
from ingest.types import Article

SAMPLES = ROOT / "samples"
LIMIT = 20 * BYTES_PER_MB

AR_TITLE = "الحكومة تعلن خطة جديدة لدعم المزارعين"
AR_BODY = (
    "أعلنت الحكومة اليوم عن خطة لدعم صغار المزارعين بقروض ميسرة.\n\n"
    "وقال وزير الزراعة إن الخطة تشمل توفير البذور والأسمدة بأسعار مخفضة."
)
EN_TITLE = "City council approves new bus lanes"
EN_BODY = (
    "The city council voted on Tuesday to add bus lanes on three main roads.\n\n"
    "The work will start in September and take about six months, officials said."
)


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def load_one(path: Path) -> Article:
    articles = load_file(path, max_bytes=LIMIT)
    assert len(articles) == 1
    return articles[0]


def load_error(path: Path, max_bytes: int = LIMIT) -> str:
    with pytest.raises(IngestError) as info:
        load_file(path, max_bytes=max_bytes)
    return str(info.value)


# --------------------------------------------------------------------------- discovery


def test_discover_walks_folders_sorted_and_skips_hidden_unsupported_and_readme(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.json", "sub/deeper/d.pdf", "z.HTML", "notes.docx", "image.png",
                 ".hidden.txt", ".git/config.txt", "sub/.cache/e.txt", "README.md"]:  # fmt: skip
        write(tmp_path, name, "x")
    files, problems = discover_files([tmp_path])
    assert problems == []
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a.md", "b.txt", "sub/c.json", "sub/deeper/d.pdf", "z.HTML",
    ]  # fmt: skip


def test_discover_reports_missing_and_unsupported_explicit_files(tmp_path: Path) -> None:
    doc = write(tmp_path, "report.docx", "x")
    bare = write(tmp_path, "Makefile", "x")
    ok = write(tmp_path, "ok.txt", "x")
    missing = tmp_path / "nope.txt"
    files, problems = discover_files([doc, missing, ok, bare])
    assert files == [ok]
    reasons = dict(problems)
    assert reasons[missing] == "no such file or folder"
    assert reasons[doc].startswith("unsupported file type '.docx'")
    assert reasons[bare].startswith("unsupported file type without extension")
    assert str(tmp_path) not in reasons[doc]  # the caller adds the path


def test_discover_returns_each_file_once_and_keeps_explicit_hidden_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.txt", "x")
    hidden = write(tmp_path, ".draft.txt", "x")
    files, problems = discover_files([a, tmp_path, hidden])
    assert files == [a, hidden]
    assert problems == []


def test_supported_extensions_are_the_documented_ones() -> None:
    assert set(SUPPORTED_EXTENSIONS) == {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf"}


# --------------------------------------------------------------------------- text and Markdown


def test_txt_title_is_first_line_and_text_keeps_it(tmp_path: Path) -> None:
    path = write(tmp_path, "news.txt", f"\n{EN_TITLE}\n\n{EN_BODY}\n")
    article = load_one(path)
    assert article.title == EN_TITLE
    assert article.text == f"{EN_TITLE}\n\n{EN_BODY}"
    assert article.lang == "en"
    assert article.path == str(path)
    assert article.id.startswith("h-")
    assert article.date is None and article.url is None and article.source is None


def test_txt_date_line_under_the_title_is_found(tmp_path: Path) -> None:
    article = load_one(write(tmp_path, "ar.txt", f"{AR_TITLE}\n\n03 يونيو 2024\n\n{AR_BODY}\n"))
    assert article.date == "2024-06-03"
    assert article.lang == "ar"
    english = load_one(write(tmp_path, "en.txt", f"{EN_TITLE}\nPublished: June 3, 2024 10:45\n{EN_BODY}"))
    assert english.date == "2024-06-03"


def test_txt_date_deep_in_the_body_is_not_the_article_date(tmp_path: Path) -> None:
    text = f"{EN_TITLE}\n\nLine one.\n\nLine two.\n\nLine three.\n\nThe plan dates from 3 June 2019."
    assert load_one(write(tmp_path, "n.txt", text)).date is None


def test_md_title_strips_heading_marks(tmp_path: Path) -> None:
    article = load_one(write(tmp_path, "n.md", f"# {EN_TITLE}\n\n{EN_BODY}\n"))
    assert article.title == EN_TITLE
    assert article.text.startswith(f"# {EN_TITLE}")


def test_front_matter_gives_metadata_and_text_is_the_body(tmp_path: Path) -> None:
    content = (
        "---\n"
        f"title: {EN_TITLE}\n"
        "date: 2024-06-03\n"
        "source: Daily Example\n"
        "url: https://example.com/bus-lanes\n"
        "lang: en-GB\n"
        "id: bus-lanes-2024\n"
        "---\n"
        f"{EN_BODY}\n"
    )
    for suffix in (".md", ".txt", ".markdown"):
        article = load_one(write(tmp_path, f"fm{suffix}", content))
        assert article.title == EN_TITLE
        assert article.text == EN_BODY
        assert article.date == "2024-06-03"
        assert article.source == "Daily Example"
        assert article.url == "https://example.com/bus-lanes"
        assert article.lang == "en"
        assert article.id == "bus-lanes-2024"


def test_front_matter_without_title_uses_first_body_line(tmp_path: Path) -> None:
    article = load_one(write(tmp_path, "fm.md", f"---\nsource: X\n---\n\n## {AR_TITLE}\n\n{AR_BODY}"))
    assert article.title == AR_TITLE
    assert article.source == "X"
    assert article.lang == "ar"
    assert article.id.startswith("h-")


def test_front_matter_timestamp_and_unparseable_date(tmp_path: Path) -> None:
    stamp = load_one(write(tmp_path, "a.md", f"---\ndate: 2024-06-03T10:00:00Z\n---\n{EN_BODY}"))
    assert stamp.date == "2024-06-03T10:00:00+00:00"
    bad = load_one(write(tmp_path, "b.md", f"---\ndate: sometime soon\n---\n{EN_BODY}"))
    assert bad.date is None


def test_invalid_yaml_front_matter_is_an_error(tmp_path: Path) -> None:
    reason = load_error(write(tmp_path, "bad.md", f"---\ntitle: [unclosed\n---\n{EN_BODY}"))
    assert reason.startswith("invalid YAML front matter")


def test_horizontal_rule_at_the_start_is_not_front_matter(tmp_path: Path) -> None:
    text = f"---\n{EN_TITLE}\n---\n{EN_BODY}"
    article = load_one(write(tmp_path, "hr.md", text))
    assert article.text == text


# --------------------------------------------------------------------------- HTML

NOISY_HTML = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Bus lanes | Daily Example</title>
<link rel="canonical" href="https://example.com/news/bus-lanes">
<meta property="og:site_name" content="Daily Example">
<meta property="article:published_time" content="2024-06-04T08:00:00Z">
<script>var secret = "SCRIPT-TEXT-SHOULD-GO";</script>
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">NAV-TEXT-SHOULD-GO</a></li></ul></nav>
<article><h1>City council approves new bus lanes</h1>
<p>The city council voted on Tuesday to add bus lanes on three main roads, a plan debated for two years.</p>
<p>The work will start in September and take about six months, officials said.<br>Buses will run every five minutes.</p>
<p>Shop owners on the busiest street worried about deliveries, but the council promised loading bays on side roads.</p>
</article>
<footer><p>FOOTER-TEXT-SHOULD-GO &copy; 2023 Daily Example. All rights reserved.</p></footer>
<script>console.log("SECOND-SCRIPT-SHOULD-GO")</script>
</body></html>"""


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    article = load_one(write(tmp_path, "page.html", NOISY_HTML))
    for noise in ("SCRIPT-TEXT", "NAV-TEXT", "FOOTER-TEXT", "SECOND-SCRIPT"):
        assert noise not in article.text
    assert article.title == "City council approves new bus lanes"
    assert article.url == "https://example.com/news/bus-lanes"
    assert article.id == "u-" + hashlib.sha1(b"https://example.com/news/bus-lanes").hexdigest()[:16]
    assert article.source == "Daily Example"
    assert article.date == "2024-06-04"
    assert article.lang == "en"  # the text decides, not <html lang="fr">
    paragraphs = article.text.split("\n\n")
    assert paragraphs[1].startswith("The city council voted")
    # <br> is a line break inside a paragraph, not a new paragraph
    assert "officials said.\nBuses will run" in article.text


def test_html_copyright_year_is_not_taken_as_the_date(tmp_path: Path) -> None:
    html = re.sub(r'<meta property="article:published_time"[^>]*>', "", NOISY_HTML)
    assert load_one(write(tmp_path, "page.htm", html)).date is None


def test_html_windows_1256_with_meta_charset(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in AR_BODY.split("\n\n"))
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        f"<title>{AR_TITLE}</title></head><body><article><h1>{AR_TITLE}</h1>{paragraphs}</article></body></html>"
    )
    article = load_one(write(tmp_path, "ar.html", html, encoding="cp1256"))
    assert AR_BODY.split("\n\n")[0] in article.text
    assert article.lang == "ar"


@pytest.mark.parametrize("charset", ["zlib", "base64", "rot13", "no-such-charset"])
def test_html_declaring_a_charset_that_is_no_text_encoding_is_read_as_utf8(tmp_path: Path, charset: str) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in EN_BODY.split("\n\n"))
    html = f'<html><head><meta charset="{charset}"><title>{EN_TITLE}</title></head><body><article>{paragraphs}</article></body></html>'
    article = load_one(write(tmp_path, "odd.html", html))
    assert EN_BODY.split("\n\n")[0] in article.text


def test_html_without_text_is_an_error(tmp_path: Path) -> None:
    html = "<html><head><script>var a = 1;</script></head><body><nav><a href='/'>Home</a></nav></body></html>"
    assert load_error(write(tmp_path, "empty.html", html)) == "no article text found"


# --------------------------------------------------------------------------- JSON and JSON Lines


def test_json_object(tmp_path: Path) -> None:
    record = {"title": EN_TITLE, "content": EN_BODY, "published": "June 3, 2024", "url": "https://e.com/a",
              "source": "Example", "id": 42}  # fmt: skip
    article = load_one(write(tmp_path, "one.json", json.dumps(record)))
    assert (article.title, article.text, article.date, article.source) == (EN_TITLE, EN_BODY, "2024-06-03", "Example")
    assert article.id == "42"  # an explicit id wins over the url
    assert article.lang == "en"


def test_json_array_with_field_aliases_and_lang_field(tmp_path: Path) -> None:
    records = [
        {"title": AR_TITLE, "text": AR_BODY, "date": "03 يونيو 2024"},
        {"body": ["First paragraph about trains.", "Second paragraph."], "lang": "AR"},
    ]
    first, second = load_file(write(tmp_path, "many.json", json.dumps(records, ensure_ascii=False)), max_bytes=LIMIT)
    assert first.date == "2024-06-03" and first.lang == "ar"
    assert second.text == "First paragraph about trains.\n\nSecond paragraph."
    assert second.title == "First paragraph about trains."
    assert second.lang == "ar"  # a lang field wins over detection


def test_json_record_without_text_names_the_record_and_keeps_the_others(tmp_path: Path) -> None:
    records = [{"text": EN_BODY}, {"title": "No body here", "text": "   "}, {"text": AR_BODY}]
    path = write(tmp_path, "bad.json", json.dumps(records, ensure_ascii=False))
    articles, failures = load_records(path, max_bytes=LIMIT)
    assert [a.text for a in articles] == [EN_BODY, AR_BODY]
    assert failures == [("record 2", "no article text found (expected a 'text', 'content' or 'body' field)")]
    # load_file is all or nothing, and says which record spoiled it.
    assert load_error(path) == "record 2: no article text found (expected a 'text', 'content' or 'body' field)"


def test_json_shapes_that_are_errors(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "a.json", "[1, 2]")) == "record 1: is not a JSON object"
    assert load_error(write(tmp_path, "b.json", '"just a string"')) == "JSON must be an object or an array of objects"
    assert load_error(write(tmp_path, "c.json", "[]")).startswith("no article text found")
    assert load_error(write(tmp_path, "d.json", '{"title": "x"}')).startswith("no article text found")


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    content = '{\n  "title": "x",\n  "text": "y"\n  "url": "z"\n}'
    assert load_error(write(tmp_path, "bad.json", content)) == "invalid JSON at line 4: Expecting ',' delimiter"


def test_jsonl_records_and_blank_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a-1", "title": EN_TITLE, "text": EN_BODY}),
        "",
        json.dumps({"url": "https://e.com/ar", "title": AR_TITLE, "text": AR_BODY}, ensure_ascii=False),
    ]
    first, second = load_file(write(tmp_path, "feed.jsonl", "\r\n".join(lines) + "\r\n"), max_bytes=LIMIT)
    assert first.id == "a-1" and first.lang == "en"
    assert second.id == "u-" + hashlib.sha1(b"https://e.com/ar").hexdigest()[:16] and second.lang == "ar"


def test_jsonl_bad_lines_are_named_and_the_good_ones_kept(tmp_path: Path) -> None:
    good = json.dumps({"text": EN_BODY})
    other = json.dumps({"text": AR_BODY}, ensure_ascii=False)
    path = write(tmp_path, "feed.jsonl", f'{good}\n\n{{"text": "oops",}}\n[1]\n{{"title": "t"}}\n{other}\n')
    articles, failures = load_records(path, max_bytes=LIMIT)
    assert [a.text for a in articles] == [EN_BODY, AR_BODY]
    assert failures == [
        ("line 3", "invalid JSON at column 17: Expecting property name enclosed in double quotes"),
        ("line 4", "is not a JSON object"),
        ("line 5", "no article text found (expected a 'text', 'content' or 'body' field)"),
    ]
    assert load_error(path) == "line 3: invalid JSON at column 17: Expecting property name enclosed in double quotes"
    # Only bad lines: nothing to keep, every line named.
    articles, failures = load_records(write(tmp_path, "all-bad.jsonl", "[1]\n{\n"), max_bytes=LIMIT)
    assert articles == [] and [w for w, _ in failures] == ["line 1", "line 2"]


def test_jsonl_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    lines = [json.dumps({"id": "same", "text": "first"}), json.dumps({"id": "same", "text": "second"})]
    articles = load_file(write(tmp_path, "dup.jsonl", "\n".join(lines)), max_bytes=LIMIT)
    assert [a.text for a in articles] == ["first"]


# --------------------------------------------------------------------------- PDF


def test_pdf_text_and_metadata_title(tmp_path: Path) -> None:
    pdf = make_pdf([["Harbour reopens after storm", "3 June 2024", "Ships returned to the harbour on Monday."],
                    ["The second page has more (details)."]], title="Storm report")  # fmt: skip
    article = load_one(write(tmp_path, "doc.pdf", pdf))
    assert article.title == "Storm report"
    assert "Ships returned to the harbour on Monday." in article.text
    assert "\n\nThe second page has more (details)." in article.text
    assert article.lang == "en"


def test_pdf_without_title_uses_first_line_and_date_line(tmp_path: Path) -> None:
    pdf = make_pdf([["Harbour reopens after storm", "3 June 2024", "Ships returned to the harbour on Monday."]])
    article = load_one(write(tmp_path, "doc.pdf", pdf))
    assert article.title == "Harbour reopens after storm"
    assert article.date == "2024-06-03"


def test_pdf_without_text(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "scan.pdf", make_pdf([None]))) == "PDF has no extractable text"


def test_broken_pdfs(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "fake.pdf", "this is not a pdf")) == "not a PDF file (no %PDF header)"
    truncated = make_pdf([["Some text on a page."]])[:60]
    with pytest.raises(IngestError):
        load_file(write(tmp_path, "cut.pdf", truncated), max_bytes=LIMIT)


def test_damaged_pdf_gets_its_one_line_without_pypdf_warnings(tmp_path: Path) -> None:
    """pypdf repairs a wrong startxref pointer and logs it; the ingest prints only its own line."""
    import subprocess
    import sys

    data = make_pdf([["Some text on a page."]])
    at = data.rfind(b"startxref")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "damaged.pdf").write_bytes(data[:at] + b"startxref\n9\n%%EOF\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(tmp_path / "db"), "--embedding", "fake", "ingest", str(tmp_path / "in")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NEWSBOT_MODEL_DIR": str(tmp_path / "models")},
    )
    assert "pypdf" not in proc.stderr and "WARNING" not in proc.stderr, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("ingested "), proc.stdout


# --------------------------------------------------------------------------- bad inputs


def test_empty_and_blank_files(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "empty.txt", b"")) == "empty file"
    assert load_error(write(tmp_path, "blank.txt", " \n\t\n")) == "no article text found"
    assert load_error(write(tmp_path, "blank.md", "---\ntitle: Only metadata\n---\n\n")) == "no article text found"
    assert load_error(write(tmp_path, "blank.jsonl", "\n\n")) == "no article text found"


def test_binary_file(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4
    assert load_error(write(tmp_path, "image.txt", png)) == "binary file, not text"
    controls = bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15]) * 20 + b"some text"
    assert load_error(write(tmp_path, "controls.txt", controls)) == "binary file, not text"


def test_undecodable_file(tmp_path: Path) -> None:
    # Not UTF-8, and as Windows-1256/1252 it is a string of symbols (¢£¤¥¦§¨©...), not prose.
    junk = bytes(range(0xA2, 0xBF)) * 30
    assert load_error(write(tmp_path, "junk.txt", junk)).startswith("cannot decode text (tried UTF-8, UTF-16, Windows-1256")


def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(int(25.3 * BYTES_PER_MB))  # sparse: no real disk use
    assert load_error(path, max_bytes=20 * BYTES_PER_MB) == "file is 25.3 MB, over the 20 MB limit"
    small = write(tmp_path, "small.txt", "x" * 3000)
    assert load_error(small, max_bytes=1024) == "file is 2.9 KB, over the 1 KB limit"


def test_unsupported_extension(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "a.docx", "x")).startswith("unsupported file type '.docx'")


# --------------------------------------------------------------------------- encodings

ARABIC_TEXT = f"{AR_TITLE}\n\n{AR_BODY}"


@pytest.mark.parametrize(
    "encoded",
    [
        ARABIC_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + ARABIC_TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + ARABIC_TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + ARABIC_TEXT.encode("utf-16-be"),
        ARABIC_TEXT.encode("utf-16"),  # platform order, with BOM
        ARABIC_TEXT.encode("utf-16-le"),  # no BOM: found by the NUL pattern
        ARABIC_TEXT.encode("utf-16-be"),
        ARABIC_TEXT.encode("cp1256"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16", "utf16le", "utf16be", "cp1256"],
)
def test_arabic_encodings_decode_to_the_same_text(tmp_path: Path, encoded: bytes) -> None:
    assert decode_bytes(encoded) == ARABIC_TEXT
    article = load_one(write(tmp_path, "ar.txt", encoded))
    assert article.text == ARABIC_TEXT
    assert article.title == AR_TITLE
    assert article.lang == "ar"


def test_english_encodings(tmp_path: Path) -> None:
    text = "“Curly quotes” and a café — in Windows-1252.\nSecond line."
    assert decode_bytes(text.encode("cp1252")) == text
    assert decode_bytes(codecs.BOM_UTF16_LE + EN_BODY.encode("utf-16-le")) == EN_BODY
    assert decode_bytes(EN_BODY.encode("utf-16-le")) == EN_BODY


def test_newlines_are_normalised_and_nothing_else_changes() -> None:
    decomposed = "cafe\u0301"  # NFD stays NFD: offsets must match the file
    assert decode_bytes(f"a\r\nb\rc\n{decomposed}".encode()) == f"a\nb\nc\n{decomposed}"
    assert decode_bytes(codecs.BOM_UTF8 + b"x\r\n") == "x\n"


# --------------------------------------------------------------------------- ids


def test_same_content_gives_the_same_id(tmp_path: Path) -> None:
    one = load_one(write(tmp_path, "one.txt", f"{EN_TITLE}\n\n{EN_BODY}"))
    # Another name, CRLF newlines, extra spaces and case: still the same article.
    two = load_one(write(tmp_path, "sub/two.txt", f"{EN_TITLE.upper()}\r\n\r\n\r\n{EN_BODY.replace(' ', '  ')}"))
    other = load_one(write(tmp_path, "three.txt", f"{EN_TITLE}\n\n{EN_BODY} Updated."))
    assert one.id == two.id
    assert one.id != other.id
    assert re.fullmatch(r"h-[0-9a-f]{16}", one.id)


def test_article_id_rules() -> None:
    assert article_id(explicit_id="abc-1", url="https://e.com", text="t") == "abc-1"
    assert article_id(url="https://e.com/x", text="t") == "u-" + hashlib.sha1(b"https://e.com/x").hexdigest()[:16]
    assert article_id(text="Hello  World") == article_id(text="hello world")
    assert article_id(text="ﬁsh") == article_id(text="fish")  # NFKC


def test_sanitise_id() -> None:
    assert sanitise_id("news_2024.06-03") == "news_2024.06-03"
    a, b = sanitise_id("news/2024 #1"), sanitise_id("news 2024/#1")
    assert a != b
    for value in (a, b, sanitise_id("x" * 100), sanitise_id("مقال"), sanitise_id("a:b")):
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value), value
    assert sanitise_id("x" * 100) != sanitise_id("x" * 99)


# --------------------------------------------------------------------------- language


def test_detect_language() -> None:
    assert detect_language(AR_BODY) == "ar"
    assert detect_language(EN_BODY) == "en"
    assert detect_language("التقى الرئيس وفد شركة Siemens و BMW في برلين لبحث الاستثمار") == "ar"
    assert detect_language("12345 — 678") is None
    assert detect_language("") is None
    assert detect_language("Привет, как дела сегодня?") is None


def test_normalise_lang_tag() -> None:
    assert normalise_lang_tag("ar-EG") == "ar"
    assert normalise_lang_tag("EN_us") == "en"
    assert normalise_lang_tag(" ") is None
    assert normalise_lang_tag(None) is None


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-03", "2024-06-03"),
        ("2024-06-03T10:00:00Z", "2024-06-03T10:00:00+00:00"),
        ("2024-06-03 10:00", "2024-06-03T10:00:00"),
        ("2024/06/03", "2024-06-03"),
        ("03 June 2024", "2024-06-03"),
        ("3 Jun. 2024", "2024-06-03"),
        ("June 3, 2024", "2024-06-03"),
        ("Monday, June 3rd, 2024", "2024-06-03"),
        ("Mon, 03 Jun 2024 10:00:00 GMT", "2024-06-03T10:00:00+00:00"),
        ("03 يونيو 2024", "2024-06-03"),
        ("٠٣ يونيو ٢٠٢٤", "2024-06-03"),
        ("الاثنين 3 يونيو/حزيران 2024", "2024-06-03"),
        ("3 حزيران 2024", "2024-06-03"),
        ("15 تشرين الأول 2023", "2023-10-15"),
        ("1 أغسطس 2024", "2024-08-01"),
        ("1 اغسطس 2024", "2024-08-01"),
        ("7 ماي 2024", "2024-05-07"),
        ("03/06/2024", None),  # day/month order is ambiguous
        ("31 June 2024", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (20240603, None),
    ],
)
def test_parse_date(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_header_date_ignores_long_lines() -> None:
    long_line = "The council first discussed the plan on 3 June 2019, " + "and then again later. " * 5
    assert find_header_date([long_line]) is None
    assert find_header_date(["By Staff", "Updated 4 June 2024, 10:45"]) == "2024-06-04"


# --------------------------------------------------------------------------- samples


def test_every_sample_loads() -> None:
    files, problems = discover_files([SAMPLES])
    assert problems == []
    assert not any(p.name.lower() == "readme.md" for p in files)
    articles = [a for path in files for a in load_file(path, max_bytes=LIMIT)]
    assert {p.suffix for p in files} >= {".txt", ".md", ".html", ".json", ".jsonl"}
    assert {a.lang for a in articles} == {"ar", "en"}
    assert len({a.id for a in articles}) == len(articles) >= 6
    for article in articles:
        assert article.title and article.date, article.path
        assert 150 <= len(article.text.split()) <= 400, article.path
    heatwave = next(a for a in articles if (a.path or "").endswith(".html"))
    for noise in ("Weather menu link", "weather-tracking-script", "All rights reserved", "Advertisement"):
        assert noise not in heatwave.text


# --------------------------------------------------------------------------- hostile folders


def _within(seconds: float, fn, *args):
    """``fn(*args)`` in a thread; fails the test instead of hanging it (a FIFO read blocks)."""
    import threading

    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn(*args)
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn.__name__} did not return within {seconds} s"
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks (POSIX)")
def test_hostile_folder_entries_are_refused_one_by_one(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    good = write(folder, "good.txt", f"{EN_TITLE}\n\n{EN_BODY}\n")
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "dangling.md").symlink_to(folder / "missing.md")
    secret = write(tmp_path, "secret.txt", "Outside\n\nThis file lies outside the drop folder.\n")
    (folder / "outside.txt").symlink_to(secret)
    (folder / "alias.txt").symlink_to(good)  # inside the folder: followed, and the same file once
    (folder / "sub").symlink_to(tmp_path)  # a folder link: never walked into

    files, problems = _within(10, discover_files, [folder])
    assert files == [folder / "alias.txt"] or files == [good]
    reasons = {p.name: r for p, r in problems}
    assert reasons["fifo.txt"].startswith("not a regular file")
    assert reasons["zero.txt"] == "a link to outside the folder; not followed"
    assert reasons["loop.txt"].startswith("cannot resolve")
    assert reasons["dangling.md"].startswith("cannot resolve")
    assert reasons["outside.txt"] == "a link to outside the folder; not followed"
    assert reasons["sub"] == "a link to a folder; not followed"
    assert len(problems) == 6

    # Named directly, a FIFO or a device is refused on the open descriptor, without blocking.
    for name in ("fifo.txt", "zero.txt"):
        with pytest.raises(IngestError, match="not a regular file"):
            _within(10, lambda path: load_file(path, max_bytes=LIMIT), folder / name)
