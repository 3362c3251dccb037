"""Synthetic news for the bench: any number of English and Arabic articles of realistic length and vocabulary, made from seeded random words."""

from __future__ import annotations

import numpy as np

from ingest.types import Article

_EN_FUNCTION = (
    "the of and in to a said on for with by at from was has that is as after its were will "
    "have been their they which an this over more than two three new also would about last"
).split()
_AR_FUNCTION = "في من على إلى أن التي الذي قال مع عن بعد هذا هذه كان وقد حيث بين خلال منذ أكثر".split()
_EN_ONSETS = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr", "r", "s", "st", "t", "tr", "v", "w"]
_EN_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_EN_CODAS = ["", "", "n", "r", "s", "t", "l", "nd", "st", "m"]
_AR_LETTERS = list("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")


def _en_words(rng: np.random.Generator, n: int) -> list[str]:
    syllables = rng.integers(1, 4, size=n)
    onsets = rng.integers(0, len(_EN_ONSETS), size=(n, 3))
    vowels = rng.integers(0, len(_EN_VOWELS), size=(n, 3))
    codas = rng.integers(0, len(_EN_CODAS), size=n)
    return [
        "".join(_EN_ONSETS[o] + _EN_VOWELS[v] for o, v in zip(onsets[i, :k], vowels[i, :k])) + _EN_CODAS[codas[i]]
        for i, k in enumerate(syllables.tolist())
    ]


def _ar_words(rng: np.random.Generator, n: int) -> list[str]:
    lengths = rng.integers(3, 7, size=n)
    letters = rng.integers(0, len(_AR_LETTERS), size=(n, 6))
    article = rng.random(n) < 0.3
    return [
        ("ال" if article[i] else "") + "".join(_AR_LETTERS[x] for x in letters[i, :k]) for i, k in enumerate(lengths.tolist())
    ]


class SyntheticNews:
    """Deterministic pseudo-news articles with a Zipf vocabulary per language."""

    def __init__(self, seed: int = 0, vocabulary: int = 30_000) -> None:
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.vocab = {
            "en": list(dict.fromkeys(_en_words(rng, vocabulary * 2)))[:vocabulary],
            "ar": list(dict.fromkeys(_ar_words(rng, vocabulary * 2)))[:vocabulary],
        }
        ranks = np.arange(1, vocabulary + 1, dtype=np.float64)
        weights = 1.0 / (ranks + 20.0) ** 1.07  # Zipf-Mandelbrot: no content word is as common as "the"
        self.cdf = np.cumsum(weights / weights.sum())
        self.function = {"en": _EN_FUNCTION, "ar": _AR_FUNCTION}

    def _words(self, rng: np.random.Generator, lang: str, n: int) -> list[str]:
        """``n`` words: ~30% function words, ~3% numbers, the rest Zipf-distributed vocabulary."""
        vocab, function = self.vocab[lang], self.function[lang]
        kind = rng.random(n)
        ranks = np.minimum(np.searchsorted(self.cdf, rng.random(n)), len(vocab) - 1)
        fidx = rng.integers(0, len(function), size=n)
        nums = rng.integers(2, 5000, size=n)
        return [
            function[f] if r < 0.3 else str(x) if r < 0.33 else vocab[j]
            for r, j, f, x in zip(kind.tolist(), ranks.tolist(), fidx.tolist(), nums.tolist())
        ]

    def sentence(self, rng: np.random.Generator, lang: str) -> str:
        words = self._words(rng, lang, int(rng.integers(8, 24)))
        if lang == "en":
            words[0] = words[0].capitalize()
        return " ".join(words) + "."

    def article(self, i: int) -> Article:
        rng = np.random.default_rng((self.seed, i))
        lang = "en" if rng.random() < 0.6 else "ar"
        title = " ".join(self._words(rng, lang, int(rng.integers(5, 10))))
        date = f"20{int(rng.integers(18, 25))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        paragraphs = [
            " ".join(self.sentence(rng, lang) for _ in range(int(rng.integers(2, 5)))) for _ in range(int(rng.integers(4, 16)))
        ]
        text = "\n\n".join([title, date, *paragraphs])
        return Article(
            id=f"bench-{self.seed}-{i}",
            text=text,
            title=title,
            date=date,
            source=f"source{i % 7}",
            url=None,
            lang=lang,
            path=None,
        )


def article_file_text(article: Article) -> str:
    """The article as a ``.txt`` file the loaders read back (title line, date line, paragraphs)."""
    return article.text + "\n"
