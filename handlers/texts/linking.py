"""Texts of Settings and of linking a person's Telegram and VK accounts: Russian, English."""

from __future__ import annotations

RU: dict[str, str] = {
    "btn.settings": "⚙️ Настройки",
    "settings.title": "Настройки.\nЯзык: русский.\n{accounts}\n{notify}",
    "settings.accounts": "Мессенджеры: {channels}.",
    "settings.notify_last": "Уведомления приходят туда, где вы писали последним.",
    "settings.notify_chosen": "Уведомления приходят в {channel}.",
    "btn.link": "🔗 Связать с другим мессенджером",
    "btn.link_enter": "⌨️ У меня есть код",
    "btn.unlink": "✂️ Отвязать {channel}",
    "btn.notify_to": "🔔 Уведомления: {channel}",
    "btn.notify_last": "🔔 Уведомления: где писал последним",
    "btn.settings_back": "« Настройки",
    "channel.telegram": "Telegram",
    "channel.vk": "ВКонтакте",
    "channel.console": "веб-чат",
    "link.code": "Ваш код: {code}\n\nОткройте магазин в другом мессенджере и отправьте этот код "
    "(или /link {code}) в течение {minutes} минут. Тогда корзина, заказы и обращения станут "
    "общими. Никому не сообщайте код.",
    "link.enter": "Отправьте код из шести цифр, который показал магазин в другом мессенджере.",
    "link.done": "Готово: {channels} теперь связаны. Корзина, заказы и обращения общие.",
    "link.done_dropped": "В корзину поместилось не всё: {count} поз. не добавлено "
    "(не больше {limit} разных товаров).",
    "link.other_side": "Ваш аккаунт {channel} связан с этим. Корзина, заказы и обращения "
    "теперь общие.",
    "link.wrong": "Такого кода нет. Проверьте цифры или получите новый код командой /link "
    "в другом мессенджере.",
    "link.expired": "Срок действия кода истёк (он действует {minutes} минут). Получите новый "
    "командой /link в другом мессенджере.",
    "link.used": "Этот код уже использован. Получите новый командой /link в другом мессенджере.",
    "link.own": "Этот код выдан здесь же. Отправьте его в другом мессенджере.",
    "link.same_channel": "Связать можно только аккаунты разных мессенджеров, а у вас в обоих "
    "уже есть аккаунт {channel}. Сначала отвяжите его в настройках.",
    "link.too_many": "Слишком много неверных кодов. Попробуйте снова через {minutes} минут.",
    "unlink.confirm": "Отвязать {channel}? Он снова станет отдельным аккаунтом: заказы, "
    "оформленные в {channel}, останутся там, остальное — здесь.",
    "btn.unlink_yes": "✂️ Да, отвязать",
    "unlink.done": "Аккаунт {channel} отвязан. Заказы, оформленные в нём, остались при нём.",
    "unlink.other_side": "Аккаунт {channel} отвязан от этого. Заказы, оформленные в нём, "
    "теперь видны только там.",
    "unlink.alone": "Этот аккаунт ни с чем не связан.",
    "notify.chosen": "Готово: уведомления будут приходить в {channel}.",
    "notify.last": "Готово: уведомления будут приходить туда, где вы писали последним.",
}

EN: dict[str, str] = {
    "btn.settings": "⚙️ Settings",
    "settings.title": "Settings.\nLanguage: English.\n{accounts}\n{notify}",
    "settings.accounts": "Messengers: {channels}.",
    "settings.notify_last": "Notifications come where you wrote last.",
    "settings.notify_chosen": "Notifications come to {channel}.",
    "btn.link": "🔗 Link another messenger",
    "btn.link_enter": "⌨️ I have a code",
    "btn.unlink": "✂️ Unlink {channel}",
    "btn.notify_to": "🔔 Notify me in {channel}",
    "btn.notify_last": "🔔 Notify me where I wrote last",
    "btn.settings_back": "« Settings",
    "channel.telegram": "Telegram",
    "channel.vk": "VK",
    "channel.console": "web chat",
    "link.code": "Your code: {code}\n\nOpen the shop in your other messenger and send this code "
    "(or /link {code}) within {minutes} minutes. Your cart, orders and requests become "
    "shared. Do not tell the code to anyone.",
    "link.enter": "Send the six-digit code the shop showed you in your other messenger.",
    "link.done": "Done: {channels} are now linked. Your cart, orders and requests are shared.",
    "link.done_dropped": "Not everything fit in the cart: {count} line(s) were left out "
    "(at most {limit} different products).",
    "link.other_side": "Your {channel} account is linked to this one. Your cart, orders and "
    "requests are now shared.",
    "link.wrong": "There is no such code. Check the digits or get a new one with /link in your "
    "other messenger.",
    "link.expired": "The code has expired (it works for {minutes} minutes). Get a new one with "
    "/link in your other messenger.",
    "link.used": "This code was already used. Get a new one with /link in your other messenger.",
    "link.own": "This code was given here. Send it in your other messenger.",
    "link.same_channel": "Only accounts of different messengers can be linked, and both sides "
    "already have a {channel} account. Unlink it in Settings first.",
    "link.too_many": "Too many wrong codes. Try again in {minutes} minutes.",
    "unlink.confirm": "Unlink {channel}? It becomes a separate account again: orders placed in "
    "{channel} stay there, everything else stays here.",
    "btn.unlink_yes": "✂️ Yes, unlink",
    "unlink.done": "{channel} is unlinked. The orders placed there stayed with it.",
    "unlink.other_side": "Your {channel} account is unlinked from this one. Orders placed "
    "there are now seen only there.",
    "unlink.alone": "This account is not linked to anything.",
    "notify.chosen": "Done: notifications will come to {channel}.",
    "notify.last": "Done: notifications will come where you wrote last.",
}
