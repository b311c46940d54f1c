"""Texts of compensation promo codes: the message with the code, the cart and checkout lines,
/promo and its refusals (RU, then EN)."""

from __future__ import annotations

RU: dict[str, str] = {
    "notify.promo_code": "Просим прощения за неудобства! В качестве извинения дарим вам "
    "промокод {code}: скидка {value} на следующий заказ, действует до {until}.\n"
    "Вводить его не нужно: скидка применится сама при оформлении заказа.",
    "promo.percent": "{percent}%",
    "promo.line": "🎁 Промокод {code}: −{discount}",
    "promo.cart_total": "Итого со скидкой: {total}",
    "order.discount": "🎁 Скидка по промокоду: −{discount}",
    "promo.yours": "Промокод {code} ваш: скидка {value}, действует до {until}.\n"
    "Он применится сам при оформлении следующего заказа.",
    "promo.none": "Действующих промокодов у вас нет. Если вам выдали код, напишите "
    "/promo КОД — я проверю его.",
    "error.promo_unknown": "Такого промокода нет. Проверьте, как он написан, например "
    "/promo SORRY-7K3QX.",
    "error.promo_not_yours": "Этот промокод выдан другому покупателю, и воспользоваться им "
    "может только он. Если что-то пошло не так, напишите в поддержку.",
    "error.promo_used": "Этот промокод уже использован. Если вы оформляли заказ, "
    "подтвердите его ещё раз.",
    "error.promo_expired": "Срок действия этого промокода истёк.",
    "error.promo_bad_value": "Скидка — это процент от 1 до 99 или сумма больше нуля.",
    "error.promo_bad_expiry": "Срок действия промокода — от сегодняшнего дня до года вперёд.",
}

EN: dict[str, str] = {
    "notify.promo_code": "We are sorry for the trouble! As an apology, here is the promo code "
    "{code}: {value} off your next order, valid until {until}.\n"
    "No need to type it: the discount applies by itself at checkout.",
    "promo.percent": "{percent}%",
    "promo.line": "🎁 Promo code {code}: −{discount}",
    "promo.cart_total": "Total with the discount: {total}",
    "order.discount": "🎁 Promo code discount: −{discount}",
    "promo.yours": "The promo code {code} is yours: {value} off, valid until {until}.\n"
    "It applies by itself at your next checkout.",
    "promo.none": "You have no valid promo codes. If you were given one, type /promo CODE "
    "and I will check it.",
    "error.promo_unknown": "There is no such promo code. Check how it is spelt, e.g. "
    "/promo SORRY-7K3QX.",
    "error.promo_not_yours": "This promo code was given to another customer and only they can "
    "use it. If something went wrong, please write to support.",
    "error.promo_used": "This promo code has been used already. If you were placing an order, "
    "please confirm it again.",
    "error.promo_expired": "This promo code has expired.",
    "error.promo_bad_value": "A discount is a percentage from 1 to 99 or an amount above zero.",
    "error.promo_bad_expiry": "A promo code is valid from today to at most a year ahead.",
}
