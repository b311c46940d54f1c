"""The VK emulator's community settings (Callback API servers, Long Poll settings) and
messages.setActivity, against the real vk_api client: accepted as VK accepts them, refused
as VK refuses them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import vk_api
from aiohttp import web

from bot.vk_session import make_vk_api
from tests.e2e.conftest import eventually, free_port
from tests.emulators.vk import Group, Person, VkEmulator
from tests.test_emulator_vk import api_error, call


@pytest.fixture
async def emu() -> AsyncIterator[VkEmulator]:
    emulator = VkEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def group(emu: VkEmulator) -> Group:
    return emu.create_group(name="Shop", screen_name="shop", longpoll_enabled=False)


@pytest.fixture
def vk(emu: VkEmulator, group: Group) -> vk_api.VkApi:
    return make_vk_api(group.token, group.id, emu.api_url)


@pytest.fixture
def bob(emu: VkEmulator, group: Group) -> Person:
    return emu.user(group, first_name="Bob")


async def serve_confirmation(answer: str) -> tuple[str, web.AppRunner, list[dict]]:
    """A bot endpoint answering VK's confirmation with ``answer``; what it was sent."""
    seen: list[dict] = []

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        return web.Response(text=answer if body.get("type") == "confirmation" else "ok")

    app = web.Application()
    app.router.add_post("/vk", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return f"http://127.0.0.1:{port}/vk", runner, seen


async def test_a_server_added_is_confirmed_and_gets_the_events_switched_on(
    emu: VkEmulator, group: Group, vk: vk_api.VkApi, bob: Person
) -> None:
    code = (await call(vk, "groups.getCallbackConfirmationCode", group_id=group.id))["code"]
    url, runner, seen = await serve_confirmation(code)
    try:
        added = await call(
            vk,
            "groups.addCallbackServer",
            group_id=group.id,
            url=url,
            title="Shop bot",
            secret_key="s3cret",
        )
        await call(
            vk,
            "groups.setCallbackSettings",
            group_id=group.id,
            server_id=added["server_id"],
            api_version="5.199",
            message_new=1,
        )
        server = await emu.wait_for_callback(group)
        assert seen[0] == {"type": "confirmation", "group_id": group.id}
        listed = await call(vk, "groups.getCallbackServers", group_id=group.id)
        assert listed["count"] == 1 and listed["items"][0]["status"] == "ok"
        assert server.events == {"message_new"}
        await bob.send("hi", expect_reply=False)
        assert seen[-1]["type"] == "message_new" and seen[-1]["secret"] == "s3cret"
        skipped = bob.deny_messages_from_the_community()
        assert skipped.failed  # message_deny is not switched on: VK sends nothing
    finally:
        await runner.cleanup()


async def test_a_wrong_confirmation_fails_the_server(
    emu: VkEmulator, group: Group, vk: vk_api.VkApi
) -> None:
    url, runner, _ = await serve_confirmation("not the code")
    try:
        await call(vk, "groups.addCallbackServer", group_id=group.id, url=url, title="Shop bot")
        await eventually(lambda: group.callback_servers[0].status == "failed")
        assert emu.warnings and "confirmation failed" in emu.warnings[0]
        emu.warnings.clear()
    finally:
        await runner.cleanup()


async def test_server_calls_are_refused_as_vk_refuses_them(group: Group, vk: vk_api.VkApi) -> None:
    other = group.id + 1
    assert (await api_error(vk, "groups.getCallbackServers", group_id=other)).code == 15
    long_title = await api_error(
        vk,
        "groups.addCallbackServer",
        group_id=group.id,
        url="https://x.example/vk",
        title="A title far too long",
    )
    assert long_title.code == 100
    unknown = await api_error(
        vk,
        "groups.editCallbackServer",
        group_id=group.id,
        server_id=7,
        url="https://x.example/vk",
        title="Shop bot",
    )
    assert unknown.code == 104
    assert (await api_error(vk, "groups.addCallbackServer", group_id=group.id)).code == 100


async def test_servers_are_limited_to_ten(emu: VkEmulator, group: Group, vk: vk_api.VkApi) -> None:
    for n in range(10):
        await call(
            vk,
            "groups.addCallbackServer",
            group_id=group.id,
            url=f"http://127.0.0.1:9/{n}",
            title=f"s{n}",
        )
    refused = await api_error(
        vk, "groups.addCallbackServer", group_id=group.id, url="http://127.0.0.1:9/x", title="x"
    )
    assert refused.code == 2000
    await eventually(lambda: all(s.status == "failed" for s in group.callback_servers))
    emu.warnings.clear()  # nobody listens at those addresses: confirmations failed


async def test_long_poll_is_off_until_switched_on(
    emu: VkEmulator, group: Group, vk: vk_api.VkApi
) -> None:
    refused = await api_error(vk, "groups.getLongPollServer", group_id=group.id)
    assert refused.code == 100 and "not enabled" in str(refused)
    await call(
        vk,
        "groups.setLongPollSettings",
        group_id=group.id,
        enabled=1,
        api_version="5.199",
        message_new=1,
        message_reply=0,
    )
    assert group.longpoll_events == {"message_new"}
    server = await call(vk, "groups.getLongPollServer", group_id=group.id)
    assert server["key"] and server["ts"]


async def test_set_activity_is_checked_and_recorded(
    emu: VkEmulator, group: Group, vk: vk_api.VkApi, bob: Person
) -> None:
    assert await call(vk, "messages.setActivity", peer_id=bob.id, type="typing") == 1
    assert emu.calls_to("messages.setActivity")[0].params["type"] == "typing"
    wrong = await api_error(vk, "messages.setActivity", peer_id=bob.id, type="dancing")
    assert wrong.code == 100
    bob.forbid_messages()
    assert (await api_error(vk, "messages.setActivity", peer_id=bob.id, type="typing")).code == 901
