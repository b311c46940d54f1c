"""The owner's shop-wide settings from the chat: the staff list and the settings that change
without a restart (shop name, greeting, support hours, reservation minutes)."""

from __future__ import annotations

from handlers.context import Ctx, Router
from handlers.format import shorten
from handlers.screens import Button, Reply
from shop import shop_settings, staff_list
from shop.accounts import AccountRef, parse_account
from shop.models import Role

router = Router()

SETTING_NAMES = {
    "name": "shop_name",
    "greeting": "greeting",
    "hours": "support_hours",
    "reservation": "reservation_minutes",
}


def _back(ctx: Ctx) -> list[Button]:
    return [ctx.button("btn.admin", "adm")]


def _account(text: str) -> AccountRef | None:
    try:
        return parse_account(text)
    except ValueError:
        return None


@router.command("staff")
async def staff_command(ctx: Ctx) -> Reply:
    """``/staff`` lists; ``/staff add ACCOUNT [owner] [name]``; ``/staff remove ACCOUNT``."""
    await ctx.require(Role.OWNER, "staff")
    verb, _, rest = ctx.event.text.strip()[:300].partition(" ")
    words = rest.split()
    account = _account(words[0]) if words else None
    if verb == "add" and account is not None:
        role = Role.OWNER if len(words) > 1 and words[1].lower() == "owner" else Role.STAFF
        name = " ".join(words[2:] if role is Role.OWNER else words[1:])[:200]
        changed = await staff_list.add_staff(ctx.session, ctx.event.account, account, role, name)
        key = "admin.staff_added" if changed else "admin.staff_same"
        return ctx.screen(ctx.t(key, account=str(account), role=role.value), _back(ctx))
    if verb == "remove" and account is not None and len(words) == 1:
        removed = await staff_list.remove_staff(ctx.session, ctx.event.account, account)
        key = "admin.staff_removed" if removed else "admin.staff_absent"
        return ctx.screen(ctx.t(key, account=str(account)), _back(ctx))
    if verb:
        return ctx.screen(ctx.t("admin.staff_usage"), _back(ctx))
    members = await staff_list.list_staff(ctx.session)
    lines = [
        ctx.t(
            "admin.staff_line",
            account=f"{member.channel}:{member.external_id}",
            role=member.role,
            name=shorten(member.name, 40),
        )
        for member in members
    ]
    roster = ctx.options.roster
    configured = sorted(str(a) for a in roster.owners) + sorted(str(a) for a in roster.staff)
    text = "\n".join(
        [ctx.t("admin.staff_title"), *(lines or [ctx.t("admin.staff_none")])]
        + ([ctx.t("admin.staff_configured", accounts=", ".join(configured))] if configured else [])
        + ["", ctx.t("admin.staff_usage")]
    )
    return ctx.screen(text, _back(ctx))


@router.command("shop", "set")
async def settings_command(ctx: Ctx) -> Reply:
    """``/shop`` shows them; ``/set NAME VALUE`` changes one (/settings is a shopper's)."""
    await ctx.require(Role.OWNER, "settings")
    name, _, value = ctx.event.text.strip()[: shop_settings.MAX_TEXT + 20].partition(" ")
    key = SETTING_NAMES.get(name.lower())
    if ctx.event.command == "set" and key is not None and value.strip():
        stored = await shop_settings.change_setting(ctx.session, ctx.event.account, key, value)
        return ctx.screen(ctx.t("admin.setting_set", name=name.lower(), value=stored), _back(ctx))
    if ctx.event.command == "set":
        return ctx.screen(ctx.t("admin.settings_usage"), _back(ctx))
    current = await shop_settings.read_settings(ctx.session)
    defaults = {"reservation_minutes": str(ctx.options.reservation_minutes)}
    lines = [
        f"{short}: {shorten(current.get(full) or defaults.get(full) or '—', 80)}"
        for short, full in SETTING_NAMES.items()
    ]
    return ctx.screen(
        "\n".join([ctx.t("admin.settings_title"), *lines, "", ctx.t("admin.settings_usage")]),
        _back(ctx),
    )
