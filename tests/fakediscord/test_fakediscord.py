"""Proves the fake Discord drives a real discord.py bot end to end."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from . import (
    EPHEMERAL,
    PRIVATE_THREAD,
    ErrorCapture,
    FakeDiscord,
    WaitTimeout,
    capture_errors,
    run_bot,
)

# --------------------------------------------------------------------------- throwaway bot


class AnswerModal(discord.ui.Modal, title="Your answer"):
    answer = discord.ui.TextInput(
        label="Answer", custom_id="demo:answer", style=discord.TextStyle.paragraph
    )
    note = discord.ui.TextInput(label="Note", custom_id="demo:note", required=False)

    def __init__(self) -> None:
        super().__init__(custom_id="demo:modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        # slow-ish work: defer, then the first follow-up fills in the "thinking" message
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(
            name=f"interview-{interaction.user.name}",
            type=discord.ChannelType.private_thread,
            invitable=False,
        )
        await thread.add_user(interaction.user)
        await thread.send(f"{interaction.user.mention} answered: {self.answer.value}")
        await interaction.followup.send(f"Thread {thread.mention} created", ephemeral=True)


class StartView(discord.ui.View):
    """Persistent (timeout=None, fixed custom_id) so a restarted bot can re-register it."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Answer", custom_id="demo:open", style=discord.ButtonStyle.primary)
    async def open(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(AnswerModal())

    @discord.ui.button(label="Done", custom_id="demo:done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="All done", view=None)


def make_bot(*, sync: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
    demo = app_commands.Group(name="demo", description="Demo commands")
    curate = app_commands.Group(
        name="curate",
        description="Curator tools",
        default_permissions=discord.Permissions(administrator=True),
    )
    members = app_commands.Group(name="members", description="Member tools", parent=curate)

    @demo.command(name="hello", description="Say hello")
    async def hello(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Hello, {interaction.user.name}!", view=StartView(), ephemeral=True
        )

    @demo.command(name="pick", description="Pick a topic")
    @app_commands.describe(topic="the topic", count="how many")
    async def pick(interaction: discord.Interaction, topic: str, count: int = 1) -> None:
        await interaction.response.send_message(f"{topic} x{count}")

    @pick.autocomplete("topic")
    async def pick_topic(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        topics = ["physician", "physics", "plumbing"]
        return [app_commands.Choice(name=t, value=t) for t in topics if t.startswith(current)]

    @demo.command(name="file", description="Send a file")
    async def file(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "here", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "data.csv")
        )
        await interaction.channel.send(
            "and again", file=discord.File(io.BytesIO(b"hello"), "note.txt")
        )

    @demo.command(name="inspect", description="Fetch things over REST")
    async def inspect(interaction: discord.Interaction, message_id: str) -> None:
        await interaction.response.defer(thinking=True)
        channel = await interaction.client.fetch_channel(interaction.channel_id)
        message = await channel.fetch_message(int(message_id))
        member = await interaction.guild.fetch_member(message.author.id)
        tmp = await channel.send("temporary")
        await tmp.delete()
        await interaction.edit_original_response(
            content=f"{channel.name}/{message.content}/{member.name}"
        )

    @demo.command(name="boom", description="Raise")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @demo.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        await interaction.response.send_message("too late")

    @demo.command(name="pins", description="Uses a route the fake lacks")
    async def pins(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.channel.pins()

    @members.command(name="who", description="Show a member's roles")
    async def who(interaction: discord.Interaction, member: discord.Member) -> None:
        names = [r.name for r in member.roles]
        await interaction.response.send_message(f"{member.name}: {','.join(names)}", ephemeral=True)

    bot.tree.add_command(demo)
    bot.tree.add_command(curate)

    @bot.event
    async def setup_hook() -> None:
        bot.add_view(StartView())

    @bot.event
    async def on_ready() -> None:
        if sync:
            await bot.tree.sync()

    @bot.event
    async def on_message_edit(before: discord.Message, after: discord.Message) -> None:
        if isinstance(after.channel, discord.DMChannel) and not after.author.bot:
            await after.channel.send(f"edited: {before.content} -> {after.content}")

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        if isinstance(message.channel, discord.DMChannel):
            text = message.content
            for att in message.attachments:
                text += " | " + (await att.read()).decode()
            async with message.channel.typing():
                await message.channel.send(f"pong: {text}")
        elif message.content == "!dm":
            await message.author.send("psst, in private")
        elif isinstance(message.channel, discord.Thread):
            await message.reply(f"noted in {message.channel.name}")

    return bot


# --------------------------------------------------------------------------- tests


@pytest.mark.asyncio
async def test_login_ready_and_sync() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()) as bot:
        assert bot.user is not None and bot.user.id == server.bot_user.id
        guild = bot.get_guild(server.guild.id)
        assert guild is not None and guild.chunked
        assert {m.name for m in guild.members} >= {"expert", "curator", "admin", "stranger"}
        assert guild.get_channel(server.general.id).name == "general"
        curator = guild.get_member(server.curator.id)
        assert [r.name for r in curator.roles if not r.is_default()] == ["curator"]
        sync = await server.wait_for_call("PUT", "/applications/{application_id}/commands", since=0)
        assert [c["name"] for c in sync.response] == ["demo", "curate"] and sync.response[0]["id"]
        assert server.identifies[0]["intents"] == bot.intents.value
    assert discord.http.Route.BASE == "https://discord.com/api/v10"  # restored


@pytest.mark.asyncio
async def test_slash_button_modal_thread_flow() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()) as bot:
        expert = server.expert
        ix = await server.slash(expert, "demo hello")
        call = await ix.wait_response()
        assert call.json["type"] == 4
        assert call.json["data"]["flags"] & EPHEMERAL
        reply = ix.message
        assert reply is not None and reply.ephemeral and reply.content == "Hello, expert!"
        assert reply.custom_ids == ["demo:open", "demo:done"]
        assert reply.channel_id == server.general.id

        # another user cannot click someone else's ephemeral message
        with pytest.raises(PermissionError):
            await server.click(server.stranger, reply, "demo:open")

        click = await server.click(expert, reply, "demo:open")
        await click.wait_response()
        assert click.modal is not None and click.modal["custom_id"] == "demo:modal"

        submit = await server.submit_modal(
            expert, "demo:modal", {"demo:answer": "Check the airway first."}
        )
        thread_msg = await server.wait_for_message(predicate=lambda m: "answered" in m.content)
        thread = server.channel(thread_msg.channel_id)
        assert thread.type == PRIVATE_THREAD and thread.parent_id == server.general.id
        assert thread.name == "interview-expert" and expert.id in thread.member_ids
        assert thread_msg.content == f"{expert.mention} answered: Check the airway first."

        # deferred (thinking) response, then the follow-up fills in that same message
        done = await server.wait_for_message(server.general, lambda m: "created" in m.content)
        assert done is submit.message and done.ephemeral and not done.loading
        assert [c.json["type"] for c in submit.responses if c.route.endswith("callback")] == [5]

        # the bot saw its thread via THREAD_CREATE
        assert isinstance(bot.get_channel(thread.id), discord.Thread)

        # the expert writes in the thread; the bot replies there
        await server.user_sends(expert, thread, "More details")
        answer = await server.wait_for_message(thread)
        assert answer.content == "noted in interview-expert"
        assert answer.raw["message_reference"]["message_id"] == str(thread.messages[-2].id)

        # the stranger is not in the private thread
        with pytest.raises(PermissionError):
            await server.user_sends(server.stranger, thread, "let me in")

        # update-message response (type 7) edits the component's message
        done_click = await server.click(expert, reply, "demo:done")
        assert (await done_click.wait_response()).json["type"] == 7
        assert reply.content == "All done" and reply.components == [] and reply.edited


@pytest.mark.asyncio
async def test_dm_listener_attachments_and_typing() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        dm = server.dm(server.expert)
        await server.user_sends(server.expert, dm, "hi", attachments=[("notes.txt", "line one")])
        reply = await server.wait_for_message(dm)
        assert reply.content == "pong: hi | line one"
        assert await server.wait_for_call("POST", "/channels/{channel_id}/typing", channel_id=dm.id)

        await server.user_edits(server.expert, dm.messages[0], "hi again")
        assert (await server.wait_for_message(dm)).content == "edited: hi -> hi again"

        # a guild message makes the bot open a DM (POST /users/@me/channels)
        await server.user_sends(server.curator, server.general, "!dm")
        psst = await server.wait_for_message(predicate=lambda m: m.content == "psst, in private")
        assert server.channel(psst.channel_id).recipients == [server.curator]
        assert server.messages_in(server.general) == []  # nothing from the bot there


@pytest.mark.asyncio
async def test_files_autocomplete_options_and_permissions() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        ix = await server.slash(server.expert, "demo file")
        await server.wait_for_message(predicate=lambda m: m.content == "and again")
        first, second = server.messages_in(server.general)
        assert [(a.filename, a.data) for a in first.attachments] == [("data.csv", b"a,b\n1,2\n")]
        assert ix.callback_call.files[0].filename == "data.csv"
        assert second.attachments[0].text == "hello"

        ac = await server.autocomplete(
            server.expert, "demo pick", {"topic": "phy"}, focused="topic"
        )
        await ac.wait_response()
        assert [c["value"] for c in ac.choices] == ["physician", "physics"]

        pick = await server.slash(server.expert, "demo pick", {"topic": "physics", "count": 3})
        await pick.wait_response()
        assert pick.message.content == "physics x3" and not pick.message.ephemeral
        with pytest.raises(ValueError, match="missing required"):
            await server.slash(server.expert, "demo pick", {})
        with pytest.raises(TypeError):
            await server.slash(server.expert, "demo pick", {"topic": "x", "count": "3"})

        # nested group + member option; default_member_permissions hides it from non-admins
        with pytest.raises(PermissionError):
            await server.slash(server.expert, "curate members who", {"member": server.curator})
        who = await server.slash(server.admin, "curate members who", {"member": server.curator})
        await who.wait_response()
        assert who.message.content == "curator: @everyone,curator"


@pytest.mark.asyncio
async def test_fetch_routes_defer_and_edit_original() -> None:
    async with FakeDiscord() as server, run_bot(server, make_bot()):
        said = await server.user_sends(server.curator, server.general, "a question")
        ix = await server.slash(server.expert, "demo inspect", {"message_id": str(said.id)})
        assert (await ix.wait_response()).json["type"] == 5
        done = await server.wait_for_message(server.general, lambda m: "/" in m.content)
        assert done is ix.message and done.content == "general/a question/curator"
        routes = [c.key for c in server.calls[ix.callback_call.index :]]
        assert "GET /channels/{channel_id}" in routes
        assert "GET /channels/{channel_id}/messages/{message_id}" in routes
        assert "GET /guilds/{guild_id}/members/{user_id}" in routes
        assert "DELETE /channels/{channel_id}/messages/{message_id}" in routes
        assert (
            "PATCH /webhooks/{application_id}/{interaction_token}/messages/{message_id}" in routes
        )
        deleted = [m for m in server.messages_in(server.general, include_deleted=True) if m.deleted]
        assert [m.content for m in deleted] == ["temporary"]


@pytest.mark.asyncio
async def test_message_content_intent_is_enforced() -> None:
    seen: asyncio.Queue[str] = asyncio.Queue()
    client = discord.Client(intents=discord.Intents.default())  # no message_content

    @client.event
    async def on_message(message: discord.Message) -> None:
        await seen.put(message.content)

    async with FakeDiscord() as server, run_bot(server, client):
        await server.user_sends(server.expert, server.general, "secret")
        assert await asyncio.wait_for(seen.get(), 5) == ""
        await server.user_sends(server.expert, server.general, f"{server.bot_user.mention} hi")
        assert await asyncio.wait_for(seen.get(), 5) == f"{server.bot_user.mention} hi"
        await server.user_sends(server.expert, server.dm(server.expert), "dm text")
        assert await asyncio.wait_for(seen.get(), 5) == "dm text"


@pytest.mark.asyncio
async def test_handler_exception_fails_the_test() -> None:
    server = FakeDiscord()
    await server.start()
    try:
        with pytest.raises(AssertionError, match="kaboom"):
            async with run_bot(server, make_bot()):
                ix = await server.slash(server.expert, "demo boom")
                # the bot never answers: waiting times out with a readable error
                with pytest.raises(WaitTimeout):
                    await ix.wait_response(timeout=0.3)

        # the same, caught explicitly with an ErrorCapture
        with capture_errors() as errors:
            async with run_bot(server, make_bot(), check_errors=False):
                await server.slash(server.expert, "demo boom")
                await _until(lambda: errors.records)
            records = errors.take()
        assert "kaboom" in str(records[0].exc_info[1].__cause__ or records[0].exc_info[1])
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_realism_checks_deadline_and_unknown_routes() -> None:
    async with FakeDiscord(interaction_deadline=0.2) as server:
        # answering after the deadline yields 404 Unknown interaction, logged by discord.py
        with pytest.raises(AssertionError, match="Unknown interaction"):
            async with run_bot(server, make_bot()):
                ix = await server.slash(server.expert, "demo slow")
                call = await ix.wait_response()
                assert call.status == 404 and call.response["code"] == 10062

        # a route the fake does not know is recorded and reported
        with pytest.raises(AssertionError, match="does not implement") as info:
            async with run_bot(server, make_bot(), check_errors=False):
                await server.slash(server.expert, "demo pins")
                await server.wait_for(lambda c: not c.known)
        assert "GET /channels/" in str(info.value)
        assert server.unknown_calls[0].path.endswith("/messages/pins")


@pytest.mark.asyncio
async def test_restart_sees_same_guild_thread_and_persistent_view() -> None:
    errors = ErrorCapture()
    async with FakeDiscord() as server:
        async with run_bot(server, make_bot()):
            hello = await server.slash(server.expert, "demo hello")
            await hello.wait_response()
            await server.click(server.expert, hello.message, "demo:open")
            await server.submit_modal(server.expert, "demo:modal", {"demo:answer": "first answer"})
            await server.wait_for_message(predicate=lambda m: "created" in m.content)
        (thread,) = server.threads
        assert not server.gateway_connected()

        with errors:
            async with run_bot(server, make_bot(sync=False)) as bot2:
                got = bot2.get_channel(thread.id)
                assert isinstance(got, discord.Thread) and got.name == "interview-expert"
                assert got.guild.id == server.guild.id
                # the old ephemeral message's button still works (persistent view)
                click = await server.click(server.expert, hello.message, "demo:open")
                await click.wait_response()
                assert click.modal["custom_id"] == "demo:modal"
                await server.user_sends(server.expert, thread, "after restart")
                reply = await server.wait_for_message(thread)
                assert reply.content == "noted in interview-expert"
        assert len(server.identifies) == 2


@pytest.mark.asyncio
async def test_gateway_reconnect_resumes(
    fake_discord: FakeDiscord, discord_errors: ErrorCapture
) -> None:
    server = fake_discord  # the optional fixtures from fixtures.py
    async with run_bot(server, make_bot()):
        await server.gateway_reconnect()
        await _until(lambda: server.resumes == 1)
        dm = server.dm(server.expert)
        await server.user_sends(server.expert, dm, "still there?")
        assert (await server.wait_for_message(dm)).content == "pong: still there?"
        assert len(server.identifies) == 1


async def _until(condition, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
