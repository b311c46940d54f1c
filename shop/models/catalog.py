"""Catalog: a category tree, products, their variants (SKUs) and photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import Base
from shop.models.types import JSONType, UTCDateTime, utcnow


def variant_label(size: str | None, colour: str | None) -> str:
    """What tells a variant apart from its siblings, e.g. "M, чёрный"."""
    return ", ".join(part for part in (size, colour) if part)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100), default="", server_default="")
    """The English title; empty means English-speaking shoppers see the Russian one."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Category | None] = relationship(remote_side=[id])
    products: Mapped[list[Product]] = relationship(back_populates="category")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    """English texts; empty means English-speaking shoppers see the Russian ones."""
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(back_populates="products")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.position, Variant.id"
    )
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", order_by="ProductPhoto.position, ProductPhoto.id"
    )


class Variant(Base):
    """One sellable SKU: its own price (kopecks) and stock. A product has at least one."""

    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[str | None] = mapped_column(String(32))
    colour: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def label(self) -> str:
        return variant_label(self.size, self.colour)


class ProductPhoto(Base):
    """A photo kept in the database so every worker can serve it (platform ids: MediaCache)."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(64), default="image/png")
    data: Mapped[bytes] = mapped_column(LargeBinary)

    product: Mapped[Product] = relationship(back_populates="photos")


class MediaCache(Base):
    """What a channel calls a photo it already has (a file id, an attachment string), so it
    is uploaded once; owned by the front-ends, one row per channel and photo."""

    __tablename__ = "media_cache"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    photo_id: Mapped[int] = mapped_column(
        ForeignKey("product_photos.id", ondelete="CASCADE"), primary_key=True
    )
    remote_id: Mapped[str] = mapped_column(String(255))


class CatalogUpload(Base):
    """A checked CSV import waiting for the owner's "Apply": its parsed rows, kept in the
    database (any worker may take the confirmation), deleted once applied or dropped."""

    __tablename__ = "catalog_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[list[Any]] = mapped_column(JSONType)
