"""The VK API emulator: an aiohttp server on 127.0.0.1 the real vk_api client talks to.

Routes: `/method/{name}` (the API), `/bots-lp/{group_id}` (Bots Long Poll),
`/upload/{kind}/{token}` (upload servers), `/files/{key}/{name}` (uploaded files).
Every API call is checked against the spec and logged, so a test can assert both on
what a person sees and on what the bot asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import secrets
import traceback
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import BodyPartReader, web

from tests.emulators.vk import schema
from tests.emulators.vk.callback import CallbackPusher, PushAttempt
from tests.emulators.vk.community import CommunitySettings
from tests.emulators.vk.driver import Person
from tests.emulators.vk.errors import BAD_TOKEN, VkError
from tests.emulators.vk.longpoll import LongPoll
from tests.emulators.vk.media import Media
from tests.emulators.vk.methods import Call, Methods
from tests.emulators.vk.state import (
    CallbackServer,
    CallRecord,
    Conversation,
    Group,
    Inbound,
    User,
    World,
    new_token,
    now,
)

API_VERSION = "5.199"
_dumps = partial(json.dumps, ensure_ascii=False)


class VkEmulator:
    """VK as a community bot sees it, plus the people who write to the community.

    `quiet` and `settle_timeout` tune how the driver (`Person.send`/`press`) decides
    that the bot has finished reacting: no request in flight for `quiet` seconds.
    """

    def __init__(self, *, quiet: float = 0.05, settle_timeout: float = 5.0) -> None:
        self.quiet = quiet
        self.settle_timeout = settle_timeout
        self.world = World()
        self.media = Media()
        self.methods = Methods(self.world, self.media, self._longpoll, self._on_event_answer)
        self.methods.table.update(CommunitySettings(self._confirm_server).table)
        self.base_url = ""
        self.in_flight = 0  # API and upload requests being answered right now
        self.last_activity = now()
        self._longpolls: dict[int, LongPoll] = {}
        self._pushers: dict[int, CallbackPusher] = {}  # set by a test (use_callback)
        # (group id, server id) -> the pusher of a server a bot registered, once confirmed
        self._server_pushers: dict[tuple[int, int], CallbackPusher] = {}
        self._persons: dict[tuple[int, int], Person] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._group_ids = itertools.count(227_000_001)
        self._user_ids = itertools.count(700_000_001)

    # lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> VkEmulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._handle_method)
        app.router.add_route("*", "/bots-lp/{group_id}", self._handle_longpoll)
        app.router.add_post("/upload/{kind}/{token}", self._handle_upload)
        app.router.add_get("/files/{key}/{name}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self.media.base_url = self.base_url
        for group_id, poll in self._longpolls.items():
            poll.server = self._longpoll_url(group_id)
        return self

    async def stop(self) -> None:
        for poll in self._longpolls.values():
            poll.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pusher in [*self._pushers.values(), *self._server_pushers.values()]:
            await pusher.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> VkEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """What VK_API_URL should be: `http://127.0.0.1:PORT/method`."""
        return f"{self.base_url}/method"

    # set-up

    def create_group(
        self,
        name: str = "Shop",
        screen_name: str = "shop",
        *,
        group_id: int | None = None,
        longpoll_enabled: bool = True,
    ) -> Group:
        """A community with a fresh token; it delivers events by long poll until told otherwise
        (``longpoll_enabled=False``: as a new community, until the bot switches it on)."""
        group = Group(
            id=group_id or next(self._group_ids),
            name=name,
            screen_name=screen_name,
            token=new_token(),
            confirmation=secrets.token_hex(4),
            longpoll_enabled=longpoll_enabled,
        )
        self.world.groups[group.id] = group
        self.world.tokens[group.token] = group
        return group

    def user(
        self,
        group: Group,
        first_name: str = "Bob",
        last_name: str = "",
        *,
        lang: str = "ru",
        user_id: int | None = None,
        screen_name: str = "",
        inline_keyboard: bool = True,
        keyboard: bool = True,
    ) -> Person:
        """A person writing to `group`; the same `user_id` in two groups is one VK user."""
        uid = user_id or next(self._user_ids)
        user = self.world.users.get(uid)
        if user is None:
            user = User(
                uid,
                first_name,
                last_name,
                lang=lang,
                screen_name=screen_name,
                inline_keyboard=inline_keyboard,
                keyboard=keyboard,
            )
            self.world.users[uid] = user
        person = Person(self, group, user)
        self._persons[(group.id, uid)] = person
        return person

    async def use_callback(
        self,
        group: Group,
        url: str,
        secret: str = "",
        *,
        retries: int = 3,
        backoff: float = 0.05,
    ) -> None:
        """Point the community's Callback API at `url`: confirm it, then push events there.

        Raises AssertionError when the bot does not answer the confirmation string.
        """
        pusher = CallbackPusher(group.id, url, secret, retries=retries, backoff=backoff)
        try:
            await pusher.confirm(group.confirmation)
        except AssertionError:
            await pusher.close()
            raise
        old = self._pushers.pop(group.id, None)
        if old is not None:
            await old.close()
        self._pushers[group.id] = pusher

    async def wait_for_callback(self, group: Group, within: float = 5.0) -> CallbackServer:
        """Wait until a Callback API server the bot registered is confirmed (events go there)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            live = self._registered(group)
            if live and live[0].server is not None:
                return live[0].server
            if loop.time() > deadline:
                servers = [s.to_api() for s in group.callback_servers]
                raise AssertionError(
                    f"no confirmed Callback API server for {group.id}: {servers}; calls:\n"
                    + self.recent_calls()
                )
            await asyncio.sleep(0.01)

    async def use_longpoll(self, group: Group) -> None:
        """Stop pushing the community's events; deliver them by long poll again."""
        pusher = self._pushers.pop(group.id, None)
        if pusher is not None:
            await pusher.close()

    async def wait_for_bot(self, group: Group, within: float = 5.0) -> None:
        """Wait until the bot holds a long poll request for `group` (it is listening).

        Events that happen before the bot's first groups.getLongPollServer are not
        delivered to it, exactly as on VK, so a test starts talking after this.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self._longpoll(group).waiting:
            if loop.time() > deadline:
                raise AssertionError(
                    f"the bot is not polling community {group.id}; calls:\n{self.recent_calls()}"
                )
            await asyncio.sleep(0.01)

    # faults

    def longpoll_fail(self, group: Group, code: int) -> None:
        """The next a_check of the community answers `{"failed": code}` (1, 2 or 3)."""
        self._longpoll(group).fail(code)

    def fail_next(self, method: str, code: int, times: int = 1) -> None:
        """The next `times` calls of `method` get error `code` (e.g. 9, 10).

        Mind vk_api's own handling: on 6 it sleeps 0.5 s and retries by itself, on 14
        it raises Captcha; other codes raise ApiError.
        """
        self.world.faults.setdefault(method, []).extend([code] * times)

    def fail_http(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `method` get HTTP `status` with an HTML page, as a
        proxy in front of VK answers (vk_api raises ApiHttpError; with 200, a JSON error).
        Nothing the call asked for happens."""
        self.world.http_faults.setdefault(method, []).extend([status] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` get their connection closed, no answer;
        nothing the call asked for happens."""
        self.world.http_faults.setdefault(method, []).extend(["drop"] * times)

    def lose_answers(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` are served, then their connection is closed
        before the answer: done on VK's side, a network error on the bot's."""
        self.world.http_faults.setdefault(method, []).extend(["lose"] * times)

    def set_flood_control(self, limit: int | None, window: float = 60.0) -> None:
        """Error 9 once more than `limit` messages go to one person within `window` s."""
        self.world.flood_limit = limit
        self.world.flood_window = window

    def advance_time(self, seconds: float) -> None:
        """Move VK's clock (random_id memory, edit and delete windows)."""
        self.world.time_offset += seconds

    # reading

    @property
    def calls(self) -> list[CallRecord]:
        return self.world.calls

    def calls_to(self, method: str) -> list[CallRecord]:
        return [c for c in self.world.calls if c.method == method]

    @property
    def warnings(self) -> list[str]:
        return self.world.warnings

    def conversation(self, group: Group, peer_id: int) -> Conversation:
        return self.world.conversation(group.id, peer_id)

    def callback_log(self, group: Group) -> list[PushAttempt]:
        pusher = self._pushers.get(group.id)
        pushers = [pusher] if pusher else self._registered(group)
        return [attempt for each in pushers for attempt in each.log]

    def longpoll(self, group: Group) -> LongPoll:
        return self._longpoll(group)

    def recent_calls(self, count: int = 15) -> str:
        return "\n".join(str(c) for c in self.world.calls[-count:]) or "(no API calls)"

    # delivering events (the driver uses these)

    def deliver(
        self, group: Group, peer_id: int, kind: str, obj: dict[str, Any], answer_id: str = ""
    ) -> Inbound:
        """Hand an event to the bot by whichever way the community uses."""
        event_id = secrets.token_hex(20)
        update = {
            "group_id": group.id,
            "type": kind,
            "event_id": event_id,
            "v": API_VERSION,
            "object": obj,
        }
        inbound = Inbound(
            seq=self.world.next_seq(),
            group_id=group.id,
            peer_id=peer_id,
            type=kind,
            event_id=event_id,
            update=update,
            answer_id=answer_id or None,
        )
        self.world.inbound.append(inbound)
        manual = self._pushers.get(group.id)
        pushers = [manual] if manual is not None else self._registered(group)
        if pushers:  # VK sends the event to every confirmed server that takes its type
            targets = [pusher for pusher in pushers if pusher.sends(kind)]
            if not targets:
                inbound.failed = f"{kind} is not switched on for the Callback API server"
            for pusher in targets:
                task = asyncio.get_running_loop().create_task(pusher.push(inbound))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        elif group.longpoll_events is not None and kind not in group.longpoll_events:
            inbound.failed = f"{kind} is not switched on in the Long Poll settings"
        else:
            self._longpoll(group).push(inbound)
        return inbound

    def _registered(self, group: Group) -> list[CallbackPusher]:
        """Pushers of the community's confirmed servers that still exist, oldest first."""
        return [
            pusher
            for server in group.callback_servers
            if server.status == "ok"
            and (pusher := self._server_pushers.get((group.id, server.id))) is not None
        ]

    def quiet_for(self) -> float:
        """Seconds since the last API or upload request ended (0 while one is in flight)."""
        return 0.0 if self.in_flight else now() - self.last_activity

    # internals

    def _longpoll_url(self, group_id: int) -> str:
        return f"{self.base_url}/bots-lp/{group_id}"

    def _longpoll(self, group: Group) -> LongPoll:
        if group.id not in self._longpolls:
            self._longpolls[group.id] = LongPoll(group.id, self._longpoll_url(group.id))
        return self._longpolls[group.id]

    def _confirm_server(self, group: Group, server: CallbackServer) -> None:
        """As VK does for a server added or edited: ask its URL for the confirmation string
        (soon after the call that added it), then push the community's events there."""
        server.status = "wait"
        task = asyncio.get_running_loop().create_task(self._confirm(group, server))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _confirm(self, group: Group, server: CallbackServer) -> None:
        pusher = CallbackPusher(group.id, server.url, server.secret_key, server=server)
        try:
            await pusher.confirm(group.confirmation)
        except AssertionError as error:
            server.status = "failed"
            self.world.warnings.append(f"callback server {server.id}: {error}")
            await pusher.close()
            return
        if server not in group.callback_servers:  # deleted meanwhile
            await pusher.close()
            return
        server.status = "ok"
        old = self._server_pushers.pop((group.id, server.id), None)
        if old is not None:
            await old.close()
        self._server_pushers[(group.id, server.id)] = pusher

    def _on_event_answer(self, inbound: Inbound, data: dict[str, Any]) -> None:
        person = self._persons.get((inbound.group_id, inbound.peer_id))
        if person is not None:
            person.receive_event_answer(data)

    def _begin(self) -> None:
        self.in_flight += 1
        self.last_activity = now()

    def _end(self) -> None:
        self.in_flight -= 1
        self.last_activity = now()

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        params = {k: v for k, v in request.query.items()}
        if request.method == "POST":
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def _call(self, name: str, params: dict[str, str], record: CallRecord) -> Any:
        spec = schema.methods().get(name)
        if spec is None:
            raise VkError(3)
        group = self.world.tokens.get(params.get("access_token", ""))
        if group is None:
            raise VkError(5, BAD_TOKEN)
        record.group_id = group.id
        if "group" not in spec.token_types:
            raise VkError(27, "method is unavailable with group auth.")
        self.world.warnings.extend(schema.validate(name, params))
        faults = self.world.faults.get(name)
        if faults:
            record.fault = True  # not the bot's reaction: the driver waits for the retry
            raise VkError(faults.pop(0))
        method = self.methods.table.get(name)
        if method is None:
            self.world.warnings.append(f"{name}: not emulated")
            raise VkError(1, f"{name} is not emulated")
        return method(Call(group, params))

    async def _handle_method(self, request: web.Request) -> web.Response:
        self._begin()
        name = request.match_info["name"]
        record = CallRecord(self.world.next_seq(), name, {}, None, now())
        self.world.calls.append(record)
        try:
            params = await self._params(request)
            record.params = {k: v for k, v in params.items() if k != "access_token"}
            fault = self.world.http_faults[name].pop(0) if self.world.http_faults.get(name) else 0
            if isinstance(fault, int) and fault:
                return self._http_fault(record, fault)
            if fault == "drop":
                return self._drop(request, record, served=False)
            try:
                record.response = self._call(name, params, record)
                body: dict[str, Any] = {"response": record.response}
            except VkError as exc:
                record.error = (exc.code, exc.message)
                request_params = [{"key": "method", "value": name}, {"key": "oauth", "value": "1"}]
                request_params += [{"key": k, "value": v} for k, v in record.params.items()]
                error: dict[str, Any] = {
                    "error_code": exc.code,
                    "error_msg": exc.message,
                    "request_params": request_params,
                }
                if exc.code == 14:  # vk_api reads these for a captcha
                    error["captcha_sid"] = "1"
                    error["captcha_img"] = f"{self.base_url}/files/captcha/captcha.jpg"
                body = {"error": error}
            except Exception as exc:  # an emulator bug must show up in the test, not hide
                self.world.warnings.append(f"{name}: emulator failure {traceback.format_exc()}")
                record.error = (10, f"Internal server error: {exc!r}")
                body = {"error": {"error_code": 10, "error_msg": record.error[1]}}
            if fault == "lose":
                return self._drop(request, record, served=True)
            return web.json_response(body, dumps=_dumps)
        finally:
            record.finished = now()
            self._end()

    @staticmethod
    def _http_fault(record: CallRecord, status: int) -> web.Response:
        record.fault = True
        record.error = (status, f"injected fault: HTTP {status}")
        page = f"<html><head><title>{status}</title></head><body>{status}</body></html>"
        return web.Response(status=status, text=page, content_type="text/html")

    @staticmethod
    def _drop(request: web.Request, record: CallRecord, *, served: bool) -> web.Response:
        """Close the connection with no answer; a served call's effects stay, as on VK."""
        record.fault = not served
        record.error = (0, "injected fault: " + ("answer lost" if served else "connection dropped"))
        assert request.transport is not None
        request.transport.close()
        return web.Response()  # written to a closed transport: never seen

    async def _handle_longpoll(self, request: web.Request) -> web.Response:
        group = self.world.groups.get(int(request.match_info["group_id"]))
        if group is None:
            raise web.HTTPNotFound()
        params = await self._params(request)
        if params.get("act") != "a_check":
            return web.json_response({"failed": 2}, dumps=_dumps)
        answer = await self._longpoll(group).check(
            params.get("key", ""), params.get("ts", ""), params.get("wait", "")
        )
        return web.json_response(answer, dumps=_dumps)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        self._begin()
        try:
            files: list[tuple[str, str, bytes]] = []
            if request.content_type.startswith("multipart/"):
                reader = await request.multipart()
                async for part in reader:
                    if isinstance(part, BodyPartReader) and part.filename is not None:
                        files.append((part.name or "", part.filename, await part.read()))
            answer = self.media.receive(request.match_info["token"], files)
            return web.json_response(answer, dumps=_dumps)
        finally:
            self._end()

    async def _handle_file(self, request: web.Request) -> web.Response:
        attachment = self.media.files.get(request.match_info["key"])
        if attachment is None:
            raise web.HTTPNotFound()
        kind = mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
        return web.Response(body=attachment.data, content_type=kind)
