"""Turn the bytes of a text file into ``str``: detect the encoding, refuse binary data.

Detection order (cheapest and most certain first):

1. BOMs (UTF-8, UTF-32, UTF-16) — a BOM is an explicit declaration.
2. BOM-less UTF-16, recognised by NUL bytes sitting on one byte parity only.
3. NUL bytes anywhere else, or many control characters → binary, not text.
4. Strict UTF-8 — random legacy bytes almost never form valid UTF-8.
5. A declared charset (e.g. an HTML ``<meta charset>``), if the caller passes one.
6. charset-normalizer restricted to the legacy code pages our news sources use
   (Windows-1256 for Arabic, Windows-1252 for Western text), and the winner
   must still look like prose (mostly letters, digits, whitespace).

The decoded text is kept as is apart from newline normalisation (``\\r\\n`` and
``\\r`` → ``\\n``) and BOM removal, so character offsets stay meaningful.
"""

from __future__ import annotations

import codecs
import logging
import unicodedata

import charset_normalizer

from ingest.errors import IngestError

logger = logging.getLogger(__name__)

# Legacy code pages worth considering; anything wider makes charset-normalizer
# "find" exotic encodings for short or odd files.
LEGACY_CANDIDATES: tuple[str, ...] = ("cp1256", "cp1252", "iso8859_6")
_TRIED = "tried UTF-8, UTF-16, Windows-1256, Windows-1252"

_SAMPLE = 64 * 1024  # bytes/chars inspected by the heuristics; enough to judge, cheap on big files
_ALLOWED_CONTROLS = {0x09, 0x0A, 0x0B, 0x0C, 0x0D}
# Format characters that occur in real Arabic/English text (ZWNJ, ZWJ, LRM, RLM, ALM, NBSP-ish marks).
_ALLOWED_FORMAT = {"\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\u00ad", "\ufeff"}


def decode_bytes(data: bytes, *, declared: str | None = None) -> str:
    """Decode ``data`` to text or raise ``IngestError`` with a short reason.

    ``declared`` is an encoding named by the file itself (an HTML meta tag); it is
    tried after UTF-8 but still has to produce plausible text.
    """
    if not data:
        return ""
    text = _decode_with_bom(data)
    if text is None:
        text = _decode_bomless_utf16(data)
    if text is None:
        if b"\x00" in data[:_SAMPLE]:
            raise IngestError("binary file, not text")
        if _control_ratio_bytes(data[:_SAMPLE]) > 0.05:
            raise IngestError("binary file, not text")
        text = _decode_utf8(data)
    if text is None and declared:
        text = _decode_declared(data, declared)
    if text is None:
        text = _decode_legacy(data)
    if text is None:
        raise IngestError(f"cannot decode text ({_TRIED})")
    if _control_ratio_text(text[:_SAMPLE]) > 0.05:
        raise IngestError("binary file, not text")
    return normalise_newlines(text.removeprefix("\ufeff"))


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_with_bom(data: bytes) -> str | None:
    # UTF-32 first: its LE BOM starts with the UTF-16 LE BOM.
    boms = (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as err:
                # A BOM followed by garbage is not a text file we can trust.
                raise IngestError(f"cannot decode text (has a {encoding.upper()} BOM but invalid data)") from err
    return None


def _decode_bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: NULs concentrate on one byte parity (ASCII, spaces, digits)."""
    sample = data[:_SAMPLE]
    if len(data) % 2 or len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    pairs = len(sample) // 2
    # Arabic letters are 0x06xx (no NUL byte) but spaces/newlines/digits still give
    # NULs, so ask for a modest share on one side and almost none on the other.
    for nuls, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if nuls >= max(2, pairs // 20) and other <= nuls // 50:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _looks_like_prose(text[:_SAMPLE]):
                logger.debug("detected BOM-less %s", encoding)
                return text
    return None


def _decode_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_declared(data: bytes, declared: str) -> str | None:
    try:
        info = codecs.lookup(declared)
    except LookupError:
        logger.debug("ignoring unknown declared charset %r", declared)
        return None
    if not getattr(info, "_is_text_encoding", True):  # "zlib", "base64", "rot13": not charsets
        logger.debug("ignoring declared charset %r: not a text encoding", declared)
        return None
    try:
        text = data.decode(info.name)
    except (UnicodeDecodeError, ValueError, TypeError):
        return None
    return text if _looks_like_prose(text[:_SAMPLE]) else None


def _decode_legacy(data: bytes) -> str | None:
    best = charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_CANDIDATES)).best()
    if best is None:
        return None
    text = str(best)
    if not _looks_like_prose(text[:_SAMPLE]):
        logger.debug("charset-normalizer picked %s but the text does not look like prose", best.encoding)
        return None
    logger.debug("decoded as %s", best.encoding)
    return text


def _control_ratio_bytes(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for b in sample if b < 0x20 and b not in _ALLOWED_CONTROLS) + sample.count(0x7F)
    return controls / len(sample)


def _control_ratio_text(sample: str) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ord(ch) not in _ALLOWED_CONTROLS)
    return controls / len(sample)


def _looks_like_prose(sample: str) -> bool:
    """Mostly letters/digits/whitespace, few symbols or unassigned/control code points.

    Wrong code pages turn letters into symbols (``¤``, ``§``, ``±``) or unassigned
    code points; real text in any script is dominated by letters and spaces.
    """
    if not sample:
        return False
    good = bad = 0
    for ch in sample:
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or ch.isspace():
            good += 1
        elif cat[0] == "S" or cat in ("Cc", "Co", "Cn", "Cs") or (cat == "Cf" and ch not in _ALLOWED_FORMAT):
            bad += 1
    return good / len(sample) >= 0.6 and bad / len(sample) <= 0.1
