"""The shopper's cart: validated changes and a view that flags lines gone unavailable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import table_of
from shop.errors import ShopError
from shop.models import CartLine, Category, Order, OrderLine, Product, Variant
from shop.models.catalog import variant_label
from shop.stock import variant_shown

MAX_QUANTITY = 99
MAX_LINES = 50


@dataclass(frozen=True)
class CartItem:
    variant_id: int
    product_id: int
    title: str
    variant_label: str
    price: int
    quantity: int
    stock: int
    available: bool

    @property
    def amount(self) -> int:
        return self.price * self.quantity

    @property
    def problem(self) -> str | None:
        """Why this line cannot be ordered as it is, or None."""
        if not self.available or self.stock <= 0:
            return "unavailable"
        if self.quantity > self.stock:
            return "not_enough"
        return None


@dataclass(frozen=True)
class CartView:
    items: list[CartItem]

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items if item.problem is None)

    @property
    def count(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def orderable(self) -> bool:
        return bool(self.items) and all(item.problem is None for item in self.items)


_cart = table_of(CartLine)


_SELLABLE_STOCK = (
    select(Variant.stock)
    .join(Product)
    .join(Category)
    .where(Variant.id == bindparam("variant_id"), variant_shown())
)
_QUANTITIES = select(_cart.c.variant_id, _cart.c.quantity).where(
    _cart.c.customer_id == bindparam("customer_id")
)


async def _sellable_stock(session: AsyncSession, variant_id: int) -> int:
    """The stock of a variant a shopper may buy (it and its product and category shown)."""
    stock = await session.scalar(_SELLABLE_STOCK, {"variant_id": variant_id})
    if stock is None:
        raise ShopError("not_available")
    return stock


async def _quantities(session: AsyncSession, customer_id: int) -> dict[int, int]:
    """The customer's cart as variant id -> quantity."""
    rows = await session.execute(_QUANTITIES, {"customer_id": customer_id})
    return {variant_id: quantity for variant_id, quantity in rows}


async def set_quantity(
    session: AsyncSession,
    customer_id: int,
    variant_id: int,
    quantity: int,
    *,
    lines: dict[int, int] | None = None,
) -> int:
    """Set a line to ``quantity`` (0 removes it); refuse what the shop cannot sell.

    ``lines``: the cart as the caller already read it (variant id -> quantity).
    """
    if lines is None:
        lines = await _quantities(session, customer_id)
    line = _cart.c.customer_id == customer_id, _cart.c.variant_id == variant_id
    if quantity <= 0:
        if variant_id in lines:
            await session.execute(delete(_cart).where(*line))
        return 0
    stock = await _sellable_stock(session, variant_id)
    if quantity > MAX_QUANTITY:
        raise ShopError("quantity_limit", limit=MAX_QUANTITY)
    if quantity > stock:
        raise ShopError("not_enough_stock", available=stock)
    if variant_id in lines:
        await session.execute(update(_cart).where(*line).values(quantity=quantity))
        return quantity
    if len(lines) >= MAX_LINES:
        raise ShopError("cart_full", limit=MAX_LINES)
    await session.execute(
        insert(_cart).values(customer_id=customer_id, variant_id=variant_id, quantity=quantity)
    )
    return quantity


async def add_to_cart(
    session: AsyncSession, customer_id: int, variant_id: int, quantity: int = 1
) -> int:
    """Add ``quantity`` (at least one) of a variant; returns the line's new quantity."""
    if quantity < 1:
        raise ShopError("not_available")
    lines = await _quantities(session, customer_id)
    current = lines.get(variant_id, 0)
    return await set_quantity(session, customer_id, variant_id, current + quantity, lines=lines)


async def change_quantity(
    session: AsyncSession, customer_id: int, variant_id: int, delta: int
) -> int:
    """Increment or decrement a line already in the cart; at zero the line goes."""
    lines = await _quantities(session, customer_id)
    if variant_id not in lines:
        raise ShopError("not_in_cart")
    return await set_quantity(
        session, customer_id, variant_id, lines[variant_id] + delta, lines=lines
    )


async def remove_from_cart(session: AsyncSession, customer_id: int, variant_id: int) -> None:
    await session.execute(
        delete(CartLine).where(
            CartLine.customer_id == customer_id, CartLine.variant_id == variant_id
        )
    )


async def clear_cart(session: AsyncSession, customer_id: int) -> None:
    await session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))


_CART = (
    select(
        CartLine.variant_id,
        CartLine.quantity,
        Variant.product_id,
        Product.title,
        Variant.size,
        Variant.colour,
        Variant.price,
        Variant.stock,
        variant_shown(),
    )
    .join(Variant, Variant.id == CartLine.variant_id)
    .join(Product, Product.id == Variant.product_id)
    .join(Category, Category.id == Product.category_id)
    .where(CartLine.customer_id == bindparam("customer_id"))
    .order_by(CartLine.id)
)


async def get_cart(session: AsyncSession, customer_id: int) -> CartView:
    """Every line with today's price and whether it can still be ordered: one plain query
    (the cart is on the hot path of both browsing and checkout)."""
    rows = await session.execute(_CART, {"customer_id": customer_id})
    return CartView(
        [
            CartItem(
                variant_id=variant_id,
                product_id=product_id,
                title=title,
                variant_label=variant_label(size, colour),
                price=price,
                quantity=quantity,
                stock=stock,
                available=bool(shown),
            )
            for variant_id, quantity, product_id, title, size, colour, price, stock, shown in rows
        ]
    )


async def cart_count(session: AsyncSession, customer_id: int) -> int:
    return sum((await _quantities(session, customer_id)).values())


async def order_again(session: AsyncSession, customer_id: int, order_id: int) -> tuple[int, int]:
    """Put the lines of the customer's own order back in the cart, each capped by what can be
    sold now (and the per-line limit); returns (units wanted, units put in the cart)."""
    lines = (
        await session.execute(
            select(OrderLine.variant_id, OrderLine.quantity)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.id == order_id, Order.customer_id == customer_id)
            .order_by(OrderLine.id)
        )
    ).all()
    if not lines:
        raise ShopError("not_available")
    wanted = put = 0
    for variant_id, quantity in lines:
        wanted += quantity
        if variant_id is None:
            continue
        cart = await _quantities(session, customer_id)
        try:
            stock = await _sellable_stock(session, variant_id)
        except ShopError:
            continue
        current = cart.get(variant_id, 0)
        target = min(current + quantity, stock, MAX_QUANTITY)
        if target <= current or (variant_id not in cart and len(cart) >= MAX_LINES):
            continue
        await set_quantity(session, customer_id, variant_id, target, lines=cart)
        put += target - current
    return wanted, put
