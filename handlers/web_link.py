"""/web (typed «trang web» on Zalo): the board member's one-time sign-in link to the web dashboard."""

from __future__ import annotations

from bot.services import evidence, web_access
from handlers.context import Context
from messages import web as msg


async def web(ctx: Context) -> None:
    assert ctx.person is not None
    base = evidence.base_url(ctx.settings)
    actor = f"{ctx.event.channel.value}:{ctx.event.user_id}"
    url = await web_access.issue_link(ctx.session, ctx.clock, ctx.person, base, actor)
    if url is None:
        ctx.reply(msg.NOT_STAFF)
        return
    ctx.reply(msg.LINK_SENT.format(minutes=web_access.LINK_MINUTES, url=url))
