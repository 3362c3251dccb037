"""Script-based language guess for Arabic/English news text.

The corpus is Arabic and English, so counting letters by script is enough and
needs no model: Arabic letters dominate → "ar", Latin letters dominate → "en".
"""

from __future__ import annotations

_MAX_LETTERS = 20_000  # a prefix decides; whole books need not be scanned


def is_arabic_letter(ch: str) -> bool:
    """Arabic, Arabic Supplement/Extended-A, and presentation forms (PDF extraction)."""
    cp = ord(ch)
    return (
        0x0600 <= cp <= 0x06FF
        or 0x0750 <= cp <= 0x077F
        or 0x08A0 <= cp <= 0x08FF
        or 0xFB50 <= cp <= 0xFDFF
        or 0xFE70 <= cp <= 0xFEFF
    ) and ch.isalpha()


def is_latin_letter(ch: str) -> bool:
    cp = ord(ch)
    return (
        cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF or 0xFB00 <= cp <= 0xFB06  # Latin, Extended Additional, ligatures
    ) and ch.isalpha()


def detect_language(text: str) -> str | None:
    """Return "ar" if Arabic letters are at least half the letters, "en" if Latin
    letters are, else ``None`` (no letters, or another script dominates)."""
    arabic = latin = letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        if is_arabic_letter(ch):
            arabic += 1
        elif is_latin_letter(ch):
            latin += 1
        if letters >= _MAX_LETTERS:
            break
    if letters == 0:
        return None
    # Arabic news quotes Latin names and acronyms; half the letters is a safe bar.
    if arabic * 2 >= letters:
        return "ar"
    if latin * 2 >= letters:
        return "en"
    return None


def normalise_lang_tag(value: object) -> str | None:
    """A declared language ("AR", "ar-EG", "en_US") → its lowercase primary subtag."""
    if value is None:
        return None
    tag = str(value).strip().replace("_", "-").split("-", 1)[0].lower()
    return tag if tag.isalpha() and 2 <= len(tag) <= 8 else None
