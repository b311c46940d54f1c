"""Errors a person can cause: a code the front-end translates, plus the facts it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ShopError(Exception):
    """A refused request. ``code`` names the reason; ``params`` fill the translated message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        details = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.code}({details})" if details else self.code


@dataclass(frozen=True)
class Shortage:
    """A cart line that cannot be reserved: what was asked and what is left."""

    variant_id: int
    title: str
    requested: int
    available: int


class OutOfStock(ShopError):
    """Some lines cannot be reserved; every short line is listed, not just the first."""

    def __init__(self, shortages: list[Shortage]) -> None:
        super().__init__("out_of_stock", shortages=shortages)
        self.shortages = shortages
