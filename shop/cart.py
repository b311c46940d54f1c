"""The shopper's cart: validated changes and a view that flags lines gone unavailable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.errors import ShopError
from shop.models import CartLine, Category, Product, Variant
from shop.models.catalog import variant_label

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


async def _sellable_variant(session: AsyncSession, variant_id: int) -> Variant:
    query = (
        select(Variant)
        .join(Product)
        .join(Category)
        .where(
            Variant.id == variant_id,
            Variant.hidden.is_(False),
            Product.hidden.is_(False),
            Category.hidden.is_(False),
        )
    )
    variant = (await session.execute(query)).scalar_one_or_none()
    if variant is None:
        raise ShopError("not_available")
    return variant


async def _line(session: AsyncSession, customer_id: int, variant_id: int) -> CartLine | None:
    query = select(CartLine).where(
        CartLine.customer_id == customer_id, CartLine.variant_id == variant_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def set_quantity(
    session: AsyncSession, customer_id: int, variant_id: int, quantity: int
) -> int:
    """Set a line to ``quantity`` (0 removes it); refuse what the shop cannot sell."""
    line = await _line(session, customer_id, variant_id)
    if quantity <= 0:
        if line is not None:
            await session.delete(line)
        return 0
    variant = await _sellable_variant(session, variant_id)
    if quantity > MAX_QUANTITY:
        raise ShopError("quantity_limit", limit=MAX_QUANTITY)
    if quantity > variant.stock:
        raise ShopError("not_enough_stock", available=variant.stock)
    if line is None:
        count = len(
            (
                await session.execute(
                    select(CartLine.id).where(CartLine.customer_id == customer_id)
                )
            ).all()
        )
        if count >= MAX_LINES:
            raise ShopError("cart_full", limit=MAX_LINES)
        session.add(CartLine(customer_id=customer_id, variant_id=variant_id, quantity=quantity))
    else:
        line.quantity = quantity
    await session.flush()
    return quantity


async def add_to_cart(
    session: AsyncSession, customer_id: int, variant_id: int, quantity: int = 1
) -> int:
    """Add ``quantity`` (at least one) of a variant; returns the line's new quantity."""
    if quantity < 1:
        raise ShopError("not_available")
    line = await _line(session, customer_id, variant_id)
    current = line.quantity if line is not None else 0
    return await set_quantity(session, customer_id, variant_id, current + quantity)


async def change_quantity(
    session: AsyncSession, customer_id: int, variant_id: int, delta: int
) -> int:
    """Increment or decrement a line already in the cart; at zero the line goes."""
    line = await _line(session, customer_id, variant_id)
    if line is None:
        raise ShopError("not_in_cart")
    return await set_quantity(session, customer_id, variant_id, line.quantity + delta)


async def remove_from_cart(session: AsyncSession, customer_id: int, variant_id: int) -> None:
    await session.execute(
        delete(CartLine).where(
            CartLine.customer_id == customer_id, CartLine.variant_id == variant_id
        )
    )


async def clear_cart(session: AsyncSession, customer_id: int) -> None:
    await session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))


async def get_cart(session: AsyncSession, customer_id: int) -> CartView:
    """Every line with today's price and whether it can still be ordered: one plain query
    (the cart is on the hot path of both browsing and checkout)."""
    query = (
        select(
            CartLine.variant_id,
            CartLine.quantity,
            Variant.product_id,
            Product.title,
            Variant.size,
            Variant.colour,
            Variant.price,
            Variant.stock,
            Variant.hidden | Product.hidden | Category.hidden,
        )
        .join(Variant, Variant.id == CartLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(CartLine.customer_id == customer_id)
        .order_by(CartLine.id)
    )
    rows = await session.execute(query)
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
                available=not hidden,
            )
            for variant_id, quantity, product_id, title, size, colour, price, stock, hidden in rows
        ]
    )


async def cart_count(session: AsyncSession, customer_id: int) -> int:
    lines = await session.execute(
        select(CartLine.quantity).where(CartLine.customer_id == customer_id)
    )
    return sum(quantity for (quantity,) in lines)
