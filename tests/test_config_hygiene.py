"""Configuration for issue 10: VK Callback mode needs its secret; the hoarding limits."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

NAMES = (
    "VK_GROUP_TOKEN",
    "VK_GROUP_ID",
    "PUBLIC_BASE_URL",
    "VK_CALLBACK_SECRET",
    "VK_CALLBACK_CONFIRMATION",
    "MAX_UNPAID_ORDERS",
    "MAX_UNITS_PER_SKU",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def _vk_callback_mode(monkeypatch) -> None:
    monkeypatch.setenv("VK_GROUP_TOKEN", "token")
    monkeypatch.setenv("VK_GROUP_ID", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example")
    monkeypatch.setenv("VK_CALLBACK_CONFIRMATION", "abc123")


@pytest.mark.parametrize("secret", [None, "", "  "])
def test_vk_callback_mode_refuses_to_start_without_the_secret(monkeypatch, secret):
    _vk_callback_mode(monkeypatch)
    if secret is not None:
        monkeypatch.setenv("VK_CALLBACK_SECRET", secret)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith("VK_CALLBACK_SECRET: needed with PUBLIC_BASE_URL")
    assert "\n" not in str(error.value)


def test_vk_callback_mode_starts_with_the_secret_and_long_poll_needs_none(monkeypatch):
    _vk_callback_mode(monkeypatch)
    monkeypatch.setenv("VK_CALLBACK_SECRET", "s3cret")
    assert load_settings().vk_callback_secret == "s3cret"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    monkeypatch.delenv("VK_CALLBACK_SECRET")
    assert load_settings().vk_enabled


def test_hoarding_limits_have_defaults_and_can_be_set(monkeypatch):
    settings = load_settings()
    assert (settings.max_unpaid_orders, settings.max_units_per_sku) == (3, 10)
    monkeypatch.setenv("MAX_UNPAID_ORDERS", "5")
    monkeypatch.setenv("MAX_UNITS_PER_SKU", "2")
    settings = load_settings()
    assert (settings.max_unpaid_orders, settings.max_units_per_sku) == (5, 2)


@pytest.mark.parametrize(
    ("name", "value"), [("MAX_UNPAID_ORDERS", "0"), ("MAX_UNITS_PER_SKU", "x")]
)
def test_a_bad_limit_is_one_line_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(f"{name}:")
    assert "\n" not in str(error.value)
