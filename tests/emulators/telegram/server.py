"""The HTTP face of the emulator: Bot API routes on aiohttp.

``POST|GET /bot{token}/{method}`` takes parameters the ways Telegram does
(query string, form-encoded, multipart with file parts, JSON body) and
``GET /file/bot{token}/{path}`` serves stored files.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from aiohttp import web

from . import faults
from .calls import call_method
from .spec import Upload
from .state import World

WORLD: web.AppKey[World] = web.AppKey("telegram_world", World)
MAX_REQUEST = 60 * 1024 * 1024


def build_app(world: World) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST)
    app[WORLD] = world
    app.router.add_route("*", "/bot{token}/{method}", _api)
    app.router.add_get("/file/bot{token}/{path:.+}", _file)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


def _json(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)


async def _not_found(request: web.Request) -> web.Response:
    return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


async def _api(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    bot = world.bots.get(request.match_info["token"])
    if bot is None or bot.token in world.revoked:
        return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
    params, uploads = await read_params(request)
    method = world.spec.method_name(request.match_info["method"])
    if method is not None:
        faulty = await faults.answer(request, world, bot, method, params)
        if faulty is not None:
            return faulty
    status, body = await call_method(world, bot, request.match_info["method"], params, uploads)
    return _json(body, status)


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters and file parts of a call, however the client encoded them."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return params, uploads
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params, uploads
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            uploads[key] = Upload(key, value.filename, data, value.content_type)
        else:
            params[key] = value
    return params, uploads


async def _file(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    bot = world.bots.get(request.match_info["token"])
    record = bot.files.by_path.get(request.match_info["path"]) if bot else None
    if record is None:
        return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
    content_type = record.mime_type or mimetypes.guess_type(record.file_path)[0]
    return web.Response(body=record.data, content_type=content_type or "application/octet-stream")
