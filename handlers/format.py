"""Money and dates as a Russian (or English) shopper reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Europe/Moscow")
NBSP = "\u00a0"


def money(kopecks: int) -> str:
    """``149000`` -> ``1 490 ₽``; kopecks shown only when there are some."""
    rubles, rest = divmod(kopecks, 100)
    whole = f"{rubles:,}".replace(",", NBSP)
    return f"{whole},{rest:02d}{NBSP}₽" if rest else f"{whole}{NBSP}₽"


def local_time(moment: datetime) -> str:
    return moment.astimezone(SHOP_TZ).strftime("%d.%m.%Y %H:%M")


def local_date(moment: datetime) -> str:
    return moment.astimezone(SHOP_TZ).strftime("%d.%m.%Y")


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis, for buttons and quotes."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit_label(make: Callable[..., str], title: str, limit: int) -> str:
    """``make(title=title)`` within ``limit`` characters: the title gives way (cut with "…"), so
    what the label says beside it (the price, "sold out") is never what a cut takes."""
    title = " ".join(title.split())
    label = make(title=title)
    overflow = len(label) - limit
    if overflow <= 0:
        return label
    return make(title=shorten(title, max(len(title) - overflow, 1)))
