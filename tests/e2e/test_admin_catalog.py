"""The owner keeps the catalog from the chat, through the Telegram and VK emulators with the
real aiogram and vk_api clients: CSV export and import, photos by SKU, quick commands; what
shoppers then see on either messenger; and nobody else may do any of it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import start
from shop.models import AuditEntry, Order, Product, ProductPhoto, Variant
from tests.e2e.conftest import seen
from tests.e2e.test_vk_storefront import tap
from tests.emulators.telegram.driver import tiny_png
from tests.emulators.vk import VkEmulator

HEADER = "sku;category;title;title_en;description;description_en;size;colour;price;stock;hidden"
CAN = (
    "\r\n".join(
        [
            HEADER,
            "CAN-5;Дом и кухня / Сад;Лейка «Капля»;Watering can Drop;Лёгкая, пластик;"
            "Light plastic;5 л;зелёная;799,90;4;0",
            "CAN-10;Дом и кухня / Сад;Лейка «Капля»;Watering can Drop;Лёгкая, пластик;"
            "Light plastic;10 л;зелёная;999;2;нет",
        ]
    )
    + "\r\n"
).encode("cp1251")
BAD = (
    "\n".join(
        [
            HEADER,
            "BAD-1;Сад;Грабли;;;;;;дорого;1;0",
            "DEMO-001-00;Одежда / Футболки;Футболка «Байкал»;;;;S;белая;1490;5;0",
            "BAD-2;Сад;Грабли;;;;;;100;-3;0",
            "BAD-3;;Грабли;;;;;;100;3;0",
        ]
    )
    + "\n"
).encode()


async def test_owner_keeps_the_catalog_and_shoppers_see_it(telegram, shop_settings):
    vk = VkEmulator()
    await vk.start()
    group = vk.create_group(name="Демо-магазин", screen_name="demo_shop")
    token = shop_settings().telegram_bot_token
    owner = telegram.user(token, first_name="Ольга")
    mallory = telegram.user(token, first_name="Мэллори")
    vk_owner = vk.user(group, first_name="Олег")
    shopper = vk.user(group, first_name="Боб")
    settings = shop_settings(
        vk_group_token=group.token,
        vk_group_id=group.id,
        vk_api_url=vk.api_url,
        owners=f"telegram:{owner.id},vk:{vk_owner.id}",
    )
    runtime = await start(settings)
    try:
        await vk.wait_for_bot(group)

        async def stored(sku: str) -> tuple[int, int] | None:
            async with runtime.sessions() as session:
                row = (
                    await session.execute(
                        select(Variant.price, Variant.stock).where(Variant.sku == sku)
                    )
                ).first()
            return tuple(row) if row else None  # type: ignore[return-value]

        # Every admin command and a forged admin button from a shopper: refused, no change.
        for command in ["/admin", "/price DEMO-001-00 1", "/stock DEMO-001-00 =0", "/export"]:
            await mallory.send(command)
            assert seen(mallory.screen.text) == "Это доступно только сотрудникам магазина.", command
        await mallory.send_document(CAN, "catalog.csv")
        assert mallory.screen.text == "Это доступно только сотрудникам магазина."
        await mallory.send("/start")
        await mallory.press_data("adm:csv:ok:1", message=mallory.screen)
        assert mallory.last_answer == "Это доступно только сотрудникам магазина."
        assert await stored("DEMO-001-00") == (149000, 5) and await stored("CAN-5") is None

        # Export, then the same file back: nothing to change.
        await owner.send("/export")
        exported = owner.bot_messages[-1]
        assert exported.document is not None and "Весь каталог" in seen(exported.text)
        data = telegram.file_bytes(token, exported.document)
        assert data.startswith(b"\xef\xbb\xbfsku;category;title")
        await owner.send_document(data, "catalog.csv")
        assert "ничего не меняет" in seen(owner.screen.text)

        # Three bad lines: every one listed, nothing applied.
        await owner.send_document(BAD, "catalog.csv")
        answer = seen(owner.screen.text)
        assert "ничего не изменилось. Ошибок: 3." in answer
        assert "Строка 2: цена «дорого»" in answer
        assert "Строка 4: остаток «-3»" in answer
        assert "Строка 5: раздел «» пустой" in answer

        # A Windows-1251 file with ';': a preview, applied on "Apply".
        await owner.send_document(CAN, "лейки.csv")
        answer = seen(owner.screen.text)
        assert "Новых: 2, изменится: 0" in answer and "CAN-5 — Лейка «Капля», 799,90 ₽" in answer
        assert await stored("CAN-5") is None
        await owner.press("Применить")
        assert "добавлено 2, изменено 0" in seen(owner.screen.text)

        # The add-product dialog: category, title RU | EN, description, two SKUs; a photo.
        await owner.send("/admin")
        await owner.press("➕ Добавить товар")
        await owner.press("Аксессуары")
        await owner.send("Кружка «Утро» | Morning mug")
        await owner.send("Фарфор, 300 мл. | Porcelain, 300 ml.")
        await owner.send("MUG-W; 300 мл; белая; 590; 10\nMUG-B; 300 мл; чёрная; 640,50; 4")
        assert "«Кружка «Утро»» добавлен" in seen(owner.screen.text)
        await owner.send_photo(tiny_png(3, 3), caption="MUG-W")
        assert "Фото добавлено к товару MUG-W" in seen(owner.screen.text)

        # A VK shopper finds it, sees the photo, buys it.
        await shopper.send("кружка утро")
        await tap(shopper, "Кружка «Утро» — от 590")
        assert "Цена: 590 ₽" in seen(shopper.screen.text)
        assert shopper.screen.attachments and shopper.screen.attachments[0].type == "photo"
        await tap(shopper, "300 мл, чёрная")
        await tap(shopper, "🛒 В корзину")
        await tap(shopper, "Перейти в корзину")
        await tap(shopper, "✅ Оформить заказ")
        await tap(shopper, "Использовать")
        await shopper.send("+79001234567")
        await tap(shopper, "Самовывоз")
        await tap(shopper, "Без комментария")
        await tap(shopper, "Без чека на почту")
        await tap(shopper, "✅ Подтвердить")
        assert "оформлен! Сумма: 640,50 ₽" in seen(shopper.screen.text)

        # In English mode a shopper sees the English texts.
        english = vk.user(group, first_name="Emma", lang="en")
        await english.send("/language")
        await tap(english, "English")
        await english.send("кружка")
        await tap(english, "Morning mug")
        assert seen(english.screen.text).startswith("Morning mug\n\nPorcelain, 300 ml.")

        # Photos of the imported product too, by a SKU in the caption.
        await owner.send_photo(tiny_png(3, 3), caption="CAN-10")
        assert "Фото добавлено к товару CAN-10" in seen(owner.screen.text)
        await shopper.send("лейка")
        await tap(shopper, "Лейка «Капля»")
        await tap(shopper, "10 л, зелёная")

        # The owner on VK changes the price and stock; the shopper sees it at once.
        await vk_owner.send("/price CAN-10 1 200")
        assert "было 999 ₽, стало 1 200 ₽" in seen(vk_owner.screen.text)
        await vk_owner.send("/stock CAN-10 +3")
        assert "было 2, стало 5 шт." in seen(vk_owner.screen.text)
        await shopper.send("лейка")
        await tap(shopper, "Лейка «Капля»")
        await tap(shopper, "10 л, зелёная")
        assert "Цена: 1 200 ₽" in seen(shopper.screen.text)

        # The VK owner's CSV goes through VK's file URL too.
        await vk_owner.send(document=("prices.csv", CAN.replace(b"799,90", b"850")))
        assert "изменится: 2" in seen(vk_owner.screen.text)
        assert "CAN-5: price: 799,90 ₽ → 850 ₽" in seen(vk_owner.screen.text)

        async with runtime.sessions() as session:
            product = await session.scalar(select(Product).where(Product.title_en.like("Water%")))
            assert product is not None and product.title_en == "Watering can Drop"
            photos = await session.scalar(
                select(func.count()).where(ProductPhoto.product_id == product.id)
            )
            assert photos == 1
            actions = list(await session.scalars(select(AuditEntry.action)))
            order = await session.scalar(select(Order))
        assert actions == ["csv_import", "product_add", "photo", "photo", "price", "stock"]
        assert order is not None and order.items_total == 64050
        assert vk.warnings == []
    finally:
        await runtime.stop()
        await vk.stop()
