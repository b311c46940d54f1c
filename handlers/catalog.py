"""Browsing: category tree, pages of products, the product card, search."""

from __future__ import annotations

from functools import partial

from handlers.context import Ctx, Router
from handlers.format import fit_label, money, shorten
from handlers.screens import Button, Photo, Reply
from shop import catalog
from shop.cart import add_to_cart, cart_count
from shop.catalog import ProductPage, visible_variants
from shop.models import Variant

router = Router()

FEW_LEFT = 3
MAX_QUANTITY = 99


@router.action(r"x")
async def nothing(ctx: Ctx) -> Reply:
    """A label-only button (page number, quantity): answer the press, change nothing."""
    return Reply()


@router.action(r"c")
@router.command("catalog")
async def show_catalog(ctx: Ctx) -> Reply:
    categories = await catalog.list_categories(ctx.session)
    if not categories:
        return ctx.screen(ctx.t("catalog.empty"), [ctx.button("btn.menu", "m")])
    rows = [[Button(c.title, action=f"c:{c.id}")] for c in categories]
    return ctx.screen(ctx.t("catalog.title"), *rows, [ctx.button("btn.menu", "m")])


def _back_to(parent_id: int | None) -> str:
    return f"c:{parent_id}" if parent_id else "c"


def _product_rows(ctx: Ctx, page: ProductPage) -> list[list[Button]]:
    rows = []
    for item in page.items:
        key = "product.line_out" if not item.in_stock else "product.line_from"
        make = partial(ctx.t, key, price=money(item.min_price))
        text = fit_label(make, item.title, ctx.caps.label_length)
        rows.append([Button(text, action=f"p:{item.id}")])
    return rows


def _pager(page: ProductPage, action: str) -> list[Button]:
    if page.pages <= 1:
        return []
    previous = page.page - 1 if page.page > 1 else page.pages
    following = page.page + 1 if page.page < page.pages else 1
    return [
        Button("◀", action=f"{action}:{previous}"),
        Button(f"{page.page}/{page.pages}", action="x"),
        Button("▶", action=f"{action}:{following}"),
    ]


@router.action(r"c:(\d{1,9})(?::(\d{1,4}))?")
async def show_category(ctx: Ctx, category_id: str, page: str = "1") -> Reply:
    category, children = await catalog.open_category(ctx.session, int(category_id))
    back = ctx.button("btn.back", _back_to(category.parent_id))
    if children:
        rows = [[Button(c.title, action=f"c:{c.id}")] for c in children]
        return ctx.screen(category.title, *rows, [back])
    products = await catalog.list_products(ctx.session, category.id, int(page))
    if not products.items:
        return ctx.screen(ctx.t("category.empty", title=category.title), [back])
    text = ctx.t("category.page", title=category.title, page=products.page, pages=products.pages)
    return ctx.screen(
        text, *_product_rows(ctx, products), _pager(products, f"c:{category.id}"), [back]
    )


def _default_variant(variants: list[Variant]) -> Variant:
    return next((v for v in variants if v.stock > 0), variants[0])


def _stock_hint(ctx: Ctx, stock: int) -> str:
    if stock <= 0:
        return ctx.t("product.out_of_stock")
    if stock <= FEW_LEFT:
        return ctx.t("product.few_left", count=stock)
    return ctx.t("product.in_stock")


@router.action(r"p:(\d{1,9})(?::(\d{1,9}):([1-9]\d?))?")
async def show_product(
    ctx: Ctx, product_id: str, variant_id: str | None = None, quantity: str = "1"
) -> Reply:
    product = await catalog.get_product(ctx.session, int(product_id))
    variants = visible_variants(product)
    chosen = next((v for v in variants if str(v.id) == variant_id), None)
    if variant_id is not None and chosen is None:
        return Reply(toast=ctx.t("error.not_available"))
    chosen = chosen or _default_variant(variants)
    count = max(1, min(int(quantity), MAX_QUANTITY, max(chosen.stock, 1)))

    facts = [ctx.t("product.variant", label=chosen.label)] if chosen.label else []
    facts += [ctx.t("product.price", price=money(chosen.price)), _stock_hint(ctx, chosen.stock)]
    tail = "\n".join(facts)
    room = ctx.caps.caption_length - len(product.title) - len(tail) - 4  # the description gives way
    text = f"{product.title}\n\n{shorten(product.description, max(room, 1))}\n\n{tail}"

    base = f"p:{product.id}"
    rows: list[list[Button]] = []
    if len(variants) > 1:
        labels = [
            Button(
                ("• " if v.id == chosen.id else "")
                + (v.label or v.sku)
                + ("" if v.stock > 0 else " ✕"),
                action=f"{base}:{v.id}:1",
            )
            for v in variants
        ]
        rows += [labels[i : i + 3] for i in range(0, len(labels), 3)]
    if chosen.stock > 0:
        rows.append(
            [
                Button("−", action=f"{base}:{chosen.id}:{max(count - 1, 1)}"),
                ctx.button("btn.quantity", "x", count=count),
                Button("+", action=f"{base}:{chosen.id}:{min(count + 1, MAX_QUANTITY)}"),
            ]
        )
        rows.append(
            [ctx.button("btn.add", f"a:{chosen.id}:{count}", amount=money(chosen.price * count))]
        )
    in_cart = await cart_count(ctx.session, ctx.customer.id)
    if in_cart:
        rows.append([ctx.button("btn.go_cart", "cart", count=in_cart)])
    rows.append([ctx.button("btn.back", f"c:{product.category_id}"), ctx.button("btn.menu", "m")])
    photo = product.photos[0] if product.photos else None
    return ctx.screen(
        text,
        *rows,
        photo=Photo(photo.id) if photo else None,
    )


@router.action(r"a:(\d{1,9}):([1-9]\d?)")
async def add_product(ctx: Ctx, variant_id: str, quantity: str) -> Reply:
    variant = await ctx.session.get(Variant, int(variant_id))
    if variant is None:
        return Reply(toast=ctx.t("error.not_available"))
    await add_to_cart(ctx.session, ctx.customer.id, variant.id, int(quantity))
    reply = await show_product(ctx, str(variant.product_id), str(variant.id), quantity)
    reply.toast = ctx.t("toast.added", count=int(quantity))
    return reply


@router.action(r"s")
async def ask_search(ctx: Ctx) -> Reply:
    ctx.state.step = None
    return ctx.screen(
        ctx.t("search.prompt"), [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")]
    )


async def search(ctx: Ctx, query: str, page: int = 1) -> Reply:
    ctx.state.data["q"] = query[:200]
    quoted = shorten(query, 50)
    found = await catalog.search_products(ctx.session, query, page)
    if not found.items:
        return ctx.screen(
            ctx.t("search.nothing", query=quoted),
            [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")],
        )
    text = ctx.t(
        "search.found", query=quoted, total=found.total, page=found.page, pages=found.pages
    )
    return ctx.screen(
        text,
        *_product_rows(ctx, found),
        _pager(found, "sp"),
        [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")],
    )


@router.action(r"sp:(\d{1,4})")
async def search_page(ctx: Ctx, page: str) -> Reply:
    query = ctx.state.data.get("q")
    if not query:
        return Reply(toast=ctx.t("error.not_available"))
    return await search(ctx, query, int(page))
