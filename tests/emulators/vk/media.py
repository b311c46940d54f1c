"""Uploads and attachments: what the bot uploads, and the strings that name them.

The upload flow is VK's: get an upload URL, POST the file there (multipart), pass
the answer to the save method, then attach `photo{owner}_{id}_{access_key}` (or
`doc...`) to a message. Only attachments issued here are accepted by messages.send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from tests.emulators.vk.errors import VkError, param_error
from tests.emulators.vk.state import Attachment

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
ATTACHMENT_TYPES = ("photo", "doc")


@dataclass
class _Upload:
    kind: str  # "photo" or "doc"
    group_id: int
    title: str = ""


@dataclass
class _File:
    group_id: int
    filename: str
    data: bytes


def is_image(data: bytes) -> bool:
    return data.startswith(IMAGE_MAGIC)


class Media:
    """Upload URLs, uploaded files, and the attachments made of them."""

    def __init__(self) -> None:
        self.base_url = ""
        self.attachments: dict[tuple[str, int, int], Attachment] = {}
        self.files: dict[str, Attachment] = {}  # served at /files/{key}/{name}
        self._uploads: dict[str, _Upload] = {}
        self._received: dict[str, _File] = {}  # upload answer token -> file
        self._secret = secrets.token_bytes(16)
        self._ids = 456239000
        self.server = 850000 + secrets.randbelow(1000)

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha1).hexdigest()[:32]

    def upload_url(self, kind: str, group_id: int) -> str:
        token = secrets.token_urlsafe(12)
        self._uploads[token] = _Upload(kind, group_id)
        return f"{self.base_url}/upload/{kind}/{token}"

    def receive(self, token: str, files: list[tuple[str, str, bytes]]) -> dict[str, Any]:
        """The upload server's answer to a multipart POST of (field, filename, data)."""
        upload = self._uploads.get(token)
        if upload is None:
            return {"error": "upload URL is unknown or used"}
        if upload.kind == "photo":
            picked = [f for f in files if f[0] == "photo" or f[0].startswith("file")]
            items = []
            for _, filename, data in picked:
                if not is_image(data):
                    continue
                key = secrets.token_hex(8)
                self._received[key] = _File(upload.group_id, filename, data)
                items.append({"photo": key, "sizes": [], "kid": key[:6]})
            photo = json.dumps(items, separators=(",", ":"))
            del self._uploads[token]
            return {"server": self.server, "photo": photo, "hash": self._sign(photo)}
        picked = [f for f in files if f[0] == "file"]
        if not picked or not picked[0][2]:
            return {"error": "no file"}
        del self._uploads[token]
        _, filename, data = picked[0]
        key = secrets.token_hex(8)
        self._received[key] = _File(upload.group_id, filename, data)
        file_token = f"{upload.group_id}|{key}|{self._sign(key)}"
        return {"file": file_token}

    def _issue(self, kind: str, owner_id: int, filename: str, data: bytes, date: int) -> Attachment:
        self._ids += 1
        key = secrets.token_hex(9)
        attachment = Attachment(
            type=kind,
            owner_id=owner_id,
            id=self._ids,
            access_key=secrets.token_hex(9),
            data=data,
            filename=filename,
            url=f"{self.base_url}/files/{key}/{filename.rsplit('/', 1)[-1] or 'file'}",
            date=date,
        )
        self.attachments[(kind, owner_id, attachment.id)] = attachment
        self.files[key] = attachment
        return attachment

    def save_photo(self, group_id: int, photo: str, server: str, hash_: str, date: int) -> list:
        """photos.saveMessagesPhoto: the photos of one upload answer."""
        if not hmac.compare_digest(self._sign(photo), hash_) or server != str(self.server):
            raise VkError(121)
        try:
            items = json.loads(photo)
        except ValueError as exc:
            raise VkError(129) from exc
        files = [self._received.pop(i.get("photo", ""), None) for i in items]
        if not files or any(f is None or f.group_id != group_id for f in files):
            raise VkError(129, "photo list is empty or already saved")
        saved = [self._issue("photo", -group_id, f.filename, f.data, date) for f in files if f]
        return [a.to_api()["photo"] for a in saved]

    def save_doc(self, group_id: int, file: str, title: str, date: int) -> dict[str, Any]:
        """docs.save: the document of one upload answer."""
        parts = file.split("|")
        if len(parts) != 3 or not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise param_error("file is invalid")
        received = self._received.pop(parts[1], None)
        if received is None or received.group_id != group_id:
            raise param_error("file is invalid or already saved")
        attachment = self._issue("doc", -group_id, received.filename, received.data, date)
        attachment.title = title or received.filename
        return attachment.to_api()

    def from_person(self, kind: str, owner_id: int, filename: str, data: bytes, date: int):
        """A photo or document a person attaches to their own message."""
        return self._issue(kind, owner_id, filename, data, date)

    def resolve(self, text: str, group_id: int) -> list[Attachment]:
        """The `attachment` parameter: each item must name an attachment issued here."""
        found = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            kind = next((k for k in ATTACHMENT_TYPES if item.startswith(k)), None)
            fields = item[len(kind) :].split("_") if kind else []
            try:
                owner_id, media_id = int(fields[0]), int(fields[1])
            except (ValueError, IndexError):
                raise param_error(f"attachment {item!r} is invalid") from None
            attachment = self.attachments.get((kind or "", owner_id, media_id))
            key = fields[2] if len(fields) > 2 else None
            if attachment is None or (key is not None and key != attachment.access_key):
                raise param_error(f"attachment {item!r} is not found")
            if key is None and owner_id != -group_id:
                raise param_error(f"attachment {item!r} needs its access_key")
            found.append(attachment)
        return found
