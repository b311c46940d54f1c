"""The owner's quick commands through the neutral conversation: what the owner and shoppers see,
what is stored and audited, and that nobody else may use them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from handlers.context import Options
from handlers.conversation import Conversation
from shop.accounts import AccountRef, Channel
from shop.models import AuditEntry, Category, Order, Product, Variant
from shop.roles import Roster
from tests.flows.person import Person

OWNER, CLERK = 900, 901


@pytest.fixture
def conversation(demo) -> Conversation:
    roster = Roster(
        owners=frozenset({AccountRef(Channel.TELEGRAM, OWNER)}),
        staff=frozenset({AccountRef(Channel.TELEGRAM, CLERK)}),
    )
    return Conversation(demo, Options(roster=roster))


async def _variant(sessions, sku: str) -> Variant:
    async with sessions() as session:
        return (await session.scalars(select(Variant).where(Variant.sku == sku))).one()


async def _audit(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_owner_menu_and_usage_help(conversation):
    owner = Person(conversation, OWNER, name="Ольга")
    await owner.send("/admin")
    assert "/price АРТИКУЛ" in owner.text and "Выгрузить каталог" in owner.buttons[1]
    for command, usage in [
        ("/price", "Как менять цену"),
        ("/price DEMO-001-00 abc", "Как менять цену"),
        ("/price DEMO-001-00 -5", "Как менять цену"),
        ("/price DEMO-001-00 0", "Как менять цену"),
        ("/stock DEMO-001-00", "Как менять остаток"),
        ("/stock DEMO-001-00 lots", "Как менять остаток"),
        ("/hide", "Как скрыть"),
        ("/show a b", "Как вернуть"),
        ("/find !!", "Как искать"),
    ]:
        await owner.send(command)
        assert owner.text.startswith(usage), command
    await owner.send("/price NOPE-1 100")
    assert "Артикула «NOPE-1» нет" in owner.text
    await owner.send("/stock DEMO-001-00 -99")
    assert "не может стать меньше нуля: сейчас 5" in owner.text
    english = Person(conversation, OWNER, language_code="en")
    await english.action("l:en")
    await english.send("/admin")
    assert english.text.startswith("Shop administration")


async def test_price_and_stock_change_what_shoppers_see_not_placed_orders(conversation, demo):
    owner = Person(conversation, OWNER, name="Ольга")
    shopper = Person(conversation, 77)
    await shopper.send("Байкал")
    await shopper.press("Байкал")
    await shopper.press("В корзину")
    await shopper.press("Перейти в корзину")
    await shopper.press("Оформить заказ")
    await shopper.press("Использовать")
    await shopper.send("+79001234567")
    await shopper.press("Самовывоз")
    await shopper.press("Без комментария")
    await shopper.press("Без чека на почту")
    await shopper.press("Подтвердить заказ")
    assert "оформлен" in shopper.text

    await owner.send("/price DEMO-001-00 1990,50")
    assert "было 1 490 ₽, стало 1 990,50 ₽" in owner.text
    await owner.send("/stock DEMO-001-00 =10")
    assert "теперь 10 шт." in owner.text
    await owner.send("/stock DEMO-001-00 +5")
    assert "было 10, стало 15 шт." in owner.text
    await owner.send("/find байкал")
    assert "DEMO-001-00 — Футболка «Байкал» (S, белая): 1 990,50 ₽, остаток 15" in owner.text

    await shopper.send("Байкал")
    await shopper.press("Байкал")
    assert "Цена: 1 990,50 ₽" in shopper.text and "В наличии" in shopper.text
    async with demo() as session:
        order = (await session.scalars(select(Order))).one()
        assert order.items_total == 149000

    await owner.send("/hide DEMO-002-00")
    await owner.send("/hide DEMO-002-01")
    await owner.send("/hide DEMO-002-02")
    assert "скрыт" in owner.text
    await shopper.send("оверсайз")
    assert "ничего не нашлось" in shopper.text
    await owner.send("/show DEMO-002-00")
    await shopper.send("оверсайз")
    await shopper.press("оверсайз")
    assert "Цена: 1 990 ₽" in shopper.text

    actions = [(e.actor, e.action, e.subject, e.before, e.after) for e in await _audit(demo)]
    assert actions[0] == (
        f"telegram:{OWNER}",
        "price",
        "variant:DEMO-001-00",
        {"price": 149000},
        {"price": 199050},
    )
    assert [a[1] for a in actions] == ["price", "stock", "stock", "hide", "hide", "hide", "show"]


async def test_a_hidden_products_old_buttons_answer_not_available(conversation):
    owner = Person(conversation, OWNER)
    shopper = Person(conversation, 78)
    await shopper.send("Север")
    await shopper.press("оверсайз")
    for sku in ("DEMO-002-00", "DEMO-002-01", "DEMO-002-02"):
        await owner.send(f"/hide {sku}")
    reply = await shopper.press("В корзину")
    assert reply.toast == "Это больше недоступно."


async def test_staff_may_find_and_count_but_not_price(conversation, demo):
    clerk = Person(conversation, CLERK)
    await clerk.send("/admin")
    assert clerk.text.startswith("Команды сотрудника")
    await clerk.send("/stock DEMO-001-01 -3")
    assert "было 8, стало 5 шт." in clerk.text
    await clerk.send("/price DEMO-001-01 1")
    assert clerk.text == "Это доступно только сотрудникам магазина."
    assert (await _variant(demo, "DEMO-001-01")).price == 149000


async def test_shoppers_are_refused_every_admin_command_and_button(conversation, demo):
    mallory = Person(conversation, 66)
    original = await _variant(demo, "DEMO-001-00")
    for command in [
        "/admin",
        "/price DEMO-001-00 1",
        "/stock DEMO-001-00 =0",
        "/stock DEMO-001-00 +100",
        "/hide DEMO-001-00",
        "/show DEMO-001-00",
        "/find футболка",
        "/export",
        "/staff add telegram:66 owner",
        "/staff",
        "/shop",
        "/set greeting Взломано",
    ]:
        await mallory.send(command)
        assert mallory.text == "Это доступно только сотрудникам магазина.", command
    for action in ["adm", "adm:export", "adm:import", "adm:csv:ok:1", "adm:csv:no:1"]:
        reply = await mallory.action(action)
        assert reply.toast == "Это доступно только сотрудникам магазина.", action
    variant = await _variant(demo, "DEMO-001-00")
    assert (variant.price, variant.stock) == (original.price, original.stock)
    async with demo() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_english_mode_shows_english_texts_where_there_are_some(conversation, demo):
    async with demo() as session, session.begin():
        await session.execute(
            update(Product)
            .where(Product.title == "Футболка «Байкал»")
            .values(title_en="Baikal T-shirt", description_en="Cotton, a Baikal print.")
        )
        await session.execute(
            update(Category).where(Category.title == "Одежда").values(title_en="Clothes")
        )
    shopper = Person(conversation, 79, language_code="en")
    await shopper.action("l:en")
    await shopper.action("c")
    assert "Clothes" in shopper.buttons and "Обувь" in shopper.buttons
    await shopper.press("Clothes")
    await shopper.press("Футболки")
    assert any(label.startswith("Baikal T-shirt — from") for label in shopper.buttons)
    await shopper.press("Baikal T-shirt")
    assert shopper.text.startswith("Baikal T-shirt\n\nCotton, a Baikal print.")
    await shopper.send("Байкал")
    assert any(label.startswith("Baikal T-shirt") for label in shopper.buttons)
    russian = Person(conversation, 80)
    await russian.send("Байкал")
    assert any(label.startswith("Футболка «Байкал»") for label in russian.buttons)


async def test_owner_keeps_the_staff_list_and_shop_settings(conversation, demo):
    owner = Person(conversation, OWNER)
    newcomer = Person(conversation, 555)
    await newcomer.send("/find футболка")
    assert newcomer.text == "Это доступно только сотрудникам магазина."
    await owner.send("/staff add telegram:555 Катя")
    assert owner.text == "telegram:555 теперь staff."
    await newcomer.send("/find футболка")
    assert "DEMO-001-00" in newcomer.text
    await newcomer.send("/staff add telegram:556")
    assert newcomer.text == "Это доступно только сотрудникам магазина."
    await owner.send("/staff")
    assert "telegram:555 — staff Катя" in owner.text and f"telegram:{OWNER}" in owner.text
    await owner.send("/staff add nobody")
    assert owner.text.startswith("Команды: /staff add")
    await owner.send("/staff remove telegram:555")
    await newcomer.send("/find футболка")
    assert newcomer.text == "Это доступно только сотрудникам магазина."

    for command, answer in [
        ("/set reservation abc", "Нужно целое число от 5 до 10080."),
        ("/set reservation 0", "Нужно целое число от 5 до 10080."),
        ("/set colour red", "Изменить: /set name"),
        ("/set greeting <b>Привет!</b> Мы открылись.", "Готово: greeting = <b>Привет!</b>"),
        ("/set name Лавка", "Готово: name = Лавка"),
        ("/set hours Пн–Пт 10–19", "Готово: hours"),
        ("/set reservation 45", "Готово: reservation = 45"),
    ]:
        await owner.send(command)
        assert owner.text.startswith(answer), command
    shopper = Person(conversation, 81)
    await shopper.send("/start")
    assert shopper.text == "Лавка\n\n<b>Привет!</b> Мы открылись."
    await shopper.send("/help")
    assert shopper.text.endswith("Поддержка: Пн–Пт 10–19")
    await owner.send("/shop")
    assert "reservation: 45" in owner.text
    async with demo() as session:
        changes = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert changes == ["staff_add", "staff_remove", "setting", "setting", "setting", "setting"]


async def _place_order(shopper: Person, search: str, label: str) -> None:
    await shopper.send(search)
    await shopper.press(label)
    await shopper.press("В корзину")
    await shopper.press("Перейти в корзину")
    await shopper.press("Оформить заказ")
    await shopper.press("Использовать")
    await shopper.send("+79001234567")
    await shopper.press("Самовывоз")
    await shopper.press("Без комментария")
    await shopper.press("Без чека на почту")
    await shopper.press("Подтвердить заказ")
    assert "оформлен" in shopper.text


async def test_delete_removes_a_product_unless_an_open_order_holds_it(conversation, demo):
    owner = Person(conversation, OWNER)
    await _place_order(Person(conversation, 82), "оверсайз", "оверсайз")
    await owner.send("/delete DEMO-002-01")
    assert "есть в открытых заказах, поэтому он скрыт" in owner.text
    await owner.send("/delete DEMO-001-03")
    assert owner.text == "Товар артикула DEMO-001-03 удалён со всеми вариантами."
    await owner.send("/delete DEMO-001-00")
    assert "Артикула «DEMO-001-00» нет" in owner.text
    async with demo() as session:
        oversize = await session.scalar(select(Product).where(Product.title.contains("оверсайз")))
        assert oversize is not None and oversize.hidden
        assert await session.scalar(select(Product).where(Product.title.contains("Байкал"))) is None
        order = (await session.scalars(select(Order))).one()
        assert order.items_total == 199000


async def test_owner_edits_the_category_tree(conversation, demo):
    owner = Person(conversation, OWNER)
    shopper = Person(conversation, 83)
    await owner.send("/cat add Сад | Garden")
    assert owner.text.startswith("Готово: раздел")
    async with demo() as session:
        garden = await session.scalar(select(Category).where(Category.title == "Сад"))
        shoes = await session.scalar(select(Category).where(Category.title == "Обувь"))
        clothes = await session.scalar(select(Category).where(Category.title == "Одежда"))
    await owner.send(f"/cat add {garden.id} Лейки")
    await owner.send(f"/cat move {shoes.id} {garden.id}")
    await owner.send(f"/cat move {garden.id} {shoes.id}")
    assert owner.text == "Раздел нельзя переместить внутрь него самого."
    await owner.send(f"/cat rename {clothes.id} Одежда и обувь | Clothes")
    await owner.send(f"/cat order {garden.id} 0")
    await owner.send(f"/cat hide {garden.id}")
    await owner.send("/cat rename 999999 X")
    assert owner.text == "Раздела с номером 999999 нет. Список: /cats"
    await owner.send("/cat rename 1 a/b")
    assert owner.text.startswith("Название раздела — от 1 до 100")
    await owner.send("/cat fly 1")
    assert owner.text.startswith("Команды: /cat add")
    await owner.send("/cats")
    assert f"{garden.id}. Сад / Garden — товаров: 0, порядок 0 (скрыт)" in owner.text
    assert f"  {shoes.id}. Обувь" in owner.text
    await shopper.action("c")
    assert "Одежда и обувь" in shopper.buttons
    assert "Сад" not in shopper.buttons and "Обувь" not in shopper.buttons
    await owner.send(f"/cat show {garden.id}")
    await shopper.action("c")
    assert "Сад" in shopper.buttons


async def test_owner_keeps_delivery_methods(conversation, demo):
    owner = Person(conversation, OWNER)
    await owner.send("/delivery set sdek 400 address cash СДЭК до двери | CDEK door")
    assert owner.text.startswith("Готово: способ доставки sdek сохранён")
    await owner.send("/delivery set courier 0 Курьер бесплатно | Free courier")
    await owner.send("/delivery off post")
    for bad, answer in [
        ("/delivery set sdek abc СДЭК", "Изменить или добавить"),
        ("/delivery set Плохой 100 X", "Код доставки"),
        ("/delivery off nowhere", "Способа доставки nowhere нет"),
    ]:
        await owner.send(bad)
        assert owner.text.startswith(answer), bad
    await owner.send("/delivery")
    assert "• sdek: СДЭК до двери / CDEK door — 400 ₽, нужен адрес, можно наличными" in owner.text
    assert (
        "• post: Почта России / Russian Post — 290 ₽, нужен адрес, можно наличными (выключен)"
        in (owner.text)
    )
    shopper = Person(conversation, 84, language_code="en")
    await shopper.action("l:en")
    await shopper.send("футболка байкал")
    await shopper.press("Байкал")
    await shopper.press("Add to cart")
    await shopper.press("Go to cart")
    await shopper.press("Checkout")
    await shopper.press("Use")
    await shopper.send("+79001234567")
    assert "CDEK door — 400\u00a0₽" in shopper.buttons and "Free courier — free" in shopper.buttons
    assert not any("Russian Post" in label for label in shopper.buttons)


async def test_owner_edits_any_field_and_html_stays_text(conversation, demo):
    owner = Person(conversation, OWNER)
    await owner.send("/edit DEMO-001-00 title <b>Байкал</b> & Ко")
    assert owner.text.startswith("Готово: title у DEMO-001-00 изменено")
    await owner.send("/edit DEMO-001-00 title_en Baikal tee")
    await owner.send("/edit DEMO-001-00 size XS")
    await owner.send("/edit DEMO-001-00 colour -")
    for bad, answer in [
        ("/edit DEMO-001-00 title -", "Значение должно быть"),
        ("/edit DEMO-001-00 weight 5", "Как изменить товар"),
        ("/edit DEMO-001-00 category 99999", "Раздела с номером 99999 нет"),
        ("/edit DEMO-001-00 size " + "X" * 40, "Значение должно быть"),
        ("/edit", "Как изменить товар"),
    ]:
        await owner.send(bad)
        assert owner.text.startswith(answer), bad
    shopper = Person(conversation, 85)
    await shopper.send("Байкал")
    await shopper.press("<b>Байкал</b> & Ко")
    assert shopper.text.startswith("<b>Байкал</b> & Ко\n\n")
    assert "Вариант: XS\n" in shopper.text
    async with demo() as session:
        edits = list(
            await session.scalars(
                select(AuditEntry.subject)
                .where(AuditEntry.action == "edit")
                .order_by(AuditEntry.id)
            )
        )
    assert edits == ["product:1", "product:1", "variant:DEMO-001-00", "variant:DEMO-001-00"]


async def test_add_product_dialog_checks_what_is_typed(conversation, demo):
    owner = Person(conversation, OWNER)
    mallory = Person(conversation, 67)
    for action in ["adm:new", "adm:new:c:1", "adm:new:x"]:
        reply = await mallory.action(action)
        assert reply.toast == "Это доступно только сотрудникам магазина.", action
    await owner.send("/new")
    await owner.press("Футболки")
    await owner.send("   ")
    assert owner.text.startswith("Напишите ответ текстом")
    await owner.send("Футболка «Ладога» | Ladoga tee")
    await owner.send("-")
    await owner.send("LAD-S; S; ; abc; 3\nLAD-M; M; ; 1990; -1\nDEMO-001-00; L; ; 1990; 1")
    assert "Строка 1: цена" in owner.text and "Строка 2: остаток" in owner.text
    await owner.send("LAD-S; S; ; 1990; 3\nDEMO-001-00; L; ; 1990; 1")
    assert owner.text.startswith("Эти артикулы уже заняты: DEMO-001-00")
    await owner.send("LAD-S; S; ; 1990; 3\nLAD-M; M; серая; 2090,50; 0")
    assert owner.text.startswith("Товар №")
    async with demo() as session:
        product = await session.scalar(select(Product).where(Product.title_en == "Ladoga tee"))
        assert product is not None and product.description == ""
        skus = (
            await session.execute(
                select(Variant.sku, Variant.colour, Variant.price, Variant.stock)
                .where(Variant.product_id == product.id)
                .order_by(Variant.position)
            )
        ).all()
    assert skus == [("LAD-S", None, 199000, 3), ("LAD-M", "серая", 209050, 0)]
