"""The console of `python -m tests.emulators`: a person plays shoppers by typing commands.

What a shopper sees is gathered into plain data (`Screen`, `Bubble`, `Invoice`) and then
formatted by `format_screen`, so the formatting is tested without any emulator.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.emulators.labels import match_on_screen
from tests.emulators.telegram import TelegramEmulator
from tests.emulators.vk import VkEmulator
from tests.emulators.yookassa import YooKassaEmulator

HELP = """Commands (<user> is any name you pick: alice, bob...; a new name is a new shopper):
  tg <user> <text>          write to the Telegram bot as <user> (/start, /help, any text)
  tgpress <user> <button>   press a button on <user>'s Telegram screen (inline buttons,
                            the reply keyboard, an invoice's pay button)
  tgpay <user>              pay the last Telegram invoice in <user>'s chat
  tgcontact <user>          share <user>'s phone number (what a "send phone" button does)
  vk <user> <text>          write to the VK community as <user>
  vkpress <user> <button>   press a button on <user>'s VK screen
  screen tg|vk <user>       what <user> sees: every message since the last look, buttons,
                            the keyboard under the input field, toasts and invoices
  people                    the shoppers so far, with their user ids
  payments                  YooKassa payments (the links VK shoppers get)
  pay [<payment id>]        the shopper pays on YooKassa's page (the newest pending one
                            when no id is given)
  decline [<payment id>]    the bank declines it (insufficient funds)
  help                      this text
  quit                      stop the emulators (also Ctrl-D, Ctrl-C)

A button is named loosely: case, spaces and emoji do not matter and any part of its
label that fits one button is enough (`tgpress alice корз` presses "🛒 Корзина").
After `tg`, `tgpress`, `vk` and `vkpress` the shopper's new messages are shown."""

PLATFORMS = {"tg": "Telegram", "vk": "VK"}
AFTER_PAYMENT = (
    "\n(the bot learns it from YooKassa's notification or its next check; "
    "`screen vk <user>` shows what the shopper got)"
)


# -- what a shopper sees, as plain data ------------------------------------------------------


@dataclass(frozen=True)
class Invoice:
    """A Telegram invoice: what it is for and how much (in roubles)."""

    title: str
    description: str
    amount: Decimal
    currency: str = "RUB"


@dataclass(frozen=True)
class Bubble:
    """One message from the bot."""

    text: str
    rows: list[list[str]] = field(default_factory=list)  # buttons under the message
    attachments: list[str] = field(default_factory=list)
    invoice: Invoice | None = None
    edited: bool = False


@dataclass(frozen=True)
class Screen:
    """What a shopper sees since the last look."""

    platform: str  # "tg" or "vk"
    name: str
    messages: list[Bubble]  # new or changed since the last look
    keyboard: list[list[str]] | None = None  # under the input field
    toasts: list[str] = field(default_factory=list)
    repeated: bool = False  # nothing new: `messages` is the last message again
    silent: bool = False  # the bot has written nothing to this shopper at all
    notes: list[str] = field(default_factory=list)  # links opened and the like


def money(amount: Decimal | int | float | str, currency: str = "RUB") -> str:
    """`1 500 ₽`, `99,90 ₽`: roubles the way a Russian shopper reads them."""
    value = Decimal(str(amount))
    whole = value == value.to_integral_value()
    text = f"{value:,.0f}" if whole else f"{value:,.2f}"
    text = text.replace(",", " ").replace(".", ",")
    return f"{text} ₽" if currency == "RUB" else f"{text} {currency}"


def format_buttons(rows: list[list[str]], indent: str = "  ") -> list[str]:
    return [indent + " ".join(f"[{label}]" for label in row) for row in rows if row]


def format_screen(screen: Screen) -> str:
    """The screen as text: a header, each message with its buttons, then the rest."""
    where = PLATFORMS.get(screen.platform, screen.platform)
    count = len(screen.messages)
    if screen.repeated:
        state = "nothing new; the last message again"
    elif count == 0:
        state = "the bot has not written yet" if screen.silent else "no new messages"
    else:
        state = f"{count} new message" + ("s" if count > 1 else "")
    lines = [f"=== {screen.name} on {where}: {state} ==="]
    for number, bubble in enumerate(screen.messages, 1):
        if count > 1:
            lines.append(f"--- {number}/{count}" + (" (edited)" if bubble.edited else ""))
        elif bubble.edited:
            lines.append("--- (edited)")
        lines.extend(_bubble_lines(bubble))
    for toast in screen.toasts:
        lines.append(f"(toast) {toast}")
    for note in screen.notes:
        lines.append(note)
    if screen.keyboard:
        lines.append("keyboard:")
        lines.extend(format_buttons(screen.keyboard))
    return "\n".join(lines)


def _bubble_lines(bubble: Bubble) -> list[str]:
    lines: list[str] = []
    if bubble.invoice is not None:
        invoice = bubble.invoice
        lines.append(f"INVOICE: {invoice.title} — {money(invoice.amount, invoice.currency)}")
        if invoice.description:
            lines.append(f"  {invoice.description}")
    lines.extend(f"<{item}>" for item in bubble.attachments)
    if bubble.text:
        lines.append(bubble.text)
    elif not lines:
        lines.append("(no text)")
    lines.extend(format_buttons(bubble.rows))
    return lines


# -- reading the emulators ---------------------------------------------------------------------


def telegram_bubble(view: Any) -> Bubble:
    """A Telegram MessageView as a Bubble; an invoice without buttons gets Telegram's pay one."""
    raw = view.raw
    attachments = []
    if view.photo:
        attachments.append("photo")
    if view.document:
        attachments.append(f"file {raw['document'].get('file_name', '')}".strip())
    for kind in ("sticker", "voice", "video", "animation", "audio", "location", "contact"):
        if kind in raw:
            attachments.append(kind)
    invoice = None
    rows = view.buttons
    if "invoice" in raw:
        terms = raw["invoice"]
        amount = Decimal(terms.get("total_amount", 0)) / 100
        invoice = Invoice(
            terms.get("title", ""), terms.get("description", ""), amount, terms.get("currency", "")
        )
        if not rows:
            rows = [[pay_label(invoice)]]
    return Bubble(view.text or "", rows, attachments, invoice, view.edited)


def pay_label(invoice: Invoice) -> str:
    """The pay button Telegram draws under an invoice sent without buttons."""
    return f"Оплатить {money(invoice.amount, invoice.currency)}"


def vk_bubble(message: Any) -> Bubble:
    rows = message.keyboard.labels if message.keyboard and message.keyboard.inline else []
    attachments = [f"{a.type} {a.filename}".strip() for a in message.attachments]
    return Bubble(message.text, rows, attachments, None, message.update_time is not None)


@dataclass
class Shopper:
    """One person on one platform and what the console has already shown of their chat."""

    platform: str
    name: str
    person: Any
    seen: dict[int, Bubble] = field(default_factory=dict)
    toast: Any = None  # the Telegram callback answer last shown
    snackbars: int = 0  # VK snackbars already shown
    links: int = 0  # VK links already opened

    def bubbles(self) -> list[tuple[int, Bubble]]:
        if self.platform == "tg":
            return [(v.message_id, telegram_bubble(v)) for v in self.person.bot_messages]
        return [(m.cmid, vk_bubble(m)) for m in self.person.bot_messages]

    def keyboard(self) -> list[list[str]] | None:
        if self.platform == "tg":
            return self.person.reply_keyboard  # type: ignore[no-any-return]
        keyboard = self.person.keyboard
        return keyboard.labels if keyboard is not None else None

    def look(self, *, again: bool = True) -> Screen:
        """Everything new since the last look (marked seen now); the last message again when
        nothing changed and `again`."""
        shown = self.bubbles()
        fresh = [bubble for key, bubble in shown if self.seen.get(key) != bubble]
        self.seen = dict(shown)
        repeated = False
        if not fresh and again and shown:
            fresh, repeated = [shown[-1][1]], True
        return Screen(
            self.platform,
            self.name,
            fresh,
            keyboard=self.keyboard(),
            toasts=self._new_toasts(),
            repeated=repeated,
            silent=not shown,
            notes=self._new_links(),
        )

    def _new_toasts(self) -> list[str]:
        if self.platform == "tg":
            answer = self.person._bot.callback_answers.get(self.person.id)
            if answer is None or answer is self.toast:
                return []
            self.toast = answer
            texts = [answer.text] if answer.text else []
            return texts + ([f"opens {answer.url}"] if answer.url else [])
        new = self.person.snackbars[self.snackbars :]
        self.snackbars = len(self.person.snackbars)
        return list(new)

    def _new_links(self) -> list[str]:
        if self.platform == "tg":
            return []
        new = self.person.opened_links[self.links :]
        self.links = len(self.person.opened_links)
        return [f"opened link: {link}" for link in new]


# -- payments ----------------------------------------------------------------------------------


def order_number(*texts: str | None) -> str | None:
    """The order number in a payload (`order:12`), metadata value or title (`Заказ №12`)."""
    for text in texts:
        found = re.search(r"\d+", text or "")
        if found:
            return found.group()
    return None


def payment_line(payment: dict[str, Any]) -> str:
    """A YooKassa payment object as one readable line."""
    status = payment.get("status", "")
    reason = (payment.get("cancellation_details") or {}).get("reason")
    word = {
        "succeeded": "paid",
        "waiting_for_capture": "paid, held for capture",
        "pending": "waiting for payment",
        "canceled": f"declined ({reason})" if reason else "declined",
    }.get(status, status)
    amount = payment.get("amount") or {}
    metadata = payment.get("metadata") or {}
    number = order_number(metadata.get("order_id"), payment.get("description"))
    order = f", order №{number}" if number else ""
    money_text = money(amount.get("value", 0), amount.get("currency", "RUB"))
    return f"{word}: {money_text}{order} (payment {payment.get('id', '?')})"


def telegram_payment_line(result: Any, invoice: Invoice | None, payload: str) -> str:
    """How `tgpay` went, from the driver's PaymentResult."""
    number = order_number(payload, invoice.title if invoice else None)
    what = money(invoice.amount, invoice.currency) if invoice else "the invoice"
    order = f", order №{number}" if number else ""
    if result.ok:
        return f"paid: {what}{order}"
    if result.timed_out:
        return f"not paid: the bot did not confirm the order in time ({what}{order})"
    why = f" ({result.error_message})" if result.error_message else ""
    return f"declined by the bot{why}: {what}{order}"


# -- the console -------------------------------------------------------------------------------


class Console:
    """The commands a person types. Shoppers are created on first mention, with the user id
    `ids` remembered for that name (so a restarted console is the same people)."""

    def __init__(
        self,
        telegram: TelegramEmulator,
        token: str,
        vk: VkEmulator,
        group: Any,
        yookassa: YooKassaEmulator,
        ids: dict[str, dict[str, int]] | None = None,
        on_new_person: Callable[[], None] | None = None,
    ) -> None:
        self.telegram, self.token = telegram, token
        self.vk, self.group = vk, group
        self.yookassa = yookassa
        self.ids = ids if ids is not None else {"tg": {}, "vk": {}}
        self.on_new_person = on_new_person
        self.shoppers: dict[tuple[str, str], Shopper] = {}
        self.commands: dict[str, Callable[[list[str]], Awaitable[str]]] = {
            "tg": lambda a: self._send("tg", a),
            "vk": lambda a: self._send("vk", a),
            "tgpress": lambda a: self._press("tg", a),
            "vkpress": lambda a: self._press("vk", a),
            "tgpay": self._tgpay,
            "tgcontact": self._tgcontact,
            "screen": self._screen,
            "people": self._people,
            "payments": self._payments,
            "pay": self._pay,
            "decline": self._decline,
            "help": self._help,
        }

    async def run(self, lines: asyncio.Queue[str | None]) -> bool:
        """Read commands until quit (True) or the end of input (False)."""
        print("Type `help` for the commands.", flush=True)
        while (line := await lines.get()) is not None:
            words = split(line)
            if not words:
                continue
            if words[0] in ("quit", "exit"):
                return True
            print(await self.execute(words), flush=True)
        return False

    async def execute(self, words: list[str]) -> str:
        command = self.commands.get(words[0].lower())
        if command is None:
            return f"unknown command {words[0]!r}; type help"
        try:
            return await command(words[1:])
        except Exception as error:  # a typo or a slow bot must not end the session
            return f"error: {error}" if str(error) else f"error: {type(error).__name__}"

    def shopper(self, platform: str, name: str) -> Shopper:
        key = (platform, name)
        if key not in self.shoppers:
            known = self.ids.setdefault(platform, {})
            new = name not in known
            if new:
                base = 5_000_000 if platform == "tg" else 700_000_000
                known[name] = max([base, *known.values()]) + 1
            if platform == "tg":
                person = self.telegram.user(
                    self.token, first_name=name, language_code="ru", user_id=known[name]
                )
            else:
                person = self.vk.user(self.group, first_name=name, user_id=known[name])
            self.shoppers[key] = Shopper(platform, name, person)
            if new and self.on_new_person is not None:
                self.on_new_person()
        return self.shoppers[key]

    def register_known(self) -> None:
        """Every remembered shopper's chat, as it was before the restart (without messages)."""
        for platform in PLATFORMS:
            for name in list(self.ids.get(platform, {})):
                self.shopper(platform, name)

    def look(self, shopper: Shopper, *, again: bool = True) -> str:
        return format_screen(shopper.look(again=again))

    async def _send(self, platform: str, args: list[str]) -> str:
        name, text = _user_and_rest(args, "text")
        shopper = self.shopper(platform, name)
        await shopper.person.send(text)
        return self.look(shopper, again=False)

    async def _press(self, platform: str, args: list[str]) -> str:
        name, typed = _user_and_rest(args, "button")
        shopper = self.shopper(platform, name)
        if platform == "vk":
            return await self._vkpress(shopper, typed)
        return await self._tgpress(shopper, typed)

    async def _tgpress(self, shopper: Shopper, typed: str) -> str:
        """The newest inline keyboard, the reply keyboard and a bare invoice's pay button
        first; then the buttons of older messages, newest first."""
        person = shopper.person
        views = person.bot_messages
        keyed = [v for v in reversed(views) if v.keyboard]
        invoice = next((v for v in reversed(views) if "invoice" in v.raw), None)
        now: dict[str, Callable[[], Awaitable[Any]]] = {}
        if (
            invoice is not None
            and not invoice.keyboard
            and (not keyed or invoice.message_id > keyed[0].message_id)
        ):
            label = telegram_bubble(invoice).rows[0][0]
            now[label] = lambda: self._tgpay_message(shopper, invoice)
        groups = [now] + [{} for _ in keyed[1:]]
        for group, view in zip(groups, keyed, strict=False):
            for row in view.raw["reply_markup"]["inline_keyboard"]:
                for raw in row:
                    group.setdefault(raw.get("text", ""), _tg_inline(self, shopper, view, raw))
        for row in person.reply_keyboard or []:
            for label in row:
                now.setdefault(label, _bind(person.press_reply, label))
        index, label = match_on_screen(typed, [list(group) for group in groups])
        outcome = await groups[index][label]()
        said = outcome if isinstance(outcome, str) else ""
        screen = self.look(shopper, again=False)
        return f"{said}\n{screen}" if said else screen

    async def _vkpress(self, shopper: Shopper, typed: str) -> str:
        """The newest inline keyboard and the standard one first (as the driver looks), then
        older messages' inline keyboards, newest first."""
        person = shopper.person
        inline = [m for m in reversed(person.bot_messages) if _vk_inline(m)]
        now = []
        if inline:
            now.append((inline[0].cmid, inline[0].keyboard))
        if person.keyboard is not None:
            setter = next(
                (m.cmid for m in reversed(person.bot_messages) if m.keyboard is person.keyboard), 0
            )
            now.append((setter, person.keyboard))
        now.sort(key=lambda pair: pair[0], reverse=True)
        groups = [[label for _, keyboard in now for row in keyboard.labels for label in row]]
        groups += [[label for row in m.keyboard.labels for label in row] for m in inline[1:]]
        index, label = match_on_screen(typed, groups)
        if index == 0:
            await person.press(label)
        else:
            await person.press(label, message=inline[index])
        screen = self.look(shopper, again=False)
        if "/checkout/" in screen:
            screen += "\n(the YooKassa page: `pay` pays it, `decline` is the bank refusing)"
        return screen

    async def _tgpay(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: tgpay <user>")
        shopper = self.shopper("tg", args[0])
        invoice = next(
            (v for v in reversed(shopper.person.bot_messages) if "invoice" in v.raw), None
        )
        if invoice is None:
            raise ValueError(f"{args[0]} has no invoice to pay")
        said = await self._tgpay_message(shopper, invoice)
        return f"{said}\n{self.look(shopper, again=False)}"

    async def _tgpay_message(self, shopper: Shopper, view: Any) -> str:
        stored = shopper.person.chat.messages[view.message_id]
        payload = (stored.invoice or {}).get("payload", "")
        result = await shopper.person.pay(view.message_id)
        return telegram_payment_line(result, telegram_bubble(view).invoice, payload)

    async def _tgcontact(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: tgcontact <user>")
        shopper = self.shopper("tg", args[0])
        await shopper.person.share_contact()
        return self.look(shopper, again=False)

    async def _screen(self, args: list[str]) -> str:
        if len(args) != 2 or args[0] not in PLATFORMS:
            raise ValueError("usage: screen tg|vk <user>")
        return self.look(self.shopper(args[0], args[1]))

    async def _people(self, args: list[str]) -> str:
        rows = [
            f"{PLATFORMS[platform]:<9} {name:<12} user id {uid}"
            for platform in PLATFORMS
            for name, uid in self.ids.get(platform, {}).items()
        ]
        return "\n".join(rows) or "(nobody yet: `tg alice /start`)"

    async def _payments(self, args: list[str]) -> str:
        rows = [payment_line(p.as_api()) for p in self.yookassa.payments.values()]
        return "\n".join(rows) or "(no payments yet)"

    async def _pay(self, args: list[str]) -> str:
        payment_id = args[0] if args else self._newest_pending()
        return payment_line(self.yookassa.pay(payment_id)) + AFTER_PAYMENT

    async def _decline(self, args: list[str]) -> str:
        payment_id = args[0] if args else self._newest_pending()
        return payment_line(self.yookassa.cancel(payment_id, "insufficient_funds")) + AFTER_PAYMENT

    async def _help(self, args: list[str]) -> str:
        return HELP

    def _newest_pending(self) -> str:
        pending = [p.id for p in self.yookassa.payments.values() if p.status == "pending"]
        if not pending:
            raise ValueError("no payment is waiting (see `payments`)")
        return pending[-1]


def _bind(press: Callable[[str], Awaitable[Any]], label: str) -> Callable[[], Awaitable[Any]]:
    return lambda: press(label)


def _tg_inline(
    console: Console, shopper: Shopper, view: Any, raw: dict[str, Any]
) -> Callable[[], Awaitable[Any]]:
    async def press() -> str:
        if raw.get("pay"):
            return await console._tgpay_message(shopper, view)
        button = await shopper.person.press(raw.get("text", ""), message=view.message_id)
        return f"opens {button.data}" if "url" in raw else ""

    return press


def _vk_inline(message: Any) -> bool:
    return bool(message.keyboard and message.keyboard.inline)


def split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def _user_and_rest(args: list[str], what: str) -> tuple[str, str]:
    if len(args) < 2:
        raise ValueError(f"usage: <command> <user> <{what}>")
    return args[0], " ".join(args[1:])
