"""The catalog by CSV: /export sends it as a file; a .csv the owner sends is checked whole,
previewed, and applied only after "Apply" (the parsed rows wait in the database meanwhile).

A file with any bad line applies nothing: the owner gets every bad line with its number and
reason (as a file too when there are many).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from handlers.context import Ctx, Router
from handlers.events import Attachment, EventKind
from handlers.format import money, shorten
from handlers.screens import Document, Reply
from shop import audit, csv_catalog
from shop.csv_catalog import BadLine, Change, Plan, Row
from shop.errors import ShopError
from shop.models import CatalogUpload, Role

router = Router()

SHOWN_BAD_LINES = 30
EXAMPLES = 3
AUDITED_CHANGES = 50
CSV_TYPES = ("text/csv", "text/comma-separated-values", "application/vnd.ms-excel")


def _csv_document(ctx: Ctx) -> Attachment | None:
    if ctx.event.kind is not EventKind.MEDIA or ctx.event.place is not None:
        return None
    for item in ctx.event.media:
        if item.kind == "document" and (
            item.name.lower().endswith(".csv") or item.mime in CSV_TYPES
        ):
            return item
    return None


@router.action(r"adm:export")
@router.command("export")
async def export_catalog(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "export")
    data = await csv_catalog.export(ctx.session)
    return ctx.screen(
        ctx.t("csv.export"),
        [ctx.button("btn.admin", "adm")],
        document=Document(csv_catalog.EXPORT_NAME, data),
    )


@router.action(r"adm:import")
async def explain_import(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "import")
    return ctx.screen(ctx.t("csv.how"), [ctx.button("btn.admin_export", "adm:export")])


@router.free_input
async def receive_csv(ctx: Ctx) -> Reply | None:
    """A .csv sent in a private chat: the owner's catalog upload (anyone else is refused)."""
    document = _csv_document(ctx)
    if document is None:
        return None
    await ctx.require(Role.OWNER, "import")
    if document.size > csv_catalog.MAX_BYTES:
        raise ShopError("csv_too_big", limit=csv_catalog.MAX_BYTES // (1024 * 1024))
    rows, bad = csv_catalog.read_upload(await ctx.fetch(document))
    if bad:
        return _bad_lines(ctx, bad)
    planned = await csv_catalog.plan(ctx.session, rows)
    if planned.bad:
        return _bad_lines(ctx, planned.bad)
    if not planned.new and not planned.changed:
        return ctx.screen(
            ctx.t("csv.nothing", unchanged=planned.unchanged), [ctx.button("btn.admin", "adm")]
        )
    upload = CatalogUpload(actor=str(ctx.event.account), rows=[row.values() for row in rows])
    ctx.session.add(upload)
    await ctx.session.flush()
    return ctx.screen(
        _preview(ctx, planned),
        [ctx.button("btn.admin_confirm", f"adm:csv:ok:{upload.id}")],
        [ctx.button("btn.cancel", f"adm:csv:no:{upload.id}")],
    )


@router.action(r"adm:csv:(ok|no):(\d{1,9})")
async def confirm_upload(ctx: Ctx, answer: str, upload_id: str) -> Reply:
    await ctx.require(Role.OWNER, "import")
    upload = await ctx.session.scalar(
        select(CatalogUpload).where(
            CatalogUpload.id == int(upload_id), CatalogUpload.actor == str(ctx.event.account)
        )
    )
    if upload is None:
        raise ShopError("not_available")
    await ctx.session.execute(delete(CatalogUpload).where(CatalogUpload.id == upload.id))
    if answer == "no":
        return ctx.screen(ctx.t("csv.dropped"), [ctx.button("btn.admin", "adm")])
    stored_id, rows = upload.id, csv_catalog.rows_from_values(upload.rows)
    ctx.session.expunge(upload)  # its stored copy of the rows can go
    del upload
    planned = await csv_catalog.plan(ctx.session, rows)
    if planned.bad:  # the shop changed since the preview
        return _bad_lines(ctx, planned.bad)
    await csv_catalog.apply(ctx.session, planned)
    await audit.record(
        ctx.session,
        ctx.event.account,
        "csv_import",
        f"upload:{stored_id}",
        {c.sku: {k: v[0] for k, v in c.fields.items()} for c in planned.changed[:AUDITED_CHANGES]},
        {
            "new": len(planned.new),
            "changed": len(planned.changed),
            "unchanged": planned.unchanged,
            "new_skus": [row.sku for row in planned.new[:AUDITED_CHANGES]],
        },
    )
    return ctx.screen(
        ctx.t("csv.applied", new=len(planned.new), changed=len(planned.changed)),
        [ctx.button("btn.admin", "adm")],
    )


def _reason(ctx: Ctx, bad: BadLine) -> str:
    return ctx.t(
        "csv.line", line=bad.line, reason=ctx.t(f"csv.bad.{bad.reason}", detail=bad.detail)
    )


def _bad_lines(ctx: Ctx, bad: list[BadLine]) -> Reply:
    """Every bad line: the first ones on screen, all of them in a file when there are more."""
    lines = [_reason(ctx, item) for item in bad]
    text = ctx.t("csv.bad", count=len(bad)) + "\n" + "\n".join(lines[:SHOWN_BAD_LINES])
    back = [ctx.button("btn.admin", "adm")]
    if len(lines) <= SHOWN_BAD_LINES:
        return ctx.screen(shorten_lines(text, ctx.caps.text_length), back)
    text += "\n" + ctx.t("csv.bad_more", count=len(lines) - SHOWN_BAD_LINES)
    everything = Document("errors.txt", "\n".join(lines).encode("utf-8"), "text/plain")
    return ctx.screen(shorten_lines(text, ctx.caps.caption_length), back, document=everything)


def shorten_lines(text: str, limit: int) -> str:
    """``text`` cut at a line end to fit ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: text.rfind("\n", 0, limit - 1)] + "\n…"


def _describe_new(ctx: Ctx, row: Row) -> str:
    return ctx.t(
        "csv.example_new", sku=row.sku, title=shorten(row.title, 40), price=money(row.price)
    )


def _show_value(name: str, value: object) -> str:
    if name == "price" and isinstance(value, int):
        return money(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return shorten(str(value), 30) or "—"


def _describe_change(ctx: Ctx, change: Change) -> str:
    fields = ", ".join(
        f"{name}: {_show_value(name, old)} → {_show_value(name, new)}"
        for name, (old, new) in list(change.fields.items())[:3]
    )
    return ctx.t("csv.example_changed", sku=change.sku, fields=fields)


def _preview(ctx: Ctx, planned: Plan) -> str:
    parts = [
        ctx.t(
            "csv.preview",
            new=len(planned.new),
            changed=len(planned.changed),
            unchanged=planned.unchanged,
        )
    ]
    if planned.new_categories:
        names = ", ".join(shorten(name, 40) for name in planned.new_categories[:5])
        parts.append(ctx.t("csv.new_categories", names=names))
    parts += [_describe_new(ctx, row) for row in planned.new[:EXAMPLES]]
    parts += [_describe_change(ctx, change) for change in planned.changed[:EXAMPLES]]
    parts.append(ctx.t("csv.confirm"))
    return shorten_lines("\n".join(parts), ctx.caps.text_length)
