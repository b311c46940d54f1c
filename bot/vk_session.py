"""Point vk_api at a configurable API base URL (VK_API_URL).

vk_api has no base-URL option: it always posts to `https://api.vk.ru/method/{name}`.
A transport adapter mounted on that prefix rewrites those requests to the configured
URL, so the same unmodified client talks to the real VK or to a local emulator.
"""

from __future__ import annotations

from typing import Any

import requests
import vk_api
from jconfig import MemoryConfig
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

VK_API_URL = "https://api.vk.ru/method"
VK_API_VERSION = "5.199"
# VK allows a community token 20 requests a second; vk_api paces its calls itself.
VK_COMMUNITY_RPS_DELAY = 1 / 20

_VK_PREFIX = VK_API_URL + "/"


REQUEST_TIMEOUT = 30.0
"""Seconds a VK call may take when the caller names none: a hung connection becomes an
ordinary, retried network error instead of a thread blocked for ever."""


class _TimeoutAdapter(HTTPAdapter):
    def send(  # type: ignore[override]  # passes requests' keyword arguments on as they come
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = REQUEST_TIMEOUT
        return super().send(request, **kwargs)


class _RewriteAdapter(_TimeoutAdapter):
    """Sends `https://api.vk.ru/method/X` to `{api_url}/X` instead."""

    def __init__(self, api_url: str) -> None:
        super().__init__()
        self._target = api_url.rstrip("/") + "/"

    def send(  # type: ignore[override]  # passes requests' keyword arguments on as they come
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(_VK_PREFIX):
            request.url = self._target + url[len(_VK_PREFIX) :]
            # Proxies were chosen for api.vk.ru; choose them again for the new host.
            kwargs["proxies"] = get_environ_proxies(request.url)
        return super().send(request, **kwargs)


def make_vk_session(api_url: str = VK_API_URL) -> requests.Session:
    """A requests session for vk_api; with a non-default `api_url` its calls go there."""
    session = requests.Session()
    session.mount("https://", _TimeoutAdapter())
    session.mount("http://", _TimeoutAdapter())
    if api_url.rstrip("/") != VK_API_URL:
        session.mount(_VK_PREFIX, _RewriteAdapter(api_url))
    return session


def make_vk_api(
    token: str,
    group_id: int | None = None,
    api_url: str = VK_API_URL,
    *,
    rps_delay: float | None = None,
) -> vk_api.VkApi:
    """A vk_api client for a community token, API 5.199, talking to `api_url`.

    `rps_delay` is the pause vk_api keeps between calls. By default it is VK's
    community-token limit (20 a second) against the real API and none against another
    `api_url` (a local emulator has no such limit, and tests must not crawl).
    The group id is kept as `vk.group_id` for `VkBotLongPoll(vk, vk.group_id)`.
    """
    vk = vk_api.VkApi(
        token=token,
        api_version=VK_API_VERSION,
        session=make_vk_session(api_url),
        config=MemoryConfig,
    )
    if rps_delay is None:
        rps_delay = VK_COMMUNITY_RPS_DELAY if api_url.rstrip("/") == VK_API_URL else 0.0
    vk.RPS_DELAY = rps_delay
    vk.group_id = group_id
    return vk
