"""The product search on SQLite: FTS5 finds, a cached vocabulary finds typos.

The vocabulary (every word FTS5 indexed) is read once into the process and read again only
when the catalog's search version changes (triggers set it on every edit of a title, a
description or a variant's size or colour), so a search costs one tiny query for it.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shop.search_query import Candidate, Word, typo_distance

_VERSION = text("SELECT version FROM product_search_version")
_TERMS = text("SELECT term FROM product_fts_vocab")
_FIND = text(
    "SELECT rowid, title, labels FROM product_fts WHERE product_fts MATCH :match "
    "ORDER BY rowid LIMIT :limit"
)


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    """Sorted."""
    known: frozenset[str]

    def has_prefix(self, prefix: str) -> bool:
        at = bisect_left(self.words, prefix)
        return at < len(self.words) and self.words[at].startswith(prefix)

    def starting_with(self, letter: str) -> list[str]:
        """The words that start with ``letter``: a range of the sorted list."""
        start = bisect_left(self.words, letter)
        return self.words[start : bisect_left(self.words, chr(ord(letter) + 1), start)]


_cache: dict[str, tuple[int, Vocabulary]] = {}


async def vocabulary(session: AsyncSession) -> Vocabulary:
    """The catalog's indexed words, from the cache while the search version is the same."""
    key = str(session.get_bind().engine.url)
    version = int(await session.scalar(_VERSION) or 0)
    cached = _cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    words = sorted((await session.execute(_TERMS)).scalars())
    found = Vocabulary(words, frozenset(words))
    _cache[key] = (version, found)
    return found


def match_expression(words: list[Word], in_title: bool = False) -> str:
    """An FTS5 query: every word, each as its prefix or any of its whole-word forms."""
    groups = []
    for word in words:
        terms = [f'"{word.prefix}"*'] if word.prefix else []
        terms += [f'"{term}"' for term in sorted(word.exact)]
        groups.append("(" + " OR ".join(terms) + ")")
    expression = " AND ".join(groups)
    return f"title : ({expression})" if in_title else expression


class SqliteIndex:
    async def occurring(self, session: AsyncSession, words: list[Word]) -> list[bool]:
        known = await vocabulary(session)
        return [
            known.has_prefix(word.prefix) if word.prefix else bool(word.exact & known.known)
            for word in words
        ]

    async def neighbours(self, session: AsyncSession, words: list[str]) -> list[set[str]]:
        known = await vocabulary(session)
        return [
            {
                choice
                for choice, _, _ in process.extract(
                    word,
                    known.starting_with(word[0]),
                    scorer=Levenshtein.distance,
                    score_cutoff=typo_distance(word),
                    limit=None,
                )
            }
            for word in words
        ]

    async def find(self, session: AsyncSession, words: list[Word], limit: int) -> list[Candidate]:
        """FTS5 reads matches in rowid order at no cost: all of them, or when there are more
        than ``limit``, the title matches first in a second query."""
        found = await self._find(session, match_expression(words), limit)
        if len(found) < limit:
            return found
        first = await self._find(session, match_expression(words, in_title=True), limit)
        taken = {candidate.product_id for candidate in first}
        rest = [candidate for candidate in found if candidate.product_id not in taken]
        return (first + rest)[:limit]

    @staticmethod
    async def _find(session: AsyncSession, match: str, limit: int) -> list[Candidate]:
        rows = await session.execute(_FIND, {"match": match, "limit": limit})
        return [Candidate(*row) for row in rows]
