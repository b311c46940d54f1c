"""Every word the shop says, per language: Russian first, English second.

`t(lang, key, **params)` looks a text up and fills it; a missing English text falls back to
Russian, so a new text never shows up as a bare key. The shopper's words are here; each staff
or owner feature keeps its words in a module of this package (desk, support, admin, linking),
merged below, so a feature's texts sit together.
"""

from __future__ import annotations

RU: dict[str, str] = {
    # menu
    "menu.greeting": "Здравствуйте, {name}! Это наш магазин прямо в мессенджере.\n"
    "Выберите раздел или просто напишите, что ищете.",
    "menu.title": "Главное меню. Выберите раздел или напишите, что ищете.",
    "btn.catalog": "🛍 Каталог",
    "btn.search": "🔎 Поиск",
    "btn.cart": "🛒 Корзина",
    "btn.cart_count": "🛒 Корзина ({count})",
    "btn.orders": "📦 Мои заказы",
    "btn.help": "❓ Помощь",
    "btn.language": "🌐 Язык / Language",
    "btn.menu": "🏠 Меню",
    "btn.back": "« Назад",
    "btn.cancel": "✖️ Отмена",
    "help": "Как купить:\n1. Откройте «Каталог» или напишите название товара.\n"
    "2. Выберите размер или цвет и добавьте в корзину.\n"
    "3. В корзине нажмите «Оформить заказ».\n\n"
    "Команды: /start — меню, /catalog — каталог, /cart — корзина, /orders — заказы, "
    "/help — помощь.",
    "language.choose": "Выберите язык.",
    "language.set": "Готово: теперь я говорю по-русски.",
    # catalog
    "catalog.title": "Каталог. Выберите раздел:",
    "catalog.empty": "В каталоге пока пусто. Загляните позже!",
    "category.title": "{title}",
    "category.page": "{title}\nСтраница {page} из {pages}. Выберите товар:",
    "category.empty": "{title}\nЗдесь пока нет товаров.",
    "product.line": "{title} — {price}",
    "product.line_from": "{title} — от {price}",
    "product.line_out": "✖ {title} — нет в наличии",
    "product.price": "Цена: {price}",
    "product.in_stock": "В наличии",
    "product.few_left": "Осталось мало: {count} шт.",
    "product.out_of_stock": "Нет в наличии",
    "product.variant": "Вариант: {label}",
    "product.choose_variant": "Выберите вариант:",
    "btn.add": "🛒 В корзину — {amount}",
    "btn.go_cart": "Перейти в корзину ({count})",
    "btn.quantity": "{count} шт.",
    "toast.added": "Добавлено в корзину: {count} шт.",
    "toast.no_more": "Больше нет в наличии",
    # search
    "search.prompt": "Напишите, что ищете: например, «футболка» или «кружка».",
    "search.found": "Нашлось по запросу «{query}»: {total}. Страница {page} из {pages}.",
    "search.nothing": "По запросу «{query}» ничего не нашлось. Попробуйте другое слово "
    "или загляните в каталог.",
    "search.nothing_text": "Я не нашёл слов для поиска. Напишите название товара, например «кеды».",
    # cart
    "cart.title": "Ваша корзина:",
    "cart.empty": "Корзина пуста. Загляните в каталог!",
    "cart.line": "{n}. {title} × {quantity} = {amount}",
    "cart.line_unavailable": "{n}. {title} × {quantity} — ⚠️ больше не продаётся",
    "cart.line_short": "{n}. {title} × {quantity} — ⚠️ в наличии только {stock} шт.",
    "cart.total": "Итого: {total}",
    "cart.fix": "Уберите или уменьшите отмеченные позиции, чтобы оформить заказ.",
    "btn.checkout": "✅ Оформить заказ",
    "btn.clear": "🗑 Очистить",
    "toast.cleared": "Корзина очищена",
    "toast.removed": "Удалено из корзины",
    # checkout
    "checkout.name": "Оформление заказа.\nКак вас зовут? Напишите имя и фамилию получателя.",
    "checkout.name_bad": "Имя должно содержать буквы и быть не длиннее 100 символов. "
    "Напишите, пожалуйста, имя получателя.",
    "btn.use_name": "Использовать: {name}",
    "checkout.phone": "Телефон для связи. Нажмите кнопку «Отправить телефон» или напишите "
    "номер, например +7 900 123-45-67.",
    "checkout.phone_bad": "Не похоже на номер телефона. Напишите номер в формате +7 900 123-45-67.",
    "checkout.phone_typed": "Телефон для связи. Напишите номер, например +7 900 123-45-67.",
    "btn.share_phone": "📱 Отправить телефон",
    "checkout.phone_hint": "Кнопка «📱 Отправить телефон» — внизу, под полем ввода.",
    "btn.use_phone": "Использовать: {phone}",
    "checkout.delivery": "Как доставить заказ?",
    "btn.delivery": "{title} — {price}",
    "btn.delivery_free": "{title} — бесплатно",
    "checkout.address": "Адрес доставки: город, улица, дом, квартира.",
    "checkout.address_bad": "Адрес должен быть от 5 до 300 символов. Напишите город, улицу, "
    "дом и квартиру.",
    "btn.use_address": "Использовать: {address}",
    "checkout.comment": "Комментарий к заказу (например, удобное время)? Напишите его или "
    "нажмите «Без комментария».",
    "checkout.comment_bad": "Комментарий должен быть не длиннее 500 символов.",
    "btn.no_comment": "Без комментария",
    "checkout.email": "Прислать электронный чек на почту? Напишите адрес e-mail или нажмите "
    "«Без чека на почту» — тогда чек придёт на телефон.",
    "checkout.email_bad": "Не похоже на адрес почты. Напишите его целиком, например "
    "name@example.ru, или нажмите «Без чека на почту».",
    "btn.no_email": "Без чека на почту",
    "checkout.summary": "Проверьте заказ:\n\n{lines}\n\nДоставка: {delivery} — {delivery_price}\n"
    "{address}Получатель: {name}, {phone}\n{comment}{email}\nИтого к оплате: {total}\n\n"
    "Нажимая «Подтвердить», вы соглашаетесь, что мы сохраним имя, телефон и адрес для "
    "доставки. Удалить их можно командой /forget.",
    "checkout.summary_address": "Адрес: {address}\n",
    "checkout.summary_comment": "Комментарий: {comment}\n",
    "checkout.summary_email": "Чек на почту: {email}\n",
    "btn.confirm": "✅ Подтвердить заказ",
    "checkout.cancelled": "Оформление отменено. Товары остались в корзине.",
    "checkout.text_expected": "Пожалуйста, ответьте текстом.",
    "checkout.button_expected": "Пожалуйста, выберите один из вариантов кнопкой.",
    "checkout.placed": "Заказ №{order_id} оформлен! Сумма: {total}.\n"
    "Товары зарезервированы до {until}.\nСтатус: ожидает оплаты.",
    "checkout.short": "Не удалось оформить заказ — не хватает товара:\n{lines}\n"
    "Корзина сохранена: измените количество и попробуйте снова.",
    "checkout.short_line": "• {title}: нужно {requested}, в наличии {available}",
    "checkout.hold_orders": "Не получилось оформить заказ: одновременно можно держать не больше "
    "{limit} неоплаченных заказов с резервом товара, а у вас их уже {count}.\n"
    "Оплатите или отмените один из них — корзина сохранена, потом подтвердите заказ снова.",
    "checkout.hold_units": "Не получилось оформить заказ: одного товара можно держать "
    "в неоплаченных заказах не больше {limit} шт.\n{lines}\nУменьшите количество в корзине "
    "или оплатите либо отмените неоплаченный заказ — корзина сохранена.",
    "checkout.hold_units_line": "• {title}: в корзине {wanted} шт., уже в неоплаченных "
    "заказах {held} шт.",
    "checkout.hold_cash": "Заказы с оплатой при получении тоже считаются, пока их не отправят.",
    "btn.held_order": "📦 Заказ №{order_id} — {total}",
    "btn.cancel_order": "✖️ Отменить №{order_id}",
    "checkout.order_cancelled": "Заказ №{order_id} отменён, резерв снят.",
    # orders
    "orders.title": "Ваши заказы:",
    "orders.empty": "Заказов пока нет.",
    "orders.line": "№{order_id} от {date} — {total}, {status}",
    "order.title": "Заказ №{order_id} от {date}\nСтатус: {status}\n\n{lines}\n\n"
    "Доставка: {delivery} — {delivery_price}\nИтого: {total}",
    "order.reserved": "Резерв до {until}.",
    "order.history": "История:",
    "order.history_line": "{date} — {status}",
    "btn.pay": "💳 Оплатить {total}",
    "btn.cash": "💵 Оплачу при получении",
    "btn.pay_link": "💳 Перейти к оплате",
    "btn.to_order": "« К заказу",
    "pay.link": "Заказ №{order_id}: к оплате {total}.\nНажмите «Перейти к оплате» — страница "
    "ЮKassa откроется прямо в мессенджере. Как только оплата пройдёт, я напишу.",
    "pay.invoice": "Счёт на оплату заказа №{order_id} — ниже.",
    "pay.cash": "Заказ №{order_id} оплатите при получении. Мы начали его собирать.",
    "notify.staff_alert": "⚠️ Оплата требует внимания сотрудника: {facts}",
    "notify.undelivered": "⚠️ Сообщение №{message_id} ({kind}) для {recipient} не доставлено "
    "после {attempts} попыток и отложено. Последняя ошибка: {error}",
    "notify.refund": "Заказ №{order_id}: возвращаем {amount}. Деньги придут на карту в течение "
    "нескольких дней.",
    "notify.late_paid": "Заказ №{order_id}: оплата поступила после снятия резерва, но товар "
    "нашёлся — заказ оплачен.",
    "status.new": "создан",
    "status.awaiting_payment": "ожидает оплаты",
    "status.paid": "оплачен",
    "status.assembling": "собирается",
    "status.shipped": "отправлен",
    "status.delivered": "доставлен",
    "status.cancelled": "отменён",
    "status.refunded": "деньги возвращены",
    # what an order history row records (shop.models.OrderEventKind)
    "event.placed": "заказ создан",
    "event.awaiting_payment": "товар зарезервирован, ждём оплату",
    "event.paid": "оплата получена",
    "event.late_paid": "оплата пришла после снятия резерва, товар нашёлся",
    "event.cash_on_delivery": "оплата при получении",
    "event.expired": "отменён: оплата не поступила вовремя",
    "event.cancelled_by_customer": "отменён покупателем",
    "event.refunded": "деньги возвращены",
    "event.status_changed": "статус изменён",
    "notify.status": "Заказ №{order_id}: {status}.",
    "notify.expired": "Заказ №{order_id} отменён: оплата не поступила вовремя, резерв снят.",
    # errors and fallbacks
    "error.not_available": "Это больше недоступно.",
    "error.not_enough_stock": "Столько нет в наличии: осталось {available} шт.",
    "error.quantity_limit": "Можно заказать не больше {limit} шт. одного товара.",
    "error.cart_full": "В корзине может быть не больше {limit} разных товаров.",
    "error.not_in_cart": "Этого товара уже нет в корзине.",
    "error.cart_empty": "Корзина пуста.",
    "error.address_required": "Для этого способа доставки нужен адрес.",
    "error.cart_not_ready": "В корзине есть позиции, которые нельзя заказать. Исправьте их.",
    "error.not_allowed": "Это доступно только сотрудникам магазина.",
    "error.generic": "Что-то пошло не так. Попробуйте ещё раз.",
    "error.not_awaiting_payment": "Этот заказ уже не ждёт оплаты.",
    "error.reservation_expired": "Резерв по этому заказу истёк — оформите заказ заново.",
    "error.payment_unavailable": "Платёжная система сейчас не отвечает. Попробуйте через минуту.",
    "error.cash_not_available": "Для этого способа доставки оплата при получении недоступна.",
    "error.price_changed": "Сумма заказа изменилась. Откройте заказ и оплатите заново.",
    "error.wrong_currency": "Оплата принимается только в рублях.",
    "error.order_changed": "Заказ только что изменился. Откройте его снова.",
    "error.illegal_transition": "Заказ сейчас в другом статусе — это действие недоступно.",
    "error.unpaid_orders_limit": "Одновременно можно держать не больше {limit} неоплаченных "
    "заказов. Оплатите или отмените один из них и оформите заказ снова.",
    "error.units_limit": "Одного товара можно держать в неоплаченных заказах не больше {limit} "
    "шт. Уменьшите количество или оплатите либо отмените неоплаченный заказ.",
    "media.unsupported": "Я понимаю текст и кнопки. Напишите, что ищете, или откройте меню.",
    "numbered.hint": "Чтобы выбрать, напишите номер.",
    "forget.done": "Мы удалили ваши имя, телефон и адрес. Заказы остались в истории.",
}

EN: dict[str, str] = {
    "menu.greeting": "Hello, {name}! This is our shop right inside the messenger.\n"
    "Pick a section or just type what you are looking for.",
    "menu.title": "Main menu. Pick a section or type what you are looking for.",
    "btn.catalog": "🛍 Catalog",
    "btn.search": "🔎 Search",
    "btn.cart": "🛒 Cart",
    "btn.cart_count": "🛒 Cart ({count})",
    "btn.orders": "📦 My orders",
    "btn.help": "❓ Help",
    "btn.language": "🌐 Язык / Language",
    "btn.menu": "🏠 Menu",
    "btn.back": "« Back",
    "btn.cancel": "✖️ Cancel",
    "help": "How to buy:\n1. Open the Catalog or type a product name.\n"
    "2. Pick a size or colour and add it to the cart.\n"
    "3. In the cart press Checkout.\n\n"
    "Commands: /start — menu, /catalog — catalog, /cart — cart, /orders — orders, "
    "/help — help.",
    "language.choose": "Choose your language.",
    "language.set": "Done: I speak English now.",
    "catalog.title": "Catalog. Pick a section:",
    "catalog.empty": "The catalog is empty for now. Come back later!",
    "category.title": "{title}",
    "category.page": "{title}\nPage {page} of {pages}. Pick a product:",
    "category.empty": "{title}\nNo products here yet.",
    "product.line": "{title} — {price}",
    "product.line_from": "{title} — from {price}",
    "product.line_out": "✖ {title} — out of stock",
    "product.price": "Price: {price}",
    "product.in_stock": "In stock",
    "product.few_left": "Only {count} left",
    "product.out_of_stock": "Out of stock",
    "product.variant": "Option: {label}",
    "product.choose_variant": "Choose an option:",
    "btn.add": "🛒 Add to cart — {amount}",
    "btn.go_cart": "Go to cart ({count})",
    "btn.quantity": "{count} pcs",
    "toast.added": "Added to cart: {count} pcs",
    "toast.no_more": "No more in stock",
    "search.prompt": "Type what you are looking for, e.g. “t-shirt” or “mug”.",
    "search.found": "Found for “{query}”: {total}. Page {page} of {pages}.",
    "search.nothing": "Nothing found for “{query}”. Try another word or browse the catalog.",
    "search.nothing_text": "I found no words to search for. Type a product name, e.g. “sneakers”.",
    "cart.title": "Your cart:",
    "cart.empty": "Your cart is empty. Have a look at the catalog!",
    "cart.line": "{n}. {title} × {quantity} = {amount}",
    "cart.line_unavailable": "{n}. {title} × {quantity} — ⚠️ no longer sold",
    "cart.line_short": "{n}. {title} × {quantity} — ⚠️ only {stock} in stock",
    "cart.total": "Total: {total}",
    "cart.fix": "Remove or reduce the marked lines to check out.",
    "btn.checkout": "✅ Checkout",
    "btn.clear": "🗑 Clear",
    "toast.cleared": "Cart cleared",
    "toast.removed": "Removed from cart",
    "checkout.name": "Checkout.\nWhat is the recipient's full name?",
    "checkout.name_bad": "A name has letters and at most 100 characters. "
    "Please type the recipient's name.",
    "btn.use_name": "Use: {name}",
    "checkout.phone": "Phone number for delivery. Press “Share phone” or type the number, "
    "e.g. +7 900 123-45-67.",
    "checkout.phone_bad": "That does not look like a phone number. Type it like +7 900 123-45-67.",
    "checkout.phone_typed": "Phone number for delivery. Type it, e.g. +7 900 123-45-67.",
    "btn.share_phone": "📱 Share phone",
    "checkout.phone_hint": "The “📱 Share phone” button is below, under the input field.",
    "btn.use_phone": "Use: {phone}",
    "checkout.delivery": "How should we deliver?",
    "btn.delivery": "{title} — {price}",
    "btn.delivery_free": "{title} — free",
    "checkout.address": "Delivery address: city, street, house, flat.",
    "checkout.address_bad": "An address has 5 to 300 characters. Type the city, street, house "
    "and flat.",
    "btn.use_address": "Use: {address}",
    "checkout.comment": "A comment for the order (e.g. a convenient time)? Type it or press "
    "“No comment”.",
    "checkout.comment_bad": "A comment has at most 500 characters.",
    "btn.no_comment": "No comment",
    "checkout.email": "Send the electronic receipt to your e-mail? Type the address or press "
    "“No e-mail receipt”: the receipt then goes to your phone.",
    "checkout.email_bad": "That does not look like an e-mail address. Please type all of it, "
    "e.g. name@example.com, or press “No e-mail receipt”.",
    "btn.no_email": "No e-mail receipt",
    "checkout.summary": "Please check your order:\n\n{lines}\n\nDelivery: {delivery} — "
    "{delivery_price}\n{address}Recipient: {name}, {phone}\n{comment}{email}\n"
    "Total to pay: {total}\n\n"
    "By pressing Confirm you agree that we keep your name, phone and address for delivery. "
    "Erase them any time with /forget.",
    "checkout.summary_address": "Address: {address}\n",
    "checkout.summary_comment": "Comment: {comment}\n",
    "checkout.summary_email": "Receipt to: {email}\n",
    "btn.confirm": "✅ Confirm order",
    "checkout.cancelled": "Checkout cancelled. Your cart is kept.",
    "checkout.text_expected": "Please answer with text.",
    "checkout.button_expected": "Please pick one of the options with a button.",
    "checkout.placed": "Order #{order_id} is placed! Amount: {total}.\n"
    "Items are reserved until {until}.\nStatus: awaiting payment.",
    "checkout.short": "Could not place the order — not enough stock:\n{lines}\n"
    "Your cart is kept: change the quantities and try again.",
    "checkout.short_line": "• {title}: wanted {requested}, in stock {available}",
    "checkout.hold_orders": "Could not place the order: you may hold at most {limit} unpaid "
    "orders with reserved items at a time, and you have {count}.\n"
    "Pay for or cancel one of them (your cart is kept), then confirm the order again.",
    "checkout.hold_units": "Could not place the order: you may hold at most {limit} pcs of "
    "one item in unpaid orders.\n{lines}\nReduce the quantity in your cart, or pay for or "
    "cancel an unpaid order (your cart is kept).",
    "checkout.hold_units_line": "• {title}: {wanted} in the cart, {held} already in unpaid orders",
    "checkout.hold_cash": "Cash-on-delivery orders count too until they are shipped.",
    "btn.held_order": "📦 Order #{order_id} — {total}",
    "btn.cancel_order": "✖️ Cancel #{order_id}",
    "checkout.order_cancelled": "Order #{order_id} is cancelled, its items are released.",
    "orders.title": "Your orders:",
    "orders.empty": "No orders yet.",
    "orders.line": "#{order_id} of {date} — {total}, {status}",
    "order.title": "Order #{order_id} of {date}\nStatus: {status}\n\n{lines}\n\n"
    "Delivery: {delivery} — {delivery_price}\nTotal: {total}",
    "order.reserved": "Reserved until {until}.",
    "order.history": "History:",
    "order.history_line": "{date} — {status}",
    "btn.pay": "💳 Pay {total}",
    "btn.cash": "💵 Cash on delivery",
    "btn.pay_link": "💳 Go to payment",
    "btn.to_order": "« To the order",
    "pay.link": "Order #{order_id}: {total} to pay.\nPress “Go to payment”: the YooKassa page "
    "opens right inside the messenger. I will write as soon as the payment is through.",
    "pay.invoice": "The invoice for order #{order_id} is below.",
    "pay.cash": "Pay for order #{order_id} on delivery. We have started packing it.",
    "notify.staff_alert": "⚠️ A payment needs a staff member's attention: {facts}",
    "notify.undelivered": "⚠️ Message #{message_id} ({kind}) to {recipient} was not delivered "
    "after {attempts} tries and is set aside. Last error: {error}",
    "notify.refund": "Order #{order_id}: we are refunding {amount}. The money reaches your card "
    "within a few days.",
    "notify.late_paid": "Order #{order_id}: the payment came after the reservation ran out, but "
    "the items were still there: the order is paid.",
    "status.new": "created",
    "status.awaiting_payment": "awaiting payment",
    "status.paid": "paid",
    "status.assembling": "being packed",
    "status.shipped": "shipped",
    "status.delivered": "delivered",
    "status.cancelled": "cancelled",
    "status.refunded": "refunded",
    "event.placed": "order created",
    "event.awaiting_payment": "items reserved, awaiting payment",
    "event.paid": "payment received",
    "event.late_paid": "paid after the reservation ran out; the items were still there",
    "event.cash_on_delivery": "cash on delivery",
    "event.expired": "cancelled: no payment in time",
    "event.cancelled_by_customer": "cancelled by the customer",
    "event.refunded": "refunded",
    "event.status_changed": "status changed",
    "notify.status": "Order #{order_id}: {status}.",
    "notify.expired": "Order #{order_id} is cancelled: no payment arrived in time, "
    "the reservation is released.",
    "error.not_available": "This is no longer available.",
    "error.not_enough_stock": "Not that many in stock: {available} left.",
    "error.quantity_limit": "At most {limit} pieces of one product per order.",
    "error.cart_full": "A cart holds at most {limit} different products.",
    "error.not_in_cart": "This product is no longer in your cart.",
    "error.cart_empty": "Your cart is empty.",
    "error.address_required": "This delivery method needs an address.",
    "error.cart_not_ready": "Some lines in the cart cannot be ordered. Please fix them.",
    "error.not_allowed": "Only the shop's staff may do this.",
    "error.generic": "Something went wrong. Please try again.",
    "error.not_awaiting_payment": "This order is no longer waiting for payment.",
    "error.reservation_expired": "The reservation of this order ran out: please order again.",
    "error.payment_unavailable": "The payment system does not answer. Try again in a minute.",
    "error.cash_not_available": "Cash on delivery is not available for this delivery method.",
    "error.price_changed": "The order total changed. Open the order and pay again.",
    "error.wrong_currency": "Payments are accepted in roubles only.",
    "error.order_changed": "The order has just changed. Please open it again.",
    "error.illegal_transition": "The order is in another status now: this is not available.",
    "error.unpaid_orders_limit": "You may hold at most {limit} unpaid orders at a time. Pay for "
    "or cancel one of them, then order again.",
    "error.units_limit": "You may hold at most {limit} pcs of one item in unpaid orders. "
    "Reduce the quantity, or pay for or cancel an unpaid order.",
    "media.unsupported": "I understand text and buttons. Type what you are looking for or "
    "open the menu.",
    "numbered.hint": "To choose, type the number.",
    "forget.done": "We erased your name, phone and address. Your orders stay in the history.",
}


def _merge_parts() -> None:
    """Add each feature's texts; a key defined twice is a mistake caught at import."""
    from handlers.texts import admin, desk, linking, support

    for part in (admin, desk, linking, support):
        for base, extra in ((RU, part.RU), (EN, part.EN)):
            clash = base.keys() & extra.keys()
            if clash:
                raise RuntimeError(f"texts defined twice: {sorted(clash)}")
            base.update(extra)


_merge_parts()

CATALOGS = {"ru": RU, "en": EN}


def t(lang: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``lang`` (falling back to Russian), filled with ``params``."""
    template = CATALOGS.get(lang, RU).get(key) or RU[key]
    return template.format(**params) if params else template


def error_text(lang: str, code: str, params: dict[str, object]) -> str:
    """A ShopError's code as a polite sentence; unknown codes get the generic one."""
    key = f"error.{code}"
    if key not in RU:
        return t(lang, "error.generic")
    try:
        return t(lang, key, **params)
    except (KeyError, IndexError):
        return t(lang, "error.generic")
