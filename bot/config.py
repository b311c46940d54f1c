"""Settings from the environment and .env, validated once at start-up.

A bad value stops the process with one line naming the setting (see `load_settings`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shop.accounts import AccountRef, parse_account, parse_accounts

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting has a value the service cannot use; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./shop.db"
    telegram_bot_token: str = ""
    telegram_api_server: str = "https://api.telegram.org"
    telegram_webhook_secret: str = ""
    telegram_payments_provider_token: str = ""
    telegram_send_rate: float = Field(default=25.0, ge=0)
    vk_group_token: str = ""
    vk_group_id: int | None = None
    vk_api_url: str = "https://api.vk.ru/method"
    vk_callback_secret: str = ""
    vk_callback_confirmation: str = ""
    yookassa_shop_id: str = ""
    yookassa_secret_key: str = ""
    yookassa_api_url: str = "https://api.yookassa.ru/v3"
    yookassa_vat_code: int = Field(default=1, ge=1, le=12)
    yookassa_check_ip: bool = False
    public_base_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    owners: Annotated[list[AccountRef], NoDecode] = []
    staff: Annotated[list[AccountRef], NoDecode] = []
    # NoDecode: pydantic-settings would read a bare id such as -100123 as JSON.
    moderator_chat: Annotated[AccountRef | None, NoDecode] = None
    redis_url: str = ""
    reservation_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    max_unpaid_orders: int = Field(default=3, ge=1, le=100)
    max_units_per_sku: int = Field(default=10, ge=1, le=10_000)
    demo_catalog: bool = True
    log_level: str = "INFO"
    log_format: str = "text"
    connect_wait_seconds: float = Field(default=30.0, ge=0, le=3600)

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if not value:
            return value  # derived from the bot token below
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("vk_group_id", mode="before")
    @classmethod
    def _empty_group_id(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("owners", "staff", mode="before")
    @classmethod
    def _accounts(cls, value: object) -> object:
        return parse_accounts(value) if isinstance(value, str) else value

    @field_validator("moderator_chat", mode="before")
    @classmethod
    def _moderator_chat(cls, value: object) -> object:
        """``telegram:-100123``, ``vk:2000000001`` or a bare id (a Telegram chat)."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            text = value.strip()
            if re.fullmatch(r"-?\d+", text):
                text = f"telegram:{text}"
            return parse_account(text) if text else None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper() or "INFO"
        if level not in LOG_LEVELS:
            raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        form = value.strip().lower() or "text"
        if form not in ("text", "json"):
            raise ValueError("use text or json")
        return form

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a SQLAlchemy URL: {value!r}") from exc
        if url.drivername not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value

    @field_validator(
        "telegram_api_server", "vk_api_url", "yookassa_api_url", "public_base_url", "redis_url"
    )
    @classmethod
    def _http_url(cls, value: str, info: object) -> str:
        value = value.strip().rstrip("/")
        name = getattr(info, "field_name", "")
        schemes = ("redis://", "rediss://") if name == "redis_url" else ("http://", "https://")
        if value and not value.startswith(schemes):
            raise ValueError(f"must start with {' or '.join(schemes)}")
        return value

    @model_validator(mode="after")
    def _derived_webhook_secret(self) -> Settings:
        """Without TELEGRAM_WEBHOOK_SECRET every worker derives the same one from the bot
        token (as secret as the token itself), so several workers check one secret."""
        if not self.telegram_webhook_secret:
            key = self.telegram_bot_token.encode() or secrets.token_bytes(32)
            digest = hmac.new(key, b"telegram webhook secret", hashlib.sha256).hexdigest()
            self.telegram_webhook_secret = digest
        return self

    @model_validator(mode="after")
    def _callback_mode(self) -> Settings:
        if not (self.vk_enabled and self.webhook_mode):
            return self
        if not self.vk_callback_secret.strip():
            raise ValueError(
                "VK_CALLBACK_SECRET: needed with PUBLIC_BASE_URL (without it anyone could post "
                "forged VK events); set the secret key in the community's Callback API settings "
                "and here"
            )
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def vk_enabled(self) -> bool:
        return bool(self.vk_group_token and self.vk_group_id)

    @property
    def yookassa_enabled(self) -> bool:
        return bool(self.yookassa_shop_id and self.yookassa_secret_key)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.public_base_url)

    def secret_values(self) -> list[str]:
        """Every configured value that must never reach a log line."""
        values = [
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.telegram_payments_provider_token,
            self.vk_group_token,
            self.vk_callback_secret,
            self.yookassa_secret_key,
        ]
        for url in (self.database_url, self.redis_url):
            with contextlib.suppress(ArgumentError):
                values.append(str(make_url(url).password or "") if url else "")
        return [value for value in values if value]


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise ConfigError with one line naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:  # a single setting; checks across settings name theirs themselves
            message = f"{str(error['loc'][0]).upper()}: {message}"
        raise ConfigError(message) from None
