"""search forgives typos and finds variants

The search document of a product holds its title (and English title), its visible variants'
sizes and colours, and its descriptions; a vocabulary of the catalog's words lets the search
correct a typo. SQLite: an FTS5 table with a vocabulary view and a version the cached
vocabulary checks; PostgreSQL: a trigger-kept table with a weighted tsvector (GIN) and the
list of the words its documents hold (kept by triggers too) with a pg_trgm GIN index.
Made by hand, kept out of autogenerate (shop.search).

Revision ID: 10d7ba0cd992
Revises: 1635bbfaf2c1
Create Date: 2026-12-03 22:02:20.173898
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "10d7ba0cd992"
down_revision: str | None = "1635bbfaf2c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _yo(sql: str) -> str:
    """Russian writers mostly type е for ё; the tokenizers keep them apart."""
    return f"replace(replace({sql}, 'ё', 'е'), 'Ё', 'Е')"


def _sqlite_refresh(product_id: str) -> str:
    """Statements putting one product's document in product_fts again (none if it is gone)."""
    labels = (
        "coalesce((SELECT group_concat(coalesce(v.size, '') || ' ' || coalesce(v.colour, ''), "
        "' ') FROM variants v WHERE v.product_id = p.id AND v.hidden = 0), '')"
    )
    return f"""DELETE FROM product_fts WHERE rowid = {product_id};
        INSERT INTO product_fts(rowid, title, labels, description)
        SELECT p.id, {_yo("p.title || ' ' || p.title_en")}, {_yo(labels)},
            {_yo("p.description || ' ' || p.description_en")}
        FROM products p WHERE p.id = {product_id};
        UPDATE product_search_version SET version = random();"""


SQLITE_DDL = [
    """CREATE VIRTUAL TABLE product_fts USING fts5(
        title, labels, description, tokenize='unicode61 remove_diacritics 2')""",
    "CREATE VIRTUAL TABLE product_fts_vocab USING fts5vocab(product_fts, 'row')",
    """CREATE TABLE product_search_version (
        id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL)""",
    "INSERT INTO product_search_version (id, version) VALUES (1, 0)",
    f"""CREATE TRIGGER product_fts_ai AFTER INSERT ON products BEGIN
        {_sqlite_refresh("new.id")} END""",
    """CREATE TRIGGER product_fts_ad AFTER DELETE ON products BEGIN
        DELETE FROM product_fts WHERE rowid = old.id;
        UPDATE product_search_version SET version = random(); END""",
    f"""CREATE TRIGGER product_fts_au
        AFTER UPDATE OF title, description, title_en, description_en ON products BEGIN
        {_sqlite_refresh("new.id")} END""",
    f"""CREATE TRIGGER product_fts_vi AFTER INSERT ON variants BEGIN
        {_sqlite_refresh("new.product_id")} END""",
    f"""CREATE TRIGGER product_fts_vd AFTER DELETE ON variants BEGIN
        {_sqlite_refresh("old.product_id")} END""",
    f"""CREATE TRIGGER product_fts_vu
        AFTER UPDATE OF size, colour, hidden, product_id ON variants BEGIN
        {_sqlite_refresh("old.product_id")}
        {_sqlite_refresh("new.product_id")} END""",
]
SQLITE_BACKFILL = f"""INSERT INTO product_fts(rowid, title, labels, description)
    SELECT p.id, {_yo("p.title || ' ' || p.title_en")},
        {_yo("coalesce((SELECT group_concat(coalesce(v.size, '') || ' ' || coalesce(v.colour, ''), ' ') FROM variants v WHERE v.product_id = p.id AND v.hidden = 0), '')")},
        {_yo("p.description || ' ' || p.description_en")}
    FROM products p"""  # noqa: E501
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_fts_vu",
    "DROP TRIGGER IF EXISTS product_fts_vd",
    "DROP TRIGGER IF EXISTS product_fts_vi",
    "DROP TRIGGER IF EXISTS product_fts_au",
    "DROP TRIGGER IF EXISTS product_fts_ad",
    "DROP TRIGGER IF EXISTS product_fts_ai",
    "DROP TABLE IF EXISTS product_search_version",
    "DROP TABLE IF EXISTS product_fts_vocab",
    "DROP TABLE IF EXISTS product_fts",
]

PG_REFRESH = """CREATE FUNCTION product_search_refresh(pid integer) RETURNS void
LANGUAGE sql AS $$
    WITH found AS (
        SELECT p.id,
            translate(p.title || ' ' || p.title_en, 'ёЁ', 'еЕ') AS title,
            translate(coalesce((
                SELECT string_agg(concat_ws(' ', v.size, v.colour), ' ' ORDER BY v.id)
                FROM variants v WHERE v.product_id = p.id AND NOT v.hidden), ''),
                'ёЁ', 'еЕ') AS labels,
            translate(p.description || ' ' || p.description_en, 'ёЁ', 'еЕ') AS description
        FROM products p WHERE p.id = pid
    ), made AS (
        SELECT id, title, labels,
            setweight(to_tsvector('simple', title), 'A')
            || setweight(to_tsvector('simple', labels), 'B')
            || setweight(to_tsvector('simple', description), 'D') AS document
        FROM found
    )
    INSERT INTO product_search (product_id, title, labels, document)
    SELECT id, title, labels, document FROM made
    ON CONFLICT (product_id) DO UPDATE
    SET title = EXCLUDED.title, labels = EXCLUDED.labels, document = EXCLUDED.document
$$"""
PG_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE product_search (
        product_id integer PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
        title text NOT NULL,
        labels text NOT NULL,
        document tsvector NOT NULL)""",
    "CREATE INDEX ix_product_search_document ON product_search USING gin (document)",
    'CREATE TABLE product_search_words (word text COLLATE "C" PRIMARY KEY)',
    """CREATE INDEX ix_product_search_words_trgm
        ON product_search_words USING gin (word gin_trgm_ops)""",
    PG_REFRESH,
    """CREATE FUNCTION product_search_words_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM product_search_words w
            WHERE w.word = ANY (tsvector_to_array(OLD.document))
            AND NOT EXISTS (SELECT 1 FROM product_search s
                WHERE s.document @@ to_tsquery('simple', quote_literal(w.word)));
            RETURN NULL;
        END IF;
        INSERT INTO product_search_words (word)
        SELECT word FROM unnest(tsvector_to_array(NEW.document)) AS word ORDER BY 1
        ON CONFLICT DO NOTHING;
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM product_search_words w
            WHERE w.word = ANY (tsvector_to_array(OLD.document))
            AND NOT w.word = ANY (tsvector_to_array(NEW.document))
            AND NOT EXISTS (SELECT 1 FROM product_search s
                WHERE s.document @@ to_tsquery('simple', quote_literal(w.word)));
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_words_kept
        AFTER INSERT OR UPDATE OR DELETE ON product_search
        FOR EACH ROW EXECUTE FUNCTION product_search_words_kept()""",
    """CREATE FUNCTION product_search_words_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM product_search_words;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_words_cleared AFTER TRUNCATE ON product_search
        FOR EACH STATEMENT EXECUTE FUNCTION product_search_words_cleared()""",
    """CREATE FUNCTION product_search_on_product() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM product_search_refresh(NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_product
        AFTER INSERT OR UPDATE OF title, description, title_en, description_en ON products
        FOR EACH ROW EXECUTE FUNCTION product_search_on_product()""",
    """CREATE FUNCTION product_search_on_variant() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM product_search_refresh(NEW.product_id);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM product_search_refresh(OLD.product_id);
        ELSE
            PERFORM product_search_refresh(OLD.product_id);
            IF NEW.product_id <> OLD.product_id THEN
                PERFORM product_search_refresh(NEW.product_id);
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER product_search_variant
        AFTER INSERT OR DELETE OR UPDATE OF size, colour, hidden, product_id ON variants
        FOR EACH ROW EXECUTE FUNCTION product_search_on_variant()""",
    "SELECT product_search_refresh(id) FROM products",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS product_search_variant ON variants",
    "DROP TRIGGER IF EXISTS product_search_product ON products",
    "DROP FUNCTION IF EXISTS product_search_on_variant()",
    "DROP FUNCTION IF EXISTS product_search_on_product()",
    "DROP TRIGGER IF EXISTS product_search_words_cleared ON product_search",
    "DROP TRIGGER IF EXISTS product_search_words_kept ON product_search",
    "DROP FUNCTION IF EXISTS product_search_words_cleared()",
    "DROP FUNCTION IF EXISTS product_search_words_kept()",
    "DROP FUNCTION IF EXISTS product_search_refresh(integer)",
    "DROP TABLE IF EXISTS product_search_words",
    "DROP TABLE IF EXISTS product_search",
]

# What the previous revision had (the initial schema's search objects), for the way back.
OLD_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS product_fts_au",
    "DROP TRIGGER IF EXISTS product_fts_ad",
    "DROP TRIGGER IF EXISTS product_fts_ai",
    "DROP TABLE IF EXISTS product_fts",
]
OLD_SQLITE_DDL = [
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
OLD_PG_INDEX = (
    "CREATE INDEX ix_products_search ON products USING gin ((to_tsvector('simple'::regconfig, "
    "translate(coalesce(title, '') || ' ' || coalesce(description, ''), 'ёЁ', 'еЕ'))))"
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        for statement in [*OLD_SQLITE_DROP, *SQLITE_DDL, SQLITE_BACKFILL]:
            op.execute(statement)
        return
    op.execute("DROP INDEX IF EXISTS ix_products_search")
    for statement in PG_DDL:
        op.execute(statement)


def downgrade() -> None:
    if _sqlite():
        for statement in [*SQLITE_DROP, *OLD_SQLITE_DDL]:
            op.execute(statement)
        return
    for statement in PG_DROP:
        op.execute(statement)
    op.execute(OLD_PG_INDEX)
