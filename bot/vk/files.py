"""Files on VK: downloading what a person attached (by the URL VK serves it at), and
uploading a document the bot sends (docs.getMessagesUploadServer, POST, docs.save)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import vk_api

from handlers.events import Attachment
from handlers.screens import Document

FETCH_TIMEOUT = 60
FETCH_LIMIT = 20 * 1024 * 1024
"""Bytes read at most: the handlers refuse far smaller files; this only stops a runaway."""


def _download(vk: vk_api.VkApi, url: str) -> bytes:
    """Blocking: GET the file through vk_api's HTTP session."""
    with vk.http.get(url, timeout=FETCH_TIMEOUT, stream=True) as response:
        response.raise_for_status()
        data = response.raw.read(FETCH_LIMIT + 1, decode_content=True)
    return bytes(data[: FETCH_LIMIT + 1])


async def fetch(vk: vk_api.VkApi, attachment: Attachment) -> bytes:
    """The bytes of a photo or document a person sent (``ref`` is its URL)."""
    return await asyncio.to_thread(_download, vk, attachment.ref)


def _upload(vk: vk_api.VkApi, document: Document, peer_id: int) -> str:
    """Blocking: upload ``document`` for ``peer_id``; its attachment string."""
    file = io.BytesIO(document.data)
    file.name = document.name
    saved: dict[str, Any] = vk_api.VkUpload(vk).document_message(
        file, title=document.name, peer_id=peer_id
    )
    doc = saved["doc"]
    text = f"doc{doc['owner_id']}_{doc['id']}"
    return f"{text}_{doc['access_key']}" if doc.get("access_key") else text


async def document_attachment(vk: vk_api.VkApi, document: Document, peer_id: int) -> str:
    return await asyncio.to_thread(_upload, vk, document, peer_id)
