"""Spreading an order's discount over its lines, and lines over whole-kopeck unit prices.

A fiscal receipt lists unit prices; after a discount a line's amount is rarely divisible by
its quantity, so it is written as at most two receipt lines (some units a kopeck dearer),
and every sum stays exact: the receipt adds up to the order total to the kopeck.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_UNIT_PRICE = 100
"""What every unit keeps after a discount (1 ₽): a receipt line of zero is refused."""


def discount_for(items_total: int, units: int, *, percent: int | None, amount: int | None) -> int:
    """The discount a code gives on these items, capped so each unit keeps MIN_UNIT_PRICE."""
    wanted = items_total * percent // 100 if percent is not None else amount or 0
    room = max(0, items_total - units * MIN_UNIT_PRICE)
    return max(0, min(wanted, room))


def spread(discount: int, lines: Sequence[tuple[int, int]]) -> list[int]:
    """Each line's share of ``discount``; ``lines`` are (amount, quantity).

    Shares follow the amounts (largest remainder), none leaves a unit under MIN_UNIT_PRICE,
    and they add up to ``discount`` exactly (the caller capped it with `discount_for`).
    """
    total = sum(amount for amount, _ in lines)
    if not discount or not total:
        return [0] * len(lines)
    room = [max(0, amount - quantity * MIN_UNIT_PRICE) for amount, quantity in lines]
    shares = [
        min(discount * amount // total, free) for (amount, _), free in zip(lines, room, strict=True)
    ]
    order = sorted(range(len(lines)), key=lambda i: (-(discount * lines[i][0] % total), i))
    left = discount - sum(shares)
    while left > 0:
        before = left
        for i in order:
            if left and shares[i] < room[i]:
                step = min(left, room[i] - shares[i], max(1, left // len(lines)))
                shares[i] += step
                left -= step
        if left == before:
            raise ValueError(f"a discount of {discount} does not fit these lines")
    return shares


def unit_prices(paid: int, quantity: int) -> list[tuple[int, int]]:
    """``paid`` for ``quantity`` units as (quantity, unit price) pairs in whole kopecks:
    one pair when it divides evenly, else two (the remainder's units a kopeck dearer)."""
    unit, extra = divmod(paid, quantity)
    if not extra:
        return [(quantity, unit)]
    return [(quantity - extra, unit), (extra, unit + 1)]
