"""The entry point of the conversation: one event in, one Reply out, in one transaction.

An adapter calls `Conversation.handle` for every update and renders the Reply afterwards, so
nothing is sent from inside the transaction. An event that came through the inbox is taken
there in the same transaction, so its effects happen once; a replay answers nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import (
    admin,
    cart,
    catalog,
    checkout,
    desk,
    linking,
    menu,
    numbered,
    orders,
    payment,
    promo,
    settings,
    support,
    support_chat,
    words,
)
from handlers.context import Ctx, Fetch, Hook, Options, Router
from handlers.events import Event, EventKind
from handlers.screens import Button, Reply, Screen
from handlers.texts import error_text, t
from shop import inbox
from shop.conversation import save_state
from shop.customers import Shopper, get_or_create_customer, pick_language
from shop.errors import ShopError

log = logging.getLogger(__name__)

MAX_TEXT = 4000


def build_router() -> Router:
    router = Router()
    features = (
        menu,
        catalog,
        cart,
        checkout,
        orders,
        payment,
        linking,
        promo,
        admin,
        desk,
        settings,
        support,
        support_chat,
        words,  # greetings and menu words: the last free-input hook before the search
    )
    for module in features:
        router.include(module.router)
    return router


class Conversation:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], options: Options | None = None
    ) -> None:
        self.sessions = sessions
        self.options = options or Options()
        self.router = build_router()
        self.fetchers: dict[str, Fetch] = {}
        """Each front-end's download of attachments, by channel (it registers its own)."""

    async def handle(self, event: Event, entry: inbox.Entry | None = None) -> Reply:
        """Answer one event. Errors a person caused become polite replies; nothing half-done.

        With an inbox ``entry`` a failure is raised instead, so the inbox tries the event
        again (and parks it after a few tries); an empty Reply means it is not this call's
        to handle (done before, or an earlier event of the person waits: ``entry.taken``).
        """
        try:
            async with self.sessions() as session:
                return await self._handle(session, event, entry)
        except Exception:
            if entry is not None:
                raise
            log.exception("failed to handle %s", event)
            return self.failure(event)

    async def _handle(
        self, session: AsyncSession, event: Event, entry: inbox.Entry | None
    ) -> Reply:
        """One transaction: take the inbox entry, find the customer and state, route, save.

        A refused request (ShopError) rolls the whole transaction back, then only takes the
        entry, so a refusal never leaves half a change behind.
        """
        language = pick_language(event.language_code)
        try:
            async with session.begin():
                if entry is not None and not await inbox.take(session, entry):
                    return Reply()
                customer = await self._customer(session, event)
                language = customer.language
                fetcher = self.fetchers.get(event.account.channel.value)
                ctx = Ctx(session, event, customer, self.options, fetcher)
                reply = await self._route(ctx)
                if ctx.caps.numbered_choices:
                    reply = numbered.number_choices(reply, ctx.state, ctx.lang)
                else:
                    numbered.forget_choices(ctx.state)
                await save_state(session, customer.id, ctx.state)
            await self._after_commit(ctx)
            return reply
        except ShopError as error:  # rolled back by leaving the block
            refusal = self.refusal(event, language, error)
            if entry is not None and not await self._take_alone(session, entry):
                return Reply()
            return refusal
        except BaseException:
            if entry is not None:
                entry.taken = False  # rolled back with the transaction: still pending
            raise

    async def _after_commit(self, ctx: Ctx) -> None:
        """Run the network calls the handler left for after its commit; a failure leaves
        their stored work queued for the periodic jobs, the answer stands."""
        for job in ctx.after_commit:
            try:
                await job(self.sessions, self.options)
            except Exception:
                log.exception("after-commit work for %s failed", ctx.event.account)

    @staticmethod
    async def _take_alone(session: AsyncSession, entry: inbox.Entry) -> bool:
        """Take the entry in a transaction of its own (a refusal changes nothing else)."""
        entry.taken = False
        try:
            async with session.begin():
                return await inbox.take(session, entry)
        except BaseException:
            entry.taken = False
            raise

    @staticmethod
    async def _customer(session: AsyncSession, event: Event) -> Shopper:
        """Who wrote (created on first contact), held until the transaction ends."""
        return await get_or_create_customer(
            session,
            event.account,
            display_name=event.display_name,
            language_code=event.language_code,
            username=event.username,
        )

    async def _route(self, ctx: Ctx) -> Reply:
        event = ctx.event
        if event.kind is EventKind.TEXT and ctx.caps.numbered_choices:
            action = numbered.chosen(ctx.state, event.text)
            if action is not None:  # a typed number is that choice's button press
                ctx.event = event = replace(event, kind=EventKind.ACTION, action=action, text="")
        if event.kind is EventKind.ACTION:
            found = self.router.find_action(event.action)
            if found is None:
                raise ShopError("not_available")
            handler, args = found
            return await handler(ctx, *args)
        if event.place is not None:
            return await self._first_answer(self.router.group, ctx) or Reply()
        if event.kind is EventKind.COMMAND:
            return await self._command(ctx)
        dialog = self.router.find_step(ctx.state.step)
        if dialog is not None:
            return await dialog(ctx)
        if event.kind in (EventKind.TEXT, EventKind.MEDIA):
            answer = await self._first_answer(self.router.free, ctx)
            if answer is not None:
                return answer
        in_checkout = (ctx.state.step or "").startswith("co:")
        if event.kind is EventKind.CONTACT:
            if ctx.state.step == "co:phone":
                return await checkout.answer_phone(ctx, event.phone)
            return await menu.show_menu(ctx)
        if event.kind is EventKind.MEDIA:
            if in_checkout:
                return await checkout.answer_media(ctx)
            return ctx.screen(ctx.t("media.unsupported"), *await menu.menu_buttons(ctx))
        text = event.text.strip()[:MAX_TEXT]
        if in_checkout:
            return await checkout.answer_text(ctx, text)
        if not any(ch.isalnum() for ch in text):
            return ctx.screen(
                ctx.t("search.nothing_text"),
                [ctx.button("btn.catalog", "c"), ctx.button("btn.menu", "m")],
            )
        return await catalog.search(ctx, text)

    @staticmethod
    async def _first_answer(hooks: list[Hook], ctx: Ctx) -> Reply | None:
        for hook in hooks:
            answer = await hook(ctx)
            if answer is not None:
                return answer
        return None

    async def _command(self, ctx: Ctx) -> Reply:
        event = ctx.event
        if event.command == "start":
            payload = event.text.strip()
            if payload.startswith("p_") and payload[2:].isdigit() and len(payload) < 12:
                try:
                    return await catalog.show_product(ctx, payload[2:])
                except ShopError:
                    pass  # a link to a product gone (reading only): still greet
            return await menu.greet(ctx)
        handler = self.router.commands.get(event.command)
        if handler is None:
            return await menu.show_help(ctx)
        return await handler(ctx)

    @staticmethod
    def refusal(event: Event, language: str, error: ShopError) -> Reply:
        """What a person sees when their request was refused: a toast for a press."""
        text = error_text(language, error.code, error.params)
        if event.kind is EventKind.ACTION:
            return Reply(toast=text)
        return Reply([Screen(text, ((Button(t(language, "btn.menu"), action="m"),),))])

    @staticmethod
    def failure(event: Event) -> Reply:
        """The apology for an event that could not be handled."""
        lang = pick_language(event.language_code)
        text = t(lang, "error.generic")
        if event.kind is EventKind.ACTION:
            return Reply(toast=text)
        return Reply([Screen(text)])
