"""Texts of the owner's catalog and shop administration: Russian first, English second."""

from __future__ import annotations

RU: dict[str, str] = {
    "btn.admin": "⚙️ Управление",
    "btn.admin_export": "📤 Выгрузить каталог (CSV)",
    "btn.admin_import": "📥 Загрузить каталог (CSV)",
    "btn.admin_confirm": "✅ Применить",
    "admin.menu_owner": "Управление магазином.\n\nБыстрые команды:\n"
    "/find текст — найти товары: артикул, цена, остаток\n"
    "/price АРТИКУЛ 1990 — новая цена (можно 1990,50)\n"
    "/stock АРТИКУЛ +5 — добавить на склад, =10 — задать остаток\n"
    "/hide АРТИКУЛ, /show АРТИКУЛ — скрыть или показать\n"
    "/export — весь каталог файлом CSV\n\n"
    "Фото с подписью-артикулом добавится к товару. "
    "Файл CSV (как из /export) обновит каталог после проверки и подтверждения.",
    "admin.menu_staff": "Команды сотрудника:\n"
    "/find текст — найти товары: артикул, цена, остаток\n"
    "/stock АРТИКУЛ +5 — добавить на склад, =10 — задать остаток",
    "admin.price_usage": "Как менять цену: /price АРТИКУЛ ЦЕНА, например /price TS-M 1990 "
    "или /price TS-M 1990,50. Цена — в рублях, больше нуля.",
    "admin.stock_usage": "Как менять остаток: /stock АРТИКУЛ +5 (приход), /stock АРТИКУЛ -2 "
    "(списание) или /stock АРТИКУЛ =10 (задать остаток).",
    "admin.hide_usage": "Как скрыть товар: /hide АРТИКУЛ, например /hide TS-M.",
    "admin.show_usage": "Как вернуть товар в продажу: /show АРТИКУЛ, например /show TS-M.",
    "admin.find_usage": "Как искать: /find текст, например /find футболка или /find TS-.",
    "admin.price_set": "Цена {sku}: было {before}, стало {after}. Покупатели уже видят новую "
    "цену; оформленные заказы остаются по старой.",
    "admin.stock_moved": "Остаток {sku}: было {before}, стало {after} шт.",
    "admin.stock_set": "Остаток {sku}: теперь {after} шт.",
    "admin.hidden": "{sku} скрыт: покупатели его больше не видят.",
    "admin.shown": "{sku} снова в продаже.",
    "admin.unchanged": "{sku}: ничего не изменилось, он уже такой.",
    "admin.find_title": "Найдено по «{query}»:",
    "admin.find_line": "• {sku} — {title}: {price}, остаток {stock}",
    "admin.find_hidden": " (скрыт)",
    "admin.find_more": "…и ещё. Уточните запрос.",
    "admin.find_none": "По «{query}» ничего не нашлось.",
    "error.admin_no_sku": "Артикула «{sku}» нет в каталоге. Найдите нужный: /find текст.",
    "error.admin_stock_negative": "Остаток {sku} не может стать меньше нуля: сейчас {stock} шт.",
}

EN: dict[str, str] = {
    "btn.admin": "⚙️ Admin",
    "btn.admin_export": "📤 Export the catalog (CSV)",
    "btn.admin_import": "📥 Import the catalog (CSV)",
    "btn.admin_confirm": "✅ Apply",
    "admin.menu_owner": "Shop administration.\n\nQuick commands:\n"
    "/find text — find products: SKU, price, stock\n"
    "/price SKU 1990 — a new price (1990.50 works too)\n"
    "/stock SKU +5 — add stock, =10 — set it\n"
    "/hide SKU, /show SKU — hide or show\n"
    "/export — the whole catalog as a CSV file\n\n"
    "A photo captioned with a SKU is added to that product. "
    "A CSV file (as /export makes) updates the catalog after a check and your confirmation.",
    "admin.menu_staff": "Staff commands:\n"
    "/find text — find products: SKU, price, stock\n"
    "/stock SKU +5 — add stock, =10 — set it",
    "admin.price_usage": "To change a price: /price SKU PRICE, e.g. /price TS-M 1990 "
    "or /price TS-M 1990.50. The price is in roubles, above zero.",
    "admin.stock_usage": "To change stock: /stock SKU +5 (received), /stock SKU -2 "
    "(written off) or /stock SKU =10 (set it).",
    "admin.hide_usage": "To hide a product: /hide SKU, e.g. /hide TS-M.",
    "admin.show_usage": "To put it back on sale: /show SKU, e.g. /show TS-M.",
    "admin.find_usage": "To search: /find text, e.g. /find t-shirt or /find TS-.",
    "admin.price_set": "Price of {sku}: was {before}, now {after}. Shoppers see it at once; "
    "orders already placed keep the old price.",
    "admin.stock_moved": "Stock of {sku}: was {before}, now {after} pcs.",
    "admin.stock_set": "Stock of {sku}: now {after} pcs.",
    "admin.hidden": "{sku} is hidden: shoppers no longer see it.",
    "admin.shown": "{sku} is on sale again.",
    "admin.unchanged": "{sku}: nothing changed, it already was so.",
    "admin.find_title": "Found for “{query}”:",
    "admin.find_line": "• {sku} — {title}: {price}, stock {stock}",
    "admin.find_hidden": " (hidden)",
    "admin.find_more": "…and more. Narrow the search.",
    "admin.find_none": "Nothing found for “{query}”.",
    "error.admin_no_sku": "There is no SKU “{sku}” in the catalog. Find it with /find text.",
    "error.admin_stock_negative": "Stock of {sku} cannot go below zero: it is {stock} now.",
}
