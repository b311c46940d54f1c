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
    "/edit АРТИКУЛ поле значение — изменить название, описание, English, размер, цвет, раздел\n"
    "/delete АРТИКУЛ — удалить товар (в открытых заказах — скрыть)\n"
    "/cats — разделы каталога, /delivery — доставка\n"
    "/export — весь каталог файлом CSV\n"
    "/staff — сотрудники, /shop — настройки магазина\n\n"
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
    "admin.delete_usage": "Как удалить товар: /delete АРТИКУЛ — удалит товар этого артикула "
    "со всеми вариантами и фото.",
    "admin.deleted": "Товар артикула {sku} удалён со всеми вариантами.",
    "admin.deleted_hidden": "Товар артикула {sku} есть в открытых заказах, поэтому он скрыт, "
    "а не удалён. Удалите его, когда заказы закроются.",
    "admin.edit_usage": "Как изменить товар: /edit АРТИКУЛ ПОЛЕ ЗНАЧЕНИЕ. Поля: title, "
    "title_en, description, description_en (у всего товара), size, colour (у артикула), "
    "category (номер раздела из /cats). «-» очищает необязательное поле.",
    "admin.edited": "Готово: {field} у {sku} изменено. Покупатели уже видят.",
    "error.admin_bad_text": "Значение должно быть не длиннее {limit} символов (название — "
    "не пустым).",
    "error.admin_bad_field": "Такого поля нет. Поля: title, title_en, description, "
    "description_en, size, colour, category.",
    "admin.photo_added": "Фото добавлено к товару {sku}. Теперь у него фото: {count}.",
    "error.admin_bad_photo": "Это не похоже на фото (нужен JPEG, PNG, GIF или WebP до 10 МБ).",
    "error.admin_too_many_photos": "У товара уже {limit} фото — больше не добавить.",
    "error.admin_no_sku": "Артикула «{sku}» нет в каталоге. Найдите нужный: /find текст.",
    "error.admin_stock_negative": "Остаток {sku} не может стать меньше нуля: сейчас {stock} шт.",
    "csv.export": "Весь каталог — в файле. Измените его в таблице и пришлите обратно: "
    "я покажу, что изменится, и применю после подтверждения.",
    "csv.how": "Пришлите файл .csv (до 5 МБ) в том же формате, что и выгрузка: UTF-8 или "
    "Windows-1251, разделитель «;» или «,». Колонки: sku, category (раздел / подраздел), title, "
    "title_en, description, description_en, size, colour, price (рубли), stock, hidden, "
    "product_hidden. Обязательны sku, category, title, price, stock.",
    "csv.bad": "Файл не загружен, ничего не изменилось. Ошибок: {count}.",
    "csv.bad_more": "…и ещё {count} — все ошибки в файле.",
    "csv.line": "Строка {line}: {reason}",
    "csv.bad.control_chars": "недопустимые символы в колонке {detail}",
    "csv.bad.bad_sku": "артикул «{detail}» пустой или с недопустимыми символами",
    "csv.bad.bad_category": "раздел «{detail}» пустой или слишком длинный",
    "csv.bad.no_title": "нет названия",
    "csv.bad.too_long": "слишком длинное значение в колонке {detail}",
    "csv.bad.bad_price": "цена «{detail}» — не число рублей больше нуля",
    "csv.bad.bad_stock": "остаток «{detail}» — не целое число от 0",
    "csv.bad.bad_flag": "hidden и product_hidden — 1 или 0 (да/нет), а не «{detail}»",
    "csv.bad.cell_count": "не то число колонок ({detail})",
    "csv.bad.duplicate_sku": "артикул повторяется (артикул:строка {detail})",
    "csv.bad.broken_quotes": "сломаны кавычки",
    "csv.bad.encoding": "не удалось прочитать кодировку (нужна UTF-8 или Windows-1251)",
    "csv.bad.empty": "файл пустой",
    "csv.bad.unknown_columns": "неизвестные или повторённые колонки: {detail}",
    "csv.bad.missing_columns": "нет обязательных колонок: {detail}",
    "csv.bad.product_differs": "у товара другие название, раздел или описание, чем в строке "
    "{detail}",
    "csv.nothing": "Файл в порядке, но ничего не меняет ({unchanged} без изменений).",
    "csv.preview": "Файл проверен. Новых: {new}, изменится: {changed}, без изменений: {unchanged}.",
    "csv.new_categories": "Новые разделы: {names}",
    "csv.example_new": "➕ {sku} — {title}, {price}",
    "csv.example_changed": "✏️ {sku}: {fields}",
    "csv.confirm": "Применить?",
    "csv.applied": "Готово: добавлено {new}, изменено {changed}. Покупатели уже видят каталог.",
    "csv.dropped": "Загрузка отменена, ничего не изменилось.",
    "error.csv_too_big": "Файл больше {limit} МБ — такой я не приму. Разбейте его на части.",
    "admin.staff_title": "Сотрудники и владельцы (добавленные в чате):",
    "admin.staff_none": "— пока никого",
    "admin.staff_line": "• {account} — {role} {name}",
    "admin.staff_configured": "Из настроек сервера (OWNERS, STAFF): {accounts}",
    "admin.staff_usage": "Команды: /staff add telegram:ID [owner] [имя] — добавить, "
    "/staff remove vk:ID — убрать. ID — номер аккаунта в мессенджере.",
    "admin.staff_added": "{account} теперь {role}.",
    "admin.staff_same": "{account} уже {role}.",
    "admin.staff_removed": "{account} больше не сотрудник.",
    "admin.staff_absent": "{account} нет в списке сотрудников (OWNERS и STAFF меняются в "
    "настройках сервера).",
    "admin.settings_title": "Настройки магазина:",
    "admin.settings_usage": "Изменить: /set name Название, /set greeting Приветствие, "
    "/set hours Пн–Пт 10–19, /set reservation 30 (минут резерва неоплаченного заказа).",
    "admin.setting_set": "Готово: {name} = {value}. Действует с этой минуты.",
    "error.settings_bad_text": "Текст должен быть от 1 до {limit} символов.",
    "error.settings_bad_number": "Нужно целое число от {low} до {high}.",
    "error.settings_unknown": "Такой настройки нет. Список: /shop.",
    "menu.support_hours": "Поддержка: {hours}",
    "admin.cats_title": "Разделы (номер. название / English):",
    "admin.cat_facts": " — товаров: {products}, порядок {position}",
    "admin.cat_usage": "Команды: /cat add Название | English — новый раздел (/cat add НОМЕР "
    "Название — внутри раздела), /cat rename НОМЕР Название | English, /cat move НОМЕР "
    "НОВЫЙ_РОДИТЕЛЬ (или top), /cat hide НОМЕР, /cat show НОМЕР, /cat order НОМЕР 3.",
    "admin.cat_done": "Готово: раздел {id} обновлён. Список: /cats",
    "error.category_bad_title": "Название раздела — от 1 до {limit} символов и без «/».",
    "error.category_unknown": "Раздела с номером {id} нет. Список: /cats",
    "error.category_cycle": "Раздел нельзя переместить внутрь него самого.",
    "admin.delivery_title": "Способы доставки:",
    "admin.delivery_line": "• {code}: {title} — {price}",
    "admin.delivery_address": ", нужен адрес",
    "admin.delivery_cash": ", можно наличными",
    "admin.delivery_off": " (выключен)",
    "admin.delivery_usage": "Изменить или добавить: /delivery set КОД ЦЕНА [address] [cash] "
    "Название | English, например /delivery set courier 350 address Курьер | Courier. "
    "Выключить: /delivery off КОД, включить: /delivery on КОД.",
    "admin.delivery_saved": "Готово: способ доставки {code} сохранён. Список: /delivery",
    "error.delivery_bad_code": "Код доставки — латинские буквы, цифры, «-» и «_», до 32 знаков.",
    "error.delivery_bad_title": "Название доставки — от 1 до {limit} символов.",
    "error.delivery_unknown": "Способа доставки {method} нет. Список: /delivery",
    "btn.admin_new": "➕ Добавить товар",
    "admin.new_category": "Новый товар. В какой раздел?",
    "admin.new_title": "Название товара. Можно и английское через «|»: Кружка | Mug",
    "admin.new_description": "Описание (можно с английским через «|»), или «-» без описания.",
    "admin.new_variants": "Варианты — по строке на каждый: АРТИКУЛ; размер; цвет; цена; "
    "остаток. Например:\nMUG-W; 300 мл; белая; 590; 10\nMUG-B; 300 мл; чёрная; 640,50; 4\n"
    "Размер и цвет можно оставить пустыми.",
    "admin.new_text_expected": "Напишите ответ текстом или нажмите «Отмена».",
    "admin.new_taken": "Эти артикулы уже заняты: {skus}. Пришлите варианты с другими.",
    "admin.new_bad.count": "Нужно от 1 до 30 строк с вариантами.",
    "admin.new_bad.cells": "Строка {line}: нужно 5 значений через «;».",
    "admin.new_bad.sku": "Строка {line}: артикул — буквы, цифры, «-», «_», «.», «/», до 64.",
    "admin.new_bad.price": "Строка {line}: цена — число рублей больше нуля.",
    "admin.new_bad.stock": "Строка {line}: остаток — целое число от 0.",
    "admin.new_bad.long": "Строка {line}: размер и цвет — до 32 символов.",
    "admin.new_bad.repeated": "Строка {line}: артикул повторяется.",
    "admin.new_done": "Товар №{id} «{title}» добавлен, покупатели его уже видят. Фото: "
    "пришлите картинку с подписью-артикулом, например {sku}.",
    "admin.new_cancelled": "Добавление товара отменено.",
    "error.admin_sku_taken": "Эти артикулы уже заняты: {skus}.",
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
    "/edit SKU field value — change a title, description, English text, size, colour, category\n"
    "/delete SKU — delete the product (hidden while in open orders)\n"
    "/cats — catalog categories, /delivery — delivery\n"
    "/export — the whole catalog as a CSV file\n"
    "/staff — staff, /shop — shop settings\n\n"
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
    "admin.delete_usage": "To delete a product: /delete SKU — deletes that SKU's product with "
    "all its options and photos.",
    "admin.deleted": "The product of {sku} is deleted with all its options.",
    "admin.deleted_hidden": "The product of {sku} is in open orders, so it is hidden, not "
    "deleted. Delete it once those orders are closed.",
    "admin.edit_usage": "To edit a product: /edit SKU FIELD VALUE. Fields: title, title_en, "
    "description, description_en (the whole product), size, colour (the SKU), category "
    "(a number from /cats). '-' clears an optional field.",
    "admin.edited": "Done: {field} of {sku} changed. Shoppers see it already.",
    "error.admin_bad_text": "The value must be at most {limit} characters (a title not empty).",
    "error.admin_bad_field": "There is no such field. Fields: title, title_en, description, "
    "description_en, size, colour, category.",
    "admin.photo_added": "Photo added to the product of {sku}. It has {count} photo(s) now.",
    "error.admin_bad_photo": "This does not look like a photo (JPEG, PNG, GIF or WebP up to "
    "10 MB).",
    "error.admin_too_many_photos": "The product has {limit} photos already; no more fit.",
    "error.admin_no_sku": "There is no SKU “{sku}” in the catalog. Find it with /find text.",
    "error.admin_stock_negative": "Stock of {sku} cannot go below zero: it is {stock} now.",
    "csv.export": "The whole catalog is in the file. Edit it in a spreadsheet and send it "
    "back: I will show what changes and apply it once you confirm.",
    "csv.how": "Send a .csv file (up to 5 MB) in the export's format: UTF-8 or Windows-1251, "
    "separated by ';' or ','. Columns: sku, category (section / subsection), title, title_en, "
    "description, description_en, size, colour, price (roubles), stock, hidden, product_hidden. "
    "sku, category, title, price and stock are required.",
    "csv.bad": "The file was not loaded; nothing changed. Errors: {count}.",
    "csv.bad_more": "…and {count} more — every error is in the file.",
    "csv.line": "Line {line}: {reason}",
    "csv.bad.control_chars": "characters not allowed in column {detail}",
    "csv.bad.bad_sku": "SKU “{detail}” is empty or has characters not allowed",
    "csv.bad.bad_category": "category “{detail}” is empty or too long",
    "csv.bad.no_title": "no title",
    "csv.bad.too_long": "the value in column {detail} is too long",
    "csv.bad.bad_price": "price “{detail}” is not an amount of roubles above zero",
    "csv.bad.bad_stock": "stock “{detail}” is not a whole number from 0",
    "csv.bad.bad_flag": "hidden and product_hidden are 1 or 0 (yes/no), not “{detail}”",
    "csv.bad.cell_count": "wrong number of columns ({detail})",
    "csv.bad.duplicate_sku": "the SKU repeats (SKU:line {detail})",
    "csv.bad.broken_quotes": "broken quotes",
    "csv.bad.encoding": "cannot read the encoding (UTF-8 or Windows-1251 needed)",
    "csv.bad.empty": "the file is empty",
    "csv.bad.unknown_columns": "unknown or repeated columns: {detail}",
    "csv.bad.missing_columns": "required columns missing: {detail}",
    "csv.bad.product_differs": "the product's title, category or description differ from "
    "line {detail}",
    "csv.nothing": "The file is fine but changes nothing ({unchanged} unchanged).",
    "csv.preview": "File checked. New: {new}, to change: {changed}, unchanged: {unchanged}.",
    "csv.new_categories": "New categories: {names}",
    "csv.example_new": "➕ {sku} — {title}, {price}",
    "csv.example_changed": "✏️ {sku}: {fields}",
    "csv.confirm": "Apply?",
    "csv.applied": "Done: {new} added, {changed} changed. Shoppers see the catalog already.",
    "csv.dropped": "Upload cancelled; nothing changed.",
    "error.csv_too_big": "The file is over {limit} MB; I cannot take it. Split it in parts.",
    "admin.staff_title": "Staff and owners (added in the chat):",
    "admin.staff_none": "— nobody yet",
    "admin.staff_line": "• {account} — {role} {name}",
    "admin.staff_configured": "From the server settings (OWNERS, STAFF): {accounts}",
    "admin.staff_usage": "Commands: /staff add telegram:ID [owner] [name] — add, "
    "/staff remove vk:ID — remove. ID is the account's number in the messenger.",
    "admin.staff_added": "{account} is {role} now.",
    "admin.staff_same": "{account} already is {role}.",
    "admin.staff_removed": "{account} is no longer staff.",
    "admin.staff_absent": "{account} is not on the staff list (OWNERS and STAFF are changed "
    "in the server settings).",
    "admin.settings_title": "Shop settings:",
    "admin.settings_usage": "To change: /set name Name, /set greeting Greeting, "
    "/set hours Mon–Fri 10–19, /set reservation 30 (minutes an unpaid order holds stock).",
    "admin.setting_set": "Done: {name} = {value}. It counts from now on.",
    "error.settings_bad_text": "The text must be 1 to {limit} characters.",
    "error.settings_bad_number": "A whole number from {low} to {high} is needed.",
    "error.settings_unknown": "There is no such setting. The list: /shop.",
    "menu.support_hours": "Support: {hours}",
    "admin.cats_title": "Categories (number. title / English):",
    "admin.cat_facts": " — products: {products}, order {position}",
    "admin.cat_usage": "Commands: /cat add Title | English — a new category (/cat add NUMBER "
    "Title — inside one), /cat rename NUMBER Title | English, /cat move NUMBER NEW_PARENT "
    "(or top), /cat hide NUMBER, /cat show NUMBER, /cat order NUMBER 3.",
    "admin.cat_done": "Done: category {id} updated. The list: /cats",
    "error.category_bad_title": "A category title is 1 to {limit} characters, without '/'.",
    "error.category_unknown": "There is no category number {id}. The list: /cats",
    "error.category_cycle": "A category cannot move inside itself.",
    "admin.delivery_title": "Delivery methods:",
    "admin.delivery_line": "• {code}: {title} — {price}",
    "admin.delivery_address": ", needs an address",
    "admin.delivery_cash": ", cash allowed",
    "admin.delivery_off": " (off)",
    "admin.delivery_usage": "To change or add: /delivery set CODE PRICE [address] [cash] "
    "Title | English, e.g. /delivery set courier 350 address Курьер | Courier. "
    "Off: /delivery off CODE, on: /delivery on CODE.",
    "admin.delivery_saved": "Done: delivery method {code} saved. The list: /delivery",
    "error.delivery_bad_code": "A delivery code is Latin letters, digits, '-' and '_', up to 32.",
    "error.delivery_bad_title": "A delivery title is 1 to {limit} characters.",
    "error.delivery_unknown": "There is no delivery method {method}. The list: /delivery",
    "btn.admin_new": "➕ Add a product",
    "admin.new_category": "A new product. Which category?",
    "admin.new_title": "The product's title. An English one may follow a '|': Кружка | Mug",
    "admin.new_description": "The description (an English one after a '|'), or '-' for none.",
    "admin.new_variants": "Its options, one line each: SKU; size; colour; price; stock. "
    "E.g.:\nMUG-W; 300 ml; white; 590; 10\nMUG-B; 300 ml; black; 640.50; 4\n"
    "Size and colour may stay empty.",
    "admin.new_text_expected": "Type your answer or press Cancel.",
    "admin.new_taken": "These SKUs are taken: {skus}. Send the options with other ones.",
    "admin.new_bad.count": "1 to 30 lines of options are needed.",
    "admin.new_bad.cells": "Line {line}: 5 values separated by ';' are needed.",
    "admin.new_bad.sku": "Line {line}: a SKU is letters, digits, '-', '_', '.', '/', up to 64.",
    "admin.new_bad.price": "Line {line}: the price is an amount of roubles above zero.",
    "admin.new_bad.stock": "Line {line}: the stock is a whole number from 0.",
    "admin.new_bad.long": "Line {line}: size and colour are up to 32 characters.",
    "admin.new_bad.repeated": "Line {line}: the SKU repeats.",
    "admin.new_done": "Product {id} “{title}” is added; shoppers see it already. Photos: "
    "send an image captioned with a SKU, e.g. {sku}.",
    "admin.new_cancelled": "Adding the product is cancelled.",
    "error.admin_sku_taken": "These SKUs are taken: {skus}.",
}
