"""Words a person types instead of pressing a button: greetings and menu words.

"Привет", "корзина" or "help" typed as a whole message open what they mean instead of being
searched as products. Case, punctuation and emoji do not matter ("🛒 Корзина!" is the cart),
so a button label typed back works too; inside a dialog or checkout step they are the
person's answer, not a word for us.
"""

from __future__ import annotations

import re

from handlers import cart, catalog, menu, orders
from handlers.context import Ctx, Handler, Router
from handlers.screens import Reply

router = Router()

GREETINGS = (
    "привет",
    "приветик",
    "здравствуйте",
    "здравствуй",
    "добрый день",
    "доброе утро",
    "добрый вечер",
    "начать",
    "старт",
    "hi",
    "hello",
    "hey",
    "start",
)
WORDS: dict[str, Handler] = {
    **dict.fromkeys(GREETINGS, menu.greet),
    **dict.fromkeys(("меню", "главное меню", "menu", "main menu"), menu.show_menu),
    **dict.fromkeys(("каталог", "catalog", "catalogue"), catalog.show_catalog),
    **dict.fromkeys(("корзина", "моя корзина", "cart", "my cart", "basket"), cart.show_cart),
    **dict.fromkeys(("заказы", "мои заказы", "orders", "my orders"), orders.show_orders),
    **dict.fromkeys(("помощь", "справка", "help"), menu.show_help),
}
_NOT_A_LETTER = re.compile(r"[\W\d_]+")
LONGEST = max(len(word) for word in WORDS) + 20
"""Longer messages are never one of the words, whatever they hold: not normalised at all."""


def normalise(text: str) -> str:
    """Lower-case letters only, one space between words: "  Мои ЗАКАЗЫ!!! 📦" -> "мои заказы"."""
    return " ".join(_NOT_A_LETTER.sub(" ", text.lower().replace("ё", "е")).split())


def word_handler(text: str) -> Handler | None:
    """What a whole message means when it is one of the words, else None."""
    if len(text) > LONGEST:
        return None
    return WORDS.get(normalise(text))


@router.free_input
async def answer_word(ctx: Ctx) -> Reply | None:
    """Open what a greeting or menu word means; anything else goes on to the search."""
    if ctx.state.step or not ctx.event.text:
        return None
    handler = word_handler(ctx.event.text)
    return None if handler is None else await handler(ctx)
