"""parse_mode handling: HTML, MarkdownV2 and legacy Markdown to text + entities.

The parsers follow Telegram's (TDLib's) rules closely enough that markup
the real service refuses is refused here too, with the same
"can't parse entities: ..." wording, and the text a person sees is the text
after parsing. Offsets and lengths are in UTF-16 code units, as in the API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request

_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


@dataclass
class _Builder:
    """Accumulates the visible text and its entities while a parser walks the source."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def entity(self, start: int, kind: str, **extra: Any) -> None:
        if self.length > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.length - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, dict[str, str], int]] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "&":
            m = _HTML_ENTITY.match(src, i)
            out.add(html.unescape(m.group(0)) if m else "&")
            i = m.end() if m else i + 1
            continue
        if c != "<":
            j = i
            while j < n and src[j] not in "<&":
                j += 1
            out.add(src[i:j])
            i = j
            continue
        begin = i
        i += 1
        if i < n and src[i] == "/":
            i += 1
            if not stack:
                raise _error(f"Unexpected end tag at byte offset {_byte_offset(src, begin)}")
            j = i
            while i < n and not src[i].isspace() and src[i] != ">":
                i += 1
            name = src[j:i].lower()
            while i < n and src[i].isspace():
                i += 1
            if i >= n or src[i] != ">":
                raise _error(f"Unclosed end tag at byte offset {_byte_offset(src, begin)}")
            tag, attrs, start = stack[-1]
            if name and name != tag:
                raise _error(
                    f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            i += 1
            stack.pop()
            _close_html(out, tag, attrs, start, stack)
            continue
        j = i
        while i < n and not src[i].isspace() and src[i] != ">":
            i += 1
        if i >= n:
            raise _error(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        name = src[j:i].lower()
        if name not in _HTML_TYPES:
            raise _error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, begin)}'
            )
        attrs, i = _html_attributes(src, i, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, begin)}'
            )
        stack.append((name, attrs, out.length))
    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _html_attributes(src: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(src)
    unclosed = _error(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
    while True:
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if src[i] == ">":
            return attrs, i + 1
        j = i
        while i < n and (src[i].isalnum() or src[i] in "-_"):
            i += 1
        name = src[j:i].lower()
        if not name:
            raise _error(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(src, begin)}'
            )
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if src[i] != "=":
            attrs[name] = ""
            continue
        i += 1
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if src[i] in "\"'":
            end = src.find(src[i], i + 1)
            if end < 0:
                raise unclosed
            attrs[name] = html.unescape(src[i + 1 : end])
            i = end + 1
        else:
            j = i
            while i < n and not src[i].isspace() and src[i] != ">":
                i += 1
            attrs[name] = html.unescape(src[j:i])


def _close_html(
    out: _Builder, tag: str, attrs: dict[str, str], start: int, stack: list[Any]
) -> None:
    kind = _HTML_TYPES[tag]
    if tag == "a":
        url = attrs.get("href", "")
        user_id = url.removeprefix("tg://user?id=")
        if user_id != url and user_id.isdigit():
            user = {"id": int(user_id), "is_bot": False, "first_name": ""}
            out.entity(start, "text_mention", user=user)
        elif url:
            out.entity(start, "text_link", url=url)
        return
    if tag == "tg-emoji":
        out.entity(start, kind, custom_emoji_id=attrs.get("emoji-id", ""))
        return
    if tag == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    if tag == "code" and stack and stack[-1][0] == "pre" and "class" in attrs:
        stack[-1][1]["language"] = attrs["class"].removeprefix("language-")
        return
    if tag == "pre" and attrs.get("language"):
        out.entity(start, "pre", language=attrs["language"])
        return
    if tag == "tg-time":
        unix = attrs.get("unix", "")
        out.entity(start, kind, unix_time=int(unix) if unix.isdigit() else 0)
        return
    out.entity(start, kind)


_MD2_NAMES = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "`": ("code", "Code"),
    "```": ("pre", "Pre"),
    "[": ("text_link", "TextUrl"),
}


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (marker, visible start, source index)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        in_code = bool(stack) and stack[-1][0] in ("`", "```")
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) < 127:
            out.add(src[i + 1])
            i += 2
            continue
        if in_code and c != "`":
            out.add(c)
            i += 1
            continue
        if c not in _MD2_RESERVED:
            out.add(c)
            i += 1
            continue
        marker = c
        if src.startswith("```", i):
            marker = "```"
        elif src.startswith("__", i):
            marker = "__"
        elif src.startswith("||", i):
            marker = "||"
        if stack and stack[-1][0] == "[" and c == "]":
            _, start, _ = stack.pop()
            if not src.startswith("(", i + 1):
                raise _error(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(src, i)}"
                )
            end = src.find(")", i + 2)
            if end < 0:
                raise _error(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(src, i)}"
                )
            out.entity(start, "text_link", url=src[i + 2 : end].replace("\\)", ")"))
            i = end + 1
            continue
        if stack and stack[-1][0] == marker:
            _, start, _ = stack.pop()
            out.entity(start, _MD2_NAMES[marker][0])
            i += len(marker)
            continue
        if in_code:
            out.add(c)
            i += 1
            continue
        if marker in _MD2_NAMES:
            stack.append((marker, out.length, i))
            i += len(marker)
            if marker == "```":
                newline = src.find("\n", i)
                if newline >= 0 and not src[i:newline].strip(" ").count(" "):
                    i = newline + 1
            continue
        if c == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1
            continue
        raise _error(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
    if stack:
        marker, _, index = stack[-1]
        name = _MD2_NAMES[marker][1]
        raise _error(f"Can't find end of {name} entity at byte offset {_byte_offset(src, index)}")
    return out.result()


_MD_LEGACY = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}


def parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        marker = "```" if src.startswith("```", i) else c
        if marker in _MD_LEGACY:
            end = src.find(marker, i + len(marker))
            if end < 0:
                raise _error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
                )
            start = out.length
            out.add(src[i + len(marker) : end])
            out.entity(start, _MD_LEGACY[marker])
            i = end + len(marker)
            continue
        if c == "[":
            m = re.match(r"\[([^\]]*)\]\(([^)]*)\)", src[i:])
            if m:
                start = out.length
                out.add(m.group(1))
                out.entity(start, "text_link", url=m.group(2))
                i += m.end()
                continue
        out.add(c)
        i += 1
    return out.result()


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from a message; entities follow the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def parse_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and its entities, as Telegram would store them."""
    mode = (parse_mode or "").lower()
    if entities is not None:
        parsed = (text, list(entities))
    elif mode == "html":
        parsed = parse_html(text)
    elif mode == "markdownv2":
        parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        parsed = parse_markdown(text)
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        parsed = (text, [])
    return _strip(*parsed)
