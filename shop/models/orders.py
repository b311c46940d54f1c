"""Cart lines, delivery methods, orders with snapshot lines and their append-only history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base
from shop.models.catalog import Variant
from shop.models.types import UTCDateTime, utcnow


class OrderStatus(StrEnum):
    NEW = "new"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    ASSEMBLING = "assembling"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class OrderEventKind(StrEnum):
    """What an order history row records; code branches on this, never on the note."""

    PLACED = "placed"
    """The order was created (from no status to new)."""
    AWAITING_PAYMENT = "awaiting_payment"
    """Checkout holds the stock and waits for the payment."""
    PAID = "paid"
    """A provider confirmed the payment."""
    LATE_PAID = "late_paid"
    """Paid after the reservation expired; every line could be reserved again."""
    CASH_ON_DELIVERY = "cash_on_delivery"
    """The shopper chose to pay the courier: assembled unpaid, keeping its stock."""
    EXPIRED = "expired"
    """Cancelled by the shop because nobody paid within the reservation."""
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer"
    """The shopper let go of their unpaid order."""
    REFUNDED = "refunded"
    """The whole payment was given back."""
    STATUS_CHANGED = "status_changed"
    """Any other move (staff moving the order along, cancelling it...)."""


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("customer_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variant: Mapped[Variant] = relationship()


class DeliveryMethod(Base):
    __tablename__ = "delivery_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100), default="")
    price: Mapped[int] = mapped_column(BigInteger, default=0)
    needs_address: Mapped[bool] = mapped_column(Boolean, default=False)
    cash_on_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    """An order; its number is its id, known before any payment, carried in payment metadata."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    items_total: Mapped[int] = mapped_column(BigInteger)
    delivery_price: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    """Taken off the items by a promo code (``total`` = items - discount + delivery)."""
    total: Mapped[int] = mapped_column(BigInteger)
    delivery_method_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_methods.id"))
    delivery_title: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254))
    """Where the 54-FZ receipt goes, if the shopper gave an address (else to the phone)."""
    payment_method: Mapped[str | None] = mapped_column(String(24))
    stock_reserved: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    """A snapshot of what was bought: title, SKU and price as they were at ordering."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str] = mapped_column(String(64))
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    """This line's share of the order's discount (all its units together), so the receipt
    lists discounted prices that add up to the total (shop.discounts)."""

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def amount(self) -> int:
        """What the line costs before the discount."""
        return self.price * self.quantity

    @property
    def paid(self) -> int:
        """What the line costs after its share of the discount."""
        return self.price * self.quantity - self.discount


class OrderEvent(Base):
    """Append-only history: one row per status change (who, when, what kind, from, to).

    ``note`` is free text for people; code reads ``kind``.
    """

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    kind: Mapped[OrderEventKind] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="events")
