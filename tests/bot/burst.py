"""Many members clicking the same message at once.

simcord's public verbs settle after each action, so `asyncio.gather(member.click(...))`
is refused. This delivers every click's INTERACTION_CREATE first and settles once, so the
bot's handlers really interleave. It uses simcord internals, hence the pinned version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from simcord import InteractionResult, interactions
from simcord.actors import _find_component, _visible_message
from simcord.backend import serializers
from simcord.enums import ComponentType, InteractionType


async def burst_click(env, members: Sequence, message,
                      custom_id_for: Callable[[int, object], str]) -> list[InteractionResult]:
    backend = env.backend
    records = []
    env._begin_operation("burst_click")
    try:
        for i, member in enumerate(members):
            stored = _visible_message(member, message)
            button = _find_component(stored.components, types=(ComponentType.BUTTON,),
                                     custom_id=custom_id_for(i, member), label=None)
            record, payload = interactions.base_payload(
                backend, type=InteractionType.MESSAGE_COMPONENT, channel_id=stored.channel_id,
                guild_id=member.guild.id, user_id=member.id,
                data={"custom_id": button["custom_id"], "component_type": ComponentType.BUTTON})
            payload["message"] = dict(serializers.message_payload(backend, stored))
            record.source_message_id = stored.id
            backend.emit("INTERACTION_CREATE", payload)
            records.append(record)
        await env._settle_internal(dispatch="INTERACTION_CREATE")
    finally:
        env._end_operation()
    return [InteractionResult(env, r) for r in records]
