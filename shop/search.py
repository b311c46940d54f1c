"""Full-text product search: FTS5 on SQLite, a GIN tsvector index on PostgreSQL.

Both index raw words; the query side stems each word (Russian or English by its script) and
matches it as a prefix, so "кружки" finds "Кружка" and "mugs" finds "Mug" on either database.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SEARCH_OBJECTS = ("product_fts", "ix_products_search")
MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL and surrogates: never in a stored title, and dropped rather than splitting a word."""


def _yo(column: str) -> str:
    """SQLite's tokenizer keeps ё apart from е; Russian writers mostly don't."""
    return f"replace(replace({column}, 'ё', 'е'), 'Ё', 'Е')"


SQLITE_DDL = [
    """CREATE VIRTUAL TABLE product_fts USING fts5(
        title, description, tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER product_fts_ai AFTER INSERT ON products BEGIN
        INSERT INTO product_fts(rowid, title, description)
        VALUES (new.id, {_yo("new.title")}, {_yo("new.description")}); END""",
    """CREATE TRIGGER product_fts_ad AFTER DELETE ON products BEGIN
        DELETE FROM product_fts WHERE rowid = old.id; END""",
    f"""CREATE TRIGGER product_fts_au AFTER UPDATE OF title, description ON products BEGIN
        DELETE FROM product_fts WHERE rowid = old.id;
        INSERT INTO product_fts(rowid, title, description)
        VALUES (new.id, {_yo("new.title")}, {_yo("new.description")}); END""",
    f"""INSERT INTO product_fts(rowid, title, description)
        SELECT id, {_yo("title")}, {_yo("description")} FROM products""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_fts_au",
    "DROP TRIGGER IF EXISTS product_fts_ad",
    "DROP TRIGGER IF EXISTS product_fts_ai",
    "DROP TABLE IF EXISTS product_fts",
]

PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, translate(coalesce(title, '') || ' ' || "
    "coalesce(description, ''), 'ёЁ', 'еЕ'))"
)
PG_DDL = [f"CREATE INDEX ix_products_search ON products USING gin (({PG_DOCUMENT}))"]
PG_DROP = ["DROP INDEX IF EXISTS ix_products_search"]


def is_search_object(name: str | None) -> bool:
    return bool(name) and name.startswith(SEARCH_OBJECTS)  # type: ignore[union-attr]


@lru_cache(maxsize=2)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


def search_terms(query: str) -> list[str]:
    """Stemmed, lower-cased prefixes of the query's words (at most MAX_TERMS)."""
    terms: list[str] = []
    query = _UNSTORABLE.sub("", query).lower().replace("ё", "е")
    for word in _WORD.findall(query)[:MAX_TERMS]:
        language = "russian" if _CYRILLIC.search(word) else "english"
        stem = _stemmer(language).stemWord(word) if len(word) > 3 else word
        terms.append(stem or word)
    return terms


async def matching_product_ids(session: AsyncSession, query: str, limit: int = 200) -> list[int]:
    """Ids of products whose title or description match every word, best first."""
    terms = search_terms(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join(f'"{term}"*' for term in terms)
        sql = text(
            "SELECT rowid FROM product_fts WHERE product_fts MATCH :match "
            "ORDER BY bm25(product_fts, 10.0, 1.0) LIMIT :limit"
        )
        rows = await session.execute(sql, {"match": match, "limit": limit})
    else:
        tsquery = " & ".join(f"{term}:*" for term in terms)
        sql = text(
            f"SELECT id FROM products WHERE {PG_DOCUMENT} @@ to_tsquery('simple', :q) "
            f"ORDER BY ts_rank({PG_DOCUMENT}, to_tsquery('simple', :q)) DESC, id LIMIT :limit"
        )
        rows = await session.execute(sql, {"q": tsquery, "limit": limit})
    return [row[0] for row in rows]
