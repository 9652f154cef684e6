"""One bot process of the multi-process test, driven through JSON lines.

Run as `python -m tests.multiprocess.bot_process` with the bot's settings in the environment
(SHARD_COUNT, SHARD_IDS, DATABASE_URL, REDIS_URL, EXPLAIN_BACKEND=queue, QUESTIONS_PATH, ...)
and TUTORBOT_MP_SERVERS, a JSON list of [guild id, name]. It runs the real bot,
`create_bot(Config.from_env())`, inside its own simcord env.

One Discord, one simulation per process: every process builds the same servers (pinned guild
ids; the rest of simcord's ids follow deterministically from the same steps at the same
simulated instant), and Discord's gateway delivers each server only to the process running
its shard. A post one process makes in another's server exists only in its own simulation:
the test copies it over (`mirror`), as Discord would show it to both.

The simulated clock follows the wall clock from an origin the test gives every process, so
their clocks agree (deadlines and schedule slots are compared across processes), plus any
jump the test asks for.

Commands come on stdin, one JSON object a line with an "id"; each answer is one line with the
same "id" (and "error" if it failed). Events (no "id") tell of changes: "ready", "leading",
"stopped".
Logs go to stderr. SIGTERM stops the bot cleanly, as a deployment stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import discord
import simcord

from bot.app import TutorBot, create_bot
from bot.cli.demo import scheduler_on_simulated_clock
from bot.config import Config

log = logging.getLogger("tests.multiprocess.bot_process")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # simcord's clock starts here
TICK_S = 0.1  # how often the simulated clock catches up with the wall clock
MEMBERS = 3  # members per server besides its admin
SETTLE_S = 1.0  # simcord's settle timeout: the bot's few-second timers wait for the clock
REPLY_WAIT_S = 120.0  # the longest a deferred reply may take (the kill case: a re-kick)
POLL_S = 0.05


def emit(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


class Server:
    """A study server as every process builds it: a channel, an admin and some members."""

    def __init__(self, env: simcord.Env, guild_id: int, name: str) -> None:
        self.guild = env.create_guild(name, id=guild_id)
        self.channel = self.guild.create_text_channel("quiz")
        mods = self.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        self.admin = self.guild.add_member(env.create_user(f"admin-{name}"), roles=[mods])
        self.members = [self.guild.add_member(env.create_user(f"{name}-{i}"))
                        for i in range(MEMBERS)]

    def ids(self) -> dict[str, Any]:
        return {"channel": self.channel.id, "admin": self.admin.id,
                "members": [m.id for m in self.members]}


class Harness:
    def __init__(self, env: simcord.Env, bot: TutorBot, servers: dict[int, Server]) -> None:
        self.env, self.bot, self.servers = env, bot, servers
        self.turn = asyncio.Lock()  # simcord runs one operation at a time
        self.origin: float | None = None  # wall time at which the simulated clock read `start`
        self.start_s = 0.0
        self.jumped_s = 0.0
        self.leading = False
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()

    # ---- the clock ----------------------------------------------------------------------

    def simulated_s(self) -> float:
        return (self.env.now() - EPOCH).total_seconds()

    def target_s(self) -> float:
        assert self.origin is not None
        return self.start_s + self.jumped_s + (time.time() - self.origin)

    async def operate(self, operation: Callable[[], Awaitable[Any]]) -> Any:
        """One simcord operation at a time, the clock caught up first."""
        async with self.turn:
            await self._advance()
            return await operation()

    async def catch_up(self) -> None:
        async with self.turn:
            await self._advance()

    async def _advance(self) -> None:
        """Moves the simulated clock to the wall clock's reading (never back). A timer that
        fired in real time meanwhile (simcord's fallback) and did not settle hands its failure
        to the next operation: this one, which logs it. Its work goes on."""
        behind = self.target_s() - self.simulated_s() if self.origin is not None else 0.0
        try:
            await self.env.advance_time(max(behind, 0.0))
        except TimeoutError as exc:
            log.warning("simcord: the bot did not settle: %s", exc)

    async def tick(self) -> None:
        while not self.stop.is_set():
            await self.catch_up()
            leading = self.bot.leadership.leading
            if leading != self.leading:
                self.leading = leading
                emit({"event": "leading", "value": leading, "wall": time.time(),
                      "simulated": self.simulated_s()})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), TICK_S)

    # ---- commands -----------------------------------------------------------------------

    async def clock(self, origin: float, start: float) -> dict[str, Any]:
        """From now on the simulated clock reads `start` seconds past simcord's epoch at wall
        time `origin`, and runs with the wall clock."""
        self.origin, self.start_s = origin, start
        return await self.arrive()

    async def jump(self, to: float) -> dict[str, Any]:
        """Moves the simulated clock ahead to `to` seconds past simcord's epoch at once (only
        where no other process's clock must agree any more)."""
        self.jumped_s += max(to - self.target_s(), 0.0)
        return await self.arrive()

    async def arrive(self) -> dict[str, Any]:
        """Catches up at once (one advance settles only so much simulated time)."""
        while self.simulated_s() < self.target_s() - TICK_S:
            await self.catch_up()
        return {"simulated": self.simulated_s()}

    async def status(self) -> dict[str, Any]:
        return {"leading": self.bot.leadership.leading,
                "armed": sorted(self.bot.tutor.poster.timers.armed),
                "schedules": sorted(self.bot.tutor.rhythm.job_of),
                "guilds": sorted(g.id for g in self.bot.guilds),
                "simulated": self.simulated_s()}

    async def explain(self, guild: int, member: int, problem: str) -> dict[str, Any]:
        """/explain as a member; waits (in real time) for the reply's final form."""
        server = self.servers[guild]
        asked = time.time()
        result = await self.operate(lambda: server.members[member].slash(
            server.channel, "explain", problem=problem))
        answered = time.time()
        response = await _final_reply(result)
        if not _final(response):
            raise RuntimeError(f"no explanation within {REPLY_WAIT_S:.0f} s")
        embed = response.embeds[0] if response.embeds else None
        fields = {f.name: f.value for f in embed.fields} if embed else {}
        return {"text": embed.description if embed else response.content,
                "ran_on": fields.get("Ran on", ""), "seconds": time.time() - asked,
                "deferred_s": answered - asked}

    async def challenge(self, guild: int) -> dict[str, Any]:
        server = self.servers[guild]
        result = await self.operate(lambda: server.admin.slash(server.channel, "challenge"))
        return {"reply": result.response.content, "posts": self.posts(guild)}

    async def schedule(self, guild: int, time_of_day: str) -> dict[str, Any]:
        server = self.servers[guild]
        result = await self.operate(lambda: server.admin.slash(
            server.channel, "schedule add", channel=server.channel, time=time_of_day))
        return {"reply": result.response.content}

    def posts(self, guild: int) -> list[dict[str, Any]]:
        """The bot's posts in the server's channel (not its replies to interactions), as this
        process's Discord shows them."""
        server = self.servers[guild]
        stored = self.env.backend.messages.get(server.channel.id, {})
        return [_message_json(m) for m in sorted(stored.values(), key=lambda m: m.id)
                if m.author_id == self.bot.user.id and m.interaction_metadata is None]

    async def mirror(self, guild: int, message: dict[str, Any]) -> dict[str, Any]:
        """Shows here a post another process made in this server (same id, same content)."""
        server = self.servers[guild]
        backend = self.env.backend
        copy = backend.prepare_message(server.channel.id, self.bot.user.id, message["content"],
                                       embeds=message["embeds"],
                                       components=message["components"])
        if copy.id != message["id"]:  # the same instant on both clocks gives the same id
            copy = dataclasses.replace(copy, id=backend.reserve_id(message["id"]))
        backend.commit_message(copy, broadcast=False)
        return {"mirrored": message["id"]}

    async def handle(self, line: str) -> None:
        request = json.loads(line)
        ident, command = request.pop("id"), request.pop("cmd")
        action: Callable[..., Awaitable[dict[str, Any]]] | None = {
            "clock": self.clock, "jump": self.jump, "status": self.status,
            "explain": self.explain, "challenge": self.challenge, "schedule": self.schedule,
            "mirror": self.mirror, "posts": self._posts,
        }.get(command)
        try:
            if action is None:
                raise ValueError(f"unknown command {command!r}")
            emit({"id": ident, **await action(**request)})
        except Exception as exc:
            log.exception("command %s failed", command)
            emit({"id": ident, "error": f"{type(exc).__name__}: {exc}"})

    async def _posts(self, guild: int) -> dict[str, Any]:
        return {"posts": self.posts(guild)}

    async def serve(self) -> None:
        """Reads commands until stdin closes or SIGTERM; each runs as its own task."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        ticking = asyncio.create_task(self.tick())
        reading = asyncio.create_task(reader.readline())
        stopping = asyncio.create_task(self.stop.wait())
        while True:
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.done() or not reading.result():
                break
            task = asyncio.create_task(self.handle(reading.result().decode()))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            reading = asyncio.create_task(reader.readline())
        self.stop.set()
        reading.cancel()
        for task in (*self.tasks, ticking):
            task.cancel()
        await asyncio.gather(reading, ticking, *self.tasks, return_exceptions=True)


async def _final_reply(result: Any) -> Any:
    """simcord updates the reply as the bot edits it; polled, as a member would see it."""
    for _ in range(int(REPLY_WAIT_S / POLL_S)):
        if _final(result.response):
            break
        await asyncio.sleep(POLL_S)
    return result.response


def _final(response: Any) -> bool:
    """A deferred explanation's reply is final once it shows the run or says why not."""
    return response is not None and (bool(response.embeds) or
                                     (response.content or "").startswith("😕"))


def _message_json(message: Any) -> dict[str, Any]:
    return {"id": message.id, "content": message.content, "embeds": message.embeds,
            "components": message.components,
            "titles": [e.get("title") for e in message.embeds]}


async def main() -> None:
    config = Config.from_env(load_dotenv=False)
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format=f"%(asctime)s shards={os.environ.get('SHARD_IDS')} "
                               "%(levelname)s %(name)s: %(message)s")
    bot = create_bot(config)
    env = simcord.Env(bot, settle_timeout=SETTLE_S)
    servers = {guild_id: Server(env, guild_id, name)
               for guild_id, name in json.loads(os.environ["TUTORBOT_MP_SERVERS"])}
    await env.start()
    await bot.tree.sync()
    # A queued run is awaited outside Discord, as the bot awaits any worker.
    bot.tutor.wait_external = lambda run: env.external_wait(run, reason="explanation job")
    harness = Harness(env, bot, servers)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, harness.stop.set)
    emit({"event": "ready", "world": {"bot": bot.user.id,
                                      "servers": {str(g): s.ids() for g, s in servers.items()}}})
    try:
        await harness.serve()
    finally:
        await env.shutdown()
        await bot.release()
    emit({"event": "stopped", "wall": time.time()})


if __name__ == "__main__":
    with scheduler_on_simulated_clock():
        asyncio.run(main())
