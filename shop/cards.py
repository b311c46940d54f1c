"""Staff order cards: what to post or refresh in the staff chats when an order changes.

Written to the outbox in the change's own transaction (kind ``order_card``, for the
moderators); the dispatcher renders the card from the order as it is when it is sent, posts
it in the moderator chat (or each staff member's private chat) and edits every card of the
order already posted, so a card always shows its order's latest state.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shop import outbox
from shop.models import OrderEventKind

CARD = "order_card"
K = OrderEventKind
POSTED_ON = frozenset({K.AWAITING_PAYMENT, K.PAID, K.LATE_PAID, K.CASH_ON_DELIVERY})
"""Events that post a new card (staff are alerted); any other change edits the cards."""


def announce(session: AsyncSession, order_id: int, kind: OrderEventKind) -> None:
    """Post a card for ``order_id`` (new order, payment, cash, late payment) or refresh its
    posted cards, once this transaction commits."""
    outbox.enqueue(
        session,
        CARD,
        {"order_id": order_id, "reason": kind.value, "post": kind in POSTED_ON},
        recipient=outbox.MODERATORS,
    )
