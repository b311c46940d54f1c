"""The owner's add-product dialog: category (buttons), title, description, then the SKUs
(one line each: SKU; size; colour; price; stock); photos follow as captioned images."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.events import EventKind
from handlers.format import shorten
from handlers.screens import Button, Reply
from shop import category_admin, product_admin
from shop.models import Role

router = Router()

STEP = "adm:new:"
MAX_INPUT = 4200


def _cancel(ctx: Ctx) -> list[Button]:
    return [ctx.button("btn.cancel", "adm:new:x")]


@router.action(r"adm:new")
@router.command("new")
async def start_product(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "product_add")
    lines = [line for line in await category_admin.tree(ctx.session)]
    leaves = [line for i, line in enumerate(lines) if not _has_children(lines, i)]
    ctx.state.step, ctx.state.data = f"{STEP}category", {}
    rows = [[Button(shorten(line.title, 40), action=f"adm:new:c:{line.id}")] for line in leaves]
    return ctx.screen(ctx.t("admin.new_category"), *rows[:40], _cancel(ctx))


def _has_children(lines: list[category_admin.TreeLine], index: int) -> bool:
    return index + 1 < len(lines) and lines[index + 1].depth > lines[index].depth


@router.action(r"adm:new:c:(\d{1,9})")
async def choose_category(ctx: Ctx, category_id: str) -> Reply:
    await ctx.require(Role.OWNER, "product_add")
    if ctx.state.step != f"{STEP}category":
        return Reply(toast=ctx.t("error.not_available"))
    ctx.state.step = f"{STEP}title"
    ctx.state.data = {"category": int(category_id)}
    return ctx.screen(ctx.t("admin.new_title"), _cancel(ctx))


@router.action(r"adm:new:x")
async def cancel_product(ctx: Ctx) -> Reply:
    await ctx.require(Role.OWNER, "product_add")
    ctx.state.step, ctx.state.data = None, {}
    return ctx.screen(ctx.t("admin.new_cancelled"), [ctx.button("btn.admin", "adm")])


@router.step(STEP)
async def product_step(ctx: Ctx) -> Reply:
    """What the owner types at each step of the dialog; anything else asks again."""
    await ctx.require(Role.OWNER, "product_add")
    step = (ctx.state.step or "").removeprefix(STEP)
    text = ctx.event.text.strip()[:MAX_INPUT] if ctx.event.kind is EventKind.TEXT else ""
    if step == "category" or not text:
        return ctx.screen(ctx.t("admin.new_text_expected"), _cancel(ctx))
    if step == "title":
        russian, _, english = text.partition("|")
        ctx.state.data["title"] = product_admin.clean_text("title", russian)
        ctx.state.data["title_en"] = product_admin.clean_text("title_en", english)
        ctx.state.step = f"{STEP}description"
        return ctx.screen(ctx.t("admin.new_description"), _cancel(ctx))
    if step == "description":
        russian, _, english = ("" if text == "-" else text).partition("|")
        ctx.state.data["description"] = product_admin.clean_text("description", russian)
        ctx.state.data["description_en"] = product_admin.clean_text("description_en", english)
        ctx.state.step = f"{STEP}variants"
        return ctx.screen(ctx.t("admin.new_variants"), _cancel(ctx))
    variants, bad = product_admin.parse_variants(text)
    if bad:
        lines = [ctx.t(f"admin.new_bad.{reason}", line=line) for line, reason in bad]
        return ctx.screen("\n".join([*lines, "", ctx.t("admin.new_variants")]), _cancel(ctx))
    taken = await product_admin.taken_skus(ctx.session, [v.sku for v in variants])
    if taken:
        return ctx.screen(ctx.t("admin.new_taken", skus=", ".join(taken)), _cancel(ctx))
    data = ctx.state.data
    texts = {
        k: str(data.get(k, "")) for k in ("title", "title_en", "description", "description_en")
    }
    product_id = await product_admin.create_product(
        ctx.session, ctx.event.account, int(data["category"]), texts, variants
    )
    ctx.state.step, ctx.state.data = None, {}
    return ctx.screen(
        ctx.t("admin.new_done", id=product_id, title=texts["title"], sku=variants[0].sku),
        [ctx.button("btn.admin", "adm")],
    )
