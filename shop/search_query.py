"""What a search query means: its words, stems, typo fixes, and a found product's relevance.

Pure decisions shared by both databases (shop.search), so their answers are the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
from rapidfuzz.distance import Levenshtein

MAX_TERMS = 8
MAX_FIXES = 30
"""Fixes of one typo at most (a pathological word must not make a huge query)."""
SHORT = 2
"""Words this short (sizes, numbers) must match a whole word, not a prefix."""
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL and surrogates: never in a stored title, and dropped rather than splitting a word."""
_SIZE_LETTERS = str.maketrans("смлх", "smlx")
"""Russian letters people type for the Latin size letters (М for M, ХЛ for XL)."""


@lru_cache(maxsize=2)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@dataclass
class Word:
    """One query word and the index terms that stand for it."""

    typed: str
    prefix: str = ""
    """Matches words starting with it (a stem); empty for a short word."""
    exact: set[str] = field(default_factory=set)
    """Matches these whole words: the short word itself, its size alias, or typo fixes."""
    fixed: bool = False
    """The word occurs nowhere in the catalog; ``exact`` holds its nearest neighbours."""

    def pattern(self) -> re.Pattern[str]:
        """Finds the word in lower-cased text: a token starting with the prefix, or a whole
        token among ``exact`` (tokens as _WORD splits them)."""
        options = [re.escape(self.prefix) + r"[^\W_]*"] if self.prefix else []
        options += [re.escape(term) for term in sorted(self.exact)]
        return re.compile(r"(?<![^\W_])(?:" + "|".join(options) + r")(?![^\W_])")


def split_words(query: str) -> list[str]:
    """Lower-cased words of the query, ё read as е (at most MAX_TERMS)."""
    query = _UNSTORABLE.sub("", query).lower().replace("ё", "е")
    return _WORD.findall(query)[:MAX_TERMS]


def query_words(query: str) -> list[Word]:
    """The query's words with their stems, or whole-word forms for short ones."""
    words: list[Word] = []
    for typed in split_words(query):
        if len(typed) <= SHORT or typed.isdigit():
            alias = typed.translate(_SIZE_LETTERS)
            words.append(Word(typed, exact={typed, alias}))
            continue
        language = "russian" if _CYRILLIC.search(typed) else "english"
        stem = _stemmer(language).stemWord(typed) if len(typed) > 3 else typed
        words.append(Word(typed, prefix=stem or typed))
    return words


def typo_distance(word: str) -> int:
    """Edits forgiven in a word of this length: none below 4 letters, two from 8."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def close_words(word: str, candidates: set[str]) -> list[str]:
    """The candidates near enough to ``word`` to be what was meant, nearest first.

    A fix keeps the typed first letter: people rarely miss it, and the look-up then reads
    one letter's share of the vocabulary instead of all of it.
    """
    limit = typo_distance(word)
    near = [
        (distance, candidate)
        for candidate in candidates
        if candidate[:1] == word[:1]
        and (distance := Levenshtein.distance(word, candidate, score_cutoff=limit)) <= limit
    ]
    return [candidate for _, candidate in sorted(near)]


TITLE, TITLE_FIXED, LABEL, ELSEWHERE = 4, 3, 2, 1
"""What one query word adds to a product's relevance, by where it was found."""


def relevance(words: list[Word]) -> Callable[[str, str], int]:
    """How well a product found by the index matches, from its title and labels: a word in
    the title counts most, then in a label, then elsewhere (the descriptions)."""
    patterns = [(word.pattern(), TITLE_FIXED if word.fixed else TITLE) for word in words]

    def score(title: str, labels: str) -> int:
        title, labels = title.lower(), labels.lower()
        total = 0
        for pattern, in_title in patterns:
            if pattern.search(title):
                total += in_title
            elif pattern.search(labels):
                total += LABEL
            else:
                total += ELSEWHERE
        return total

    return score


@dataclass(frozen=True)
class Candidate:
    """A product the index found, with what relevance is judged by."""

    product_id: int
    title: str
    labels: str
