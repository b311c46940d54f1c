"""The shop's tables. Every table the schema has is declared here (Alembic reads this)."""

from shop.db import Base
from shop.models.catalog import Category, Product, ProductPhoto, Variant
from shop.models.customers import ChannelAccount, Customer
from shop.models.linking import LinkAttempt, LinkCode
from shop.models.orders import (
    CartLine,
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
)
from shop.models.payments import (
    Payment,
    PaymentProvider,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from shop.models.staff import AuditEntry, Role, StaffMember
from shop.models.system import (
    ConversationState,
    InboxEvent,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    PollPosition,
)

__all__ = [
    "AuditEntry",
    "Base",
    "CartLine",
    "Category",
    "ChannelAccount",
    "ConversationState",
    "Customer",
    "DeliveryMethod",
    "InboxEvent",
    "InboxStatus",
    "LinkAttempt",
    "LinkCode",
    "Order",
    "OrderEvent",
    "OrderEventKind",
    "OrderLine",
    "OrderStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Payment",
    "PaymentProvider",
    "PaymentStatus",
    "PollPosition",
    "Product",
    "ProductPhoto",
    "Refund",
    "RefundStatus",
    "Role",
    "StaffMember",
    "Variant",
]
