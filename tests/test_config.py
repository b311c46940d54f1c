"""Configuration: defaults that start a demo shop, and one clear line for a bad value."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from shop.accounts import AccountRef, Channel


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in (
        "DATABASE_URL",
        "OWNERS",
        "STAFF",
        "MODERATOR_CHAT",
        "TELEGRAM_BOT_TOKEN",
        "LOG_LEVEL",
        "LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_nothing():
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite")
    assert not settings.telegram_enabled and not settings.vk_enabled
    assert len(settings.telegram_webhook_secret) >= 32


def test_accounts_are_parsed(monkeypatch):
    monkeypatch.setenv("OWNERS", "telegram:1, vk:2")
    monkeypatch.setenv("MODERATOR_CHAT", "telegram:-1001234567890")
    settings = load_settings()
    assert settings.owners == [AccountRef(Channel.TELEGRAM, 1), AccountRef(Channel.VK, 2)]
    assert settings.moderator_chat == AccountRef(Channel.TELEGRAM, -1001234567890)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("OWNERS", "telegram=1", "OWNERS: 'telegram=1' is not of the form telegram:ID or vk:ID"),
        ("STAFF", "max:5", "STAFF: 'max:5' is not of the form"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: not a SQLAlchemy URL"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: use sqlite+aiosqlite"),
        ("TELEGRAM_API_SERVER", "ftp://x", "TELEGRAM_API_SERVER: must start with http"),
        ("HTTP_PORT", "eighty", "HTTP_PORT:"),
        ("RESERVATION_MINUTES", "0", "RESERVATION_MINUTES:"),
        ("MODERATOR_CHAT", "moderators", "MODERATOR_CHAT: 'moderators' is not of the form"),
        ("MODERATOR_CHAT", "max:-100123", "MODERATOR_CHAT: 'max:-100123' is not of the form"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL: use one of DEBUG, INFO, WARNING, ERROR"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: use text or json"),
        ("CONNECT_WAIT_SECONDS", "-1", "CONNECT_WAIT_SECONDS:"),
    ],
)
def test_bad_value_is_one_line_naming_the_setting(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(says)
    assert "\n" not in str(error.value)


def test_settings_come_from_dotenv(tmp_path):
    (tmp_path / ".env").write_text("VK_GROUP_TOKEN=abc\nVK_GROUP_ID=77\n")
    settings = load_settings()
    assert settings.vk_enabled and settings.vk_group_id == 77


def test_empty_webhook_secret_gets_a_random_one(monkeypatch):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
    first, second = load_settings(), load_settings()
    assert len(first.telegram_webhook_secret) >= 32
    assert first.telegram_webhook_secret != second.telegram_webhook_secret


def test_webhook_secret_with_forbidden_characters_is_refused(monkeypatch):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "no spaces please")
    with pytest.raises(ConfigError, match=r"^TELEGRAM_WEBHOOK_SECRET: use 1-256 characters"):
        load_settings()


def test_vk_callback_mode_fetches_the_confirmation_string_itself(monkeypatch):
    monkeypatch.setenv("VK_GROUP_TOKEN", "token")
    monkeypatch.setenv("VK_GROUP_ID", "1")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example")
    monkeypatch.setenv("VK_CALLBACK_SECRET", "s3cret")
    monkeypatch.delenv("VK_CALLBACK_CONFIRMATION", raising=False)
    assert load_settings().vk_callback_confirmation == ""  # asked of VK at start


@pytest.mark.parametrize(
    ("value", "chat"),
    [
        ("telegram:-1001234567890", AccountRef(Channel.TELEGRAM, -1001234567890)),
        ("-1001234567890", AccountRef(Channel.TELEGRAM, -1001234567890)),
        (" -100123 ", AccountRef(Channel.TELEGRAM, -100123)),
        ("vk:2000000001", AccountRef(Channel.VK, 2000000001)),
        ("", None),
    ],
)
def test_moderator_chat_in_every_accepted_form(monkeypatch, value, chat):
    monkeypatch.setenv("MODERATOR_CHAT", value)
    assert load_settings().moderator_chat == chat


def test_log_settings_are_read_in_any_case(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = load_settings()
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_secret_values_list_every_credential(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://shop:hunter2@db/shop")
    values = load_settings().secret_values()
    assert "123:abc" in values and "hunter2" in values
