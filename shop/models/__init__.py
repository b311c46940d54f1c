"""The shop's tables. Every table the schema has is declared here (Alembic reads this)."""

from shop.db import Base
from shop.models.catalog import CatalogUpload, Category, Product, ProductPhoto, Variant
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
from shop.models.promo import PromoCode
from shop.models.staff import AuditEntry, PostedCard, Role, StaffMember
from shop.models.support import (
    Direction,
    SavedReply,
    SupportChat,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from shop.models.system import (
    ConversationState,
    InboxEvent,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    PollPosition,
    ShopSetting,
)

__all__ = [
    "AuditEntry",
    "Base",
    "CartLine",
    "CatalogUpload",
    "Category",
    "ChannelAccount",
    "ConversationState",
    "Customer",
    "DeliveryMethod",
    "Direction",
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
    "PostedCard",
    "Product",
    "ProductPhoto",
    "PromoCode",
    "Refund",
    "RefundStatus",
    "Role",
    "SavedReply",
    "ShopSetting",
    "StaffMember",
    "SupportChat",
    "Ticket",
    "TicketMessage",
    "TicketStatus",
    "Variant",
]
