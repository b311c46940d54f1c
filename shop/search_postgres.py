"""The product search on PostgreSQL: a weighted tsvector (GIN) finds, pg_trgm
(a GIN trigram index over the catalog's words) proposes the neighbours of a typo.

The trigram threshold is low enough that every word within shop.search's typo distance
is proposed (a superset); shop.search keeps only those within the distance, as on SQLite.
Whether a word occurs at all is read from the same word list (triggers keep it to the words
the documents hold), by the C-collated primary key: a prefix is a range of it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shop.search_query import Candidate, Word

TRIGRAM_THRESHOLD = "0.19"
"""Below the least similarity of two words one edit apart (4 letters: 2/8) or two edits
apart (8 letters and more: 3/15), so the trigram index never misses a neighbour."""
_OCCURRING = text(
    "SELECT q.p FROM unnest(CAST(:prefixes AS text[])) AS q(p) WHERE EXISTS (SELECT 1 "
    "FROM product_search_words w WHERE w.word >= q.p AND w.word < q.p || chr(1114111)) "
    "UNION ALL SELECT word FROM product_search_words WHERE word = ANY(CAST(:wholes AS text[]))"
)
_THRESHOLD = text("SELECT set_config('pg_trgm.similarity_threshold', :threshold, true)")
_NEIGHBOURS = text(
    "SELECT q.i, w.word FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS q(word, i) "
    "JOIN product_search_words w ON w.word % q.word AND left(w.word, 1) = left(q.word, 1)"
)
_FIND = text(
    "SELECT product_id, title, labels FROM product_search "
    "WHERE document @@ to_tsquery('simple', :q) "
    "ORDER BY document @@ to_tsquery('simple', :in_title) DESC, product_id LIMIT :limit"
)


def word_query(word: Word, in_title: bool = False) -> str:
    """A tsquery for one word: its prefix or any of its whole-word forms (A: the title's)."""
    weight = "A" if in_title else ""
    terms = [f"'{word.prefix}':*{weight}"] if word.prefix else []
    terms += [f"'{term}'" + (f":{weight}" if weight else "") for term in sorted(word.exact)]
    return "(" + " | ".join(terms) + ")"


class PostgresIndex:
    async def occurring(self, session: AsyncSession, words: list[Word]) -> list[bool]:
        prefixes = sorted({word.prefix for word in words if word.prefix})
        wholes = sorted({term for word in words if not word.prefix for term in word.exact})
        params = {"prefixes": prefixes, "wholes": wholes}
        found = set((await session.execute(_OCCURRING, params)).scalars())
        return [word.prefix in found if word.prefix else bool(word.exact & found) for word in words]

    async def neighbours(self, session: AsyncSession, words: list[str]) -> list[set[str]]:
        await session.execute(_THRESHOLD, {"threshold": TRIGRAM_THRESHOLD})
        near: list[set[str]] = [set() for _ in words]
        for i, word in await session.execute(_NEIGHBOURS, {"words": words}):
            near[i - 1].add(word)
        return near

    async def find(self, session: AsyncSession, words: list[Word], limit: int) -> list[Candidate]:
        """One pass over the matches: title matches first, each part by id."""
        params = {
            "q": " & ".join(word_query(word) for word in words),
            "in_title": " & ".join(word_query(word, in_title=True) for word in words),
            "limit": limit,
        }
        rows = await session.execute(_FIND, params)
        return [Candidate(*row) for row in rows]
