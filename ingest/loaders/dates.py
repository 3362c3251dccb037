"""Article dates: parse the date forms news uses (English and Arabic month names, ISO, RFC 2822) and find one near the top of an article."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator
from datetime import date, datetime

_MAX_DATE_LINE = 100  # longer lines are prose; a date in them is not the article's date
_EN_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
# Written in normalised form (see _normalise_for_dates): Egyptian/Gulf, Maghrebi and Levantine names.
_AR_MONTHS = {
    "يناير": 1, "جانفي": 1, "كانون الثاني": 1,
    "فبراير": 2, "فيفري": 2, "شباط": 2,
    "مارس": 3, "اذار": 3,
    "ابريل": 4, "افريل": 4, "نيسان": 4,
    "مايو": 5, "ماي": 5, "ايار": 5,
    "يونيو": 6, "يونيه": 6, "جوان": 6, "حزيران": 6,
    "يوليو": 7, "يوليه": 7, "يوليوز": 7, "جويليه": 7, "تموز": 7,
    "اغسطس": 8, "غشت": 8, "اوت": 8, "اب": 8,
    "سبتمبر": 9, "شتنبر": 9, "ايلول": 9,
    "اكتوبر": 10, "تشرين الاول": 10,
    "نوفمبر": 11, "نونبر": 11, "تشرين الثاني": 11,
    "ديسمبر": 12, "دجنبر": 12, "كانون الاول": 12,
}  # fmt: skip
_MONTHS = {**_EN_MONTHS, **_AR_MONTHS}
_MONTH = "(?:" + "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True)) + ")"
# "3 يونيو/حزيران 2024" and "June (Jun) 3" name the month twice.
_ALSO = rf"(?:\s*[/(]\s*{_MONTH}\s*\)?)?"
_SUFFIX = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}}){_SUFFIX}\s+(?:of\s+)?(?P<m>{_MONTH})\b\.?{_ALSO},?\s+(?P<y>\d{{4}})(?!\d)"),
    re.compile(rf"\b(?P<m>{_MONTH})\b\.?{_ALSO}\s+(?P<d>\d{{1,2}}){_SUFFIX},?\s+(?P<y>\d{{4}})(?!\d)"),
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ARABIC_MARKS = re.compile(r"[\u0640\u064B-\u0652\u0670]")  # tatweel and harakat
_ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})


def parse_date(value: object) -> str | None:
    """A date field → ISO 8601 (``YYYY-MM-DD``, or a full timestamp if one was given).

    Accepts ISO dates/timestamps, RFC 2822 ("Mon, 03 Jun 2024 10:00:00 GMT"),
    "03 June 2024", "June 3, 2024", "2024/06/03" and Arabic month names
    ("03 يونيو 2024", "3 حزيران 2024"). Numeric day/month orders such as
    "03/06/2024" are ambiguous and give ``None``, as does anything unparseable.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):  # YAML front matter yields these
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    s = value.strip().translate(_ARABIC_DIGITS)
    if not s:
        return None
    if _ISO_DATE.fullmatch(s):
        return _valid_date(int(s[:4]), int(s[5:7]), int(s[8:10]))
    try:
        return datetime.fromisoformat(s).isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(s).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    return find_date(s)


def find_date(text: str) -> str | None:
    """The first written-out date inside ``text`` as ``YYYY-MM-DD``, or ``None``."""
    s = _normalise_for_dates(text)
    for match in _iter_date_matches(s):
        return match
    return None


def find_header_date(lines: list[str]) -> str | None:
    """A date on one of the short lines under a title ("03 يونيو 2024", "Published June 3, 2024")."""
    for line in lines:
        if len(line) <= _MAX_DATE_LINE:
            found = find_date(line)
            if found:
                return found
    return None


def _iter_date_matches(s: str) -> Iterator[str]:
    candidates: list[tuple[int, str]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(s):
            month = match.group("m")
            number = int(month) if month.isdigit() else _MONTHS.get(month)
            if number is None:
                continue
            iso = _valid_date(int(match.group("y")), number, int(match.group("d")))
            if iso:
                candidates.append((match.start(), iso))
                break
    for _, iso in sorted(candidates):  # the leftmost date in the text wins
        yield iso


def _valid_date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _normalise_for_dates(text: str) -> str:
    text = _ARABIC_MARKS.sub("", text.translate(_ARABIC_DIGITS)).translate(_ALEF_FORMS)
    return " ".join(text.split()).lower()
