"""The product search on PostgreSQL: a weighted tsvector (GIN) finds and ranks, pg_trgm
(a GIN trigram index over the catalog's words) proposes the neighbours of a typo.

The trigram threshold is low enough that every word within shop.search's typo distance
is proposed (a superset); shop.search keeps only those within the distance, as on SQLite.
The word list only grows (a trigger adds the words of every product written); a word no
product holds any more is proposed but then not found by occurring_words.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shop.search_query import Candidate, Word

TRIGRAM_THRESHOLD = "0.19"
"""Below the least similarity of two words one edit apart (4 letters: 2/8) or two edits
apart (8 letters and more: 3/15), so the trigram index never misses a neighbour."""
_OCCURRING = text(
    "SELECT q.i FROM unnest(CAST(:queries AS text[])) WITH ORDINALITY AS q(tsq, i) "
    "WHERE EXISTS (SELECT 1 FROM product_search s "
    "WHERE s.document @@ to_tsquery('simple', q.tsq))"
)
_THRESHOLD = text("SELECT set_config('pg_trgm.similarity_threshold', :threshold, true)")
_NEIGHBOURS = text(
    "SELECT q.i, w.word FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS q(word, i) "
    "JOIN product_search_words w ON w.word % q.word"
)
_WORDS_OCCURRING = text(
    "SELECT w FROM unnest(CAST(:words AS text[])) AS w WHERE EXISTS (SELECT 1 "
    "FROM product_search s WHERE s.document @@ to_tsquery('simple', quote_literal(w)))"
)
_FIND = text(
    "SELECT product_id, title, labels FROM product_search "
    "WHERE document @@ to_tsquery('simple', :q) "
    "ORDER BY ts_rank(document, to_tsquery('simple', :q)) DESC, product_id LIMIT :limit"
)


def word_query(word: Word) -> str:
    """A tsquery for one word: its prefix or any of its whole-word forms."""
    terms = [f"'{word.prefix}':*"] if word.prefix else []
    terms += [f"'{term}'" for term in sorted(word.exact)]
    return "(" + " | ".join(terms) + ")"


class PostgresIndex:
    async def occurring(self, session: AsyncSession, words: list[Word]) -> list[bool]:
        queries = [word_query(word) for word in words]
        found = set((await session.execute(_OCCURRING, {"queries": queries})).scalars())
        return [i in found for i in range(1, len(words) + 1)]

    async def neighbours(self, session: AsyncSession, words: list[str]) -> list[set[str]]:
        await session.execute(_THRESHOLD, {"threshold": TRIGRAM_THRESHOLD})
        near: list[set[str]] = [set() for _ in words]
        for i, word in await session.execute(_NEIGHBOURS, {"words": words}):
            near[i - 1].add(word)
        return near

    async def occurring_words(self, session: AsyncSession, words: set[str]) -> set[str]:
        """The word list keeps words of products edited since: each is checked here."""
        if not words:
            return set()
        rows = await session.execute(_WORDS_OCCURRING, {"words": sorted(words)})
        return set(rows.scalars())

    async def candidates(
        self, session: AsyncSession, words: list[Word], limit: int
    ) -> list[Candidate]:
        query = " & ".join(word_query(word) for word in words)
        rows = await session.execute(_FIND, {"q": query, "limit": limit})
        return [Candidate(*row) for row in rows]
