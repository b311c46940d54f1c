"""Log lines name the update, customer and order they concern (JSON and text)."""

from __future__ import annotations

import io
import json
import logging

from bot import logs


def capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactingFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.log_context.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream


def test_an_order_bound_while_handling_is_named_on_each_line():
    logger, stream = capture(logs.JsonFormatter())
    with logs.handling("telegram:77", "telegram:5", "telegram"):
        logger.info("before the order is known")
        logs.bind(order=12)
        logger.info("payment recorded")
    logger.info("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("order") for line in lines] == [None, 12, None]
    assert [line.get("update_id") for line in lines] == ["telegram:77", "telegram:77", None]


def test_an_outbox_send_names_its_customer_and_order_in_text_lines():
    logger, stream = capture(logs.TextFormatter())
    with logs.naming(customer=3, order=9, update_id=None):
        logger.warning("send failed")
    assert stream.getvalue().rstrip().endswith("send failed [customer=3 order=9]")
