"""Synthetic news articles for fault, load and server tests (generated, so any number of them).

Each article is a title line, a date line and a few paragraphs of plain sentences built from
small word lists and the article's number, so every article (and most chunks) differ, and a
question naming an article's town finds it.
"""

from __future__ import annotations

import random
from pathlib import Path

TOWNS = [
    "Aldmoor",
    "Brackwell",
    "Corrin",
    "Dunmore",
    "Eastfold",
    "Farrow",
    "Glenbury",
    "Harlow",
    "Ivesby",
    "Jarrow",
    "Kestrel",
    "Lynmouth",
    "Marlow",
    "Northam",
    "Oakridge",
    "Penrith",
    "Quarry",
    "Redhill",
]
SUBJECTS = ["council", "harbour authority", "school board", "hospital trust", "rail operator", "water company"]
VERBS = ["approved", "postponed", "announced", "rejected", "reviewed", "extended"]
OBJECTS = ["a new budget", "the bridge repairs", "a bus timetable", "the flood barrier", "a library wing"]
DETAILS = [
    "Residents asked questions at a public meeting that lasted until late in the evening.",
    "The decision follows a consultation that drew several hundred written responses.",
    "Officials said the work would be paid for from reserves rather than new borrowing.",
    "Opposition members called for an independent review of the costs involved.",
    "A spokesperson said further details would be published on the website next week.",
    "Local businesses welcomed the plan but warned about disruption during construction.",
]


def town(i: int) -> str:
    return f"{TOWNS[i % len(TOWNS)]}{i}"


def url(i: int) -> str:
    return f"https://news.example.org/{i}"


def article_text(i: int, version: int = 1, paragraphs: int = 4) -> str:
    """Article ``i`` (``version`` changes one number in its first paragraph)."""
    rng = random.Random(i * 7919 + 17)
    name = town(i)
    title = f"{name} {SUBJECTS[i % len(SUBJECTS)]} {VERBS[i % len(VERBS)]} {OBJECTS[i % len(OBJECTS)]}"
    lines = [title, "", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}", ""]
    amount = 1000 + 37 * i + 100000 * (version - 1)
    first = (
        f"The {SUBJECTS[i % len(SUBJECTS)]} of {name} {VERBS[i % len(VERBS)]} {OBJECTS[i % len(OBJECTS)]} "
        f"worth {amount} dinars on Tuesday. The vote in {name} was {3 + i % 9} to {1 + i % 4}."
    )
    lines += [first, ""]
    for p in range(paragraphs - 1):
        sentences = [rng.choice(DETAILS) for _ in range(3)]
        sentences.append(f"In {name}, item {p + 1} of the plan concerns {OBJECTS[(i + p) % len(OBJECTS)]}.")
        lines += [" ".join(sentences), ""]
    return "\n".join(lines)


def write_corpus(folder: Path, n: int, *, version: int = 1, start: int = 0) -> list[Path]:
    """``n`` article files ``art-NNNN.txt`` in ``folder``; returns their paths.

    Each file has front matter with a URL, so its article id stays the same across versions
    (a new version is a new revision of the same article, not another article).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"art-{i:04d}.txt"
        path.write_text(f"---\nurl: {url(i)}\n---\n" + article_text(i, version), encoding="utf-8")
        paths.append(path)
    return paths


def question(i: int) -> str:
    """A question that article ``i``'s first sentence answers (the amount, which versions change)."""
    return f"How much was {OBJECTS[i % len(OBJECTS)]} that the {SUBJECTS[i % len(SUBJECTS)]} of {town(i)} {VERBS[i % len(VERBS)]} worth?"


# --------------------------------------------------------------------------- PDF helper


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def make_pdf(pages: list[list[str] | None], title: str | None = None) -> bytes:
    """A minimal valid PDF: one page per entry; a list of lines is drawn as text in
    Helvetica (a standard Type1 font), ``None`` draws only a filled rectangle."""
    objects: dict[int, bytes] = {}
    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    for pid, lines in zip(page_ids, pages, strict=True):
        if lines is None:
            stream = b"0.2 0.4 0.8 rg 72 500 300 200 re f"
        else:
            shown = b" Tj T* ".join(_pdf_string(line) for line in lines)
            stream = b"BT /F1 12 Tf 16 TL 72 720 Td " + shown + b" Tj ET"
        objects[pid] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {pid + 1} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        ).encode()
        objects[pid + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    info_id = 4 + 2 * len(pages)
    objects[info_id] = b"<< /Title " + _pdf_string(title) + b" >>" if title else b"<< >>"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = info_id + 1
    out += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info {info_id} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
