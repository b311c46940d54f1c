"""Spreading an order's discount over its lines in whole kopecks per unit.

A fiscal receipt lists unit prices, and a refund gives back some units of a line: so every
unit of a line gets the same whole-kopeck discount. The receipt then adds up to the order
total to the kopeck, and refunds of some units add up to what was paid for them. A discount
that cannot be split so (every line has several units) is rounded down by a few kopecks.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_UNIT_PRICE = 100
"""What every unit keeps after a discount (1 ₽): a receipt line of zero is refused."""


def wanted_discount(
    items_total: int, units: int, *, percent: int | None, amount: int | None
) -> int:
    """What a code takes off these items, capped so each unit keeps MIN_UNIT_PRICE."""
    wanted = items_total * percent // 100 if percent is not None else amount or 0
    room = max(0, items_total - units * MIN_UNIT_PRICE)
    return max(0, min(wanted, room))


def per_unit(discount: int, lines: Sequence[tuple[int, int]]) -> list[int]:
    """Each line's discount per unit; ``lines`` are (unit price, quantity).

    Shares follow the prices; what proportional shares leave over goes a kopeck per unit to
    the lines with most units first (the same lines in any order get the same total). The
    total (sum of quantity x share) is ``discount`` or at most a few kopecks less.
    """
    items_total = sum(price * quantity for price, quantity in lines)
    if not discount or not items_total:
        return [0] * len(lines)
    room = [max(0, price - MIN_UNIT_PRICE) for price, _ in lines]
    shares = [
        min(discount * price // items_total, free)
        for (price, _), free in zip(lines, room, strict=True)
    ]
    left = discount - sum(
        share * quantity for share, (_, quantity) in zip(shares, lines, strict=True)
    )
    for i in sorted(range(len(lines)), key=lambda i: (-lines[i][1], -lines[i][0])):
        quantity = lines[i][1]
        extra = min(left // quantity, room[i] - shares[i])
        shares[i] += extra
        left -= extra * quantity
    return shares


def unit_prices(paid: int, quantity: int) -> list[tuple[int, int]]:
    """``paid`` for ``quantity`` units as (quantity, unit price) pairs in whole kopecks:
    one pair when it divides evenly (always, for discounts made by `per_unit`), else two."""
    unit, extra = divmod(paid, quantity)
    if not extra:
        return [(quantity, unit)]
    return [(quantity - extra, unit), (extra, unit + 1)]
