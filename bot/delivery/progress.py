"""Live progress of a broadcast for the board member who sent it: one message edited in place (sent / total,
failed, blocked, held, time left), then a final summary of who could not be reached and why (held outside the
channel's window, blocked, failed, not joined) and, on channels that charge, what it cost. Watchers resume after a
restart from what the directive row remembers. The watcher only reports: the directive's status is the domain's
(services.directives.settle), moved whoever finished the deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from sqlalchemy import select

from bot.core.events import Reply
from bot.core.host import Host
from bot.delivery.sender import Sender
from bot.services import directives, reach
from bot.services.outbox import enqueue
from messages import directives as msg
from storage.db import transaction
from storage.faults import is_transient, reason
from storage.models import Directive, DirectiveStatus

log = logging.getLogger(__name__)
# "held" is done for the broadcast: the delivery waits for the user's next interaction, which may never come.
DONE_STATES = ("sent", "blocked", "failed", "unregistered", "held")
# A broadcast that finished while the bot was stopping still gets its final summary after a restart within this.
RESUME_WITHIN = timedelta(days=2)


class ProgressWatcher:
    def __init__(self, host: Host, sender: Sender, interval: float = 2.0) -> None:
        self.host = host
        self.sender = sender
        self.interval = interval
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()

    def watch(self, directive_id: int, channel: str, chat_id: str) -> None:
        if directive_id not in self._tasks:
            task = asyncio.create_task(self._run(directive_id, channel, chat_id, None))
            self._tasks[directive_id] = task
            task.add_done_callback(lambda _t: self._tasks.pop(directive_id, None))

    async def resume(self) -> None:
        """Pick up the watchers of broadcasts whose final summary was not yet given when the bot stopped."""
        recent = self.host.clock.now() - RESUME_WITHIN
        async with self.host.sessions() as session:
            rows = (
                await session.scalars(
                    select(Directive).where(
                        (Directive.status == DirectiveStatus.SENDING)
                        | ((Directive.status == DirectiveStatus.SENT) & (Directive.sent_at >= recent))
                    )
                )
            ).all()
        for d in rows:
            where = (d.meta or {}).get("progress")
            # Rows from before the `reported` flag were reported unless still sending.
            if (
                where
                and where.get("reported", d.status != DirectiveStatus.SENDING) is False
                and d.id not in self._tasks
            ):
                task = asyncio.create_task(
                    self._run(d.id, where["channel"], where["chat_id"], where.get("message_id"))
                )
                self._tasks[d.id] = task

    async def stop(self) -> None:
        """Ask watchers to stop between rounds (never mid-transaction); they resume at the next start."""
        self._stopping.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, directive_id: int, channel_name: str, chat_id: str, message_id: str | None) -> None:
        channel = self.host.channels.get(channel_name)
        if channel is None:
            return
        started = time.monotonic()
        first_done: int | None = None
        while True:
            try:
                number, counts = await self._counts(directive_id)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # The database is away: the broadcast's progress waits for it like everything else.
                log.warning("progress of directive %s: database unavailable (%s)", directive_id, reason(exc))
                if await self._stopped_within(self.interval):
                    return
                continue
            total = sum(counts.values())
            done = sum(counts[s] for s in DONE_STATES)
            first_done = done if first_done is None else first_done
            text = msg.PROGRESS.format(
                number=number,
                sent=counts["sent"],
                total=total,
                failed=counts["failed"],
                blocked=counts["blocked"],
                held=counts["held"],
                unregistered=counts["unregistered"],
                eta=msg.eta(_eta(total - done, done - first_done, time.monotonic() - started)),
            )
            try:
                if message_id is None:
                    message_id = (await channel.send(chat_id, Reply(text=text))).message_id
                    await self._remember(directive_id, channel_name, chat_id, message_id)
                else:
                    await channel.edit(chat_id, message_id, Reply(text=text))
            except Exception as exc:  # progress is a courtesy: never let it break the broadcast
                log.warning("progress update failed: %s", exc)
            if done >= total:
                break
            if await self._stopped_within(self.interval):
                return
        await self._finish(directive_id, channel_name, chat_id)

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _counts(self, directive_id: int) -> tuple[str, dict[str, int]]:
        await self.sender.flush()
        async with self.host.sessions() as session:
            directive = await session.get(Directive, directive_id)
            counts = await directives.delivery_counts(session, directive_id)
        return (directive.number or "" if directive else ""), counts

    async def _remember(self, directive_id: int, channel: str, chat_id: str, message_id: str) -> None:
        async with transaction(self.host.sessions) as session:
            directive = await session.get(Directive, directive_id)
            if directive is not None:
                where = {"channel": channel, "chat_id": chat_id, "message_id": message_id, "reported": False}
                directive.meta = {**(directive.meta or {}), "progress": where}

    async def _finish(self, directive_id: int, channel: str, chat_id: str) -> None:
        async with transaction(self.host.sessions) as session:
            directive = await session.get(Directive, directive_id)
            where = (directive.meta or {}).get("progress") or {} if directive is not None else {}
            if directive is None or where.get("reported") is True:
                return
            counts = await directives.delivery_counts(session, directive_id)
            problems = await directives.unreachable(session, directive_id)
            lines = [
                msg.FINAL.format(
                    number=directive.number or "", sent=counts["sent"], total=sum(counts.values())
                )
            ]
            if problems:
                lines.append(msg.FINAL_PROBLEMS.format(count=len(problems)))
                for unit, secretary, status, error in problems:
                    reason = msg.REASONS[status].format(error=error or "")
                    lines.append(
                        msg.FINAL_LINE.format(
                            unit=unit.name, secretary=secretary or msg.NO_NAME, reason=reason
                        )
                    )
            costs = await reach.spent(session, reach.channel_windows(self.host.channels), directive_id)
            if costs is not None:
                lines.append(
                    msg.FINAL_COSTS.format(
                        free=costs.free, quota=costs.quota, paid=costs.paid, vnd=msg.money(costs.vnd)
                    )
                )
            directive.meta = {**(directive.meta or {}), "progress": {**where, "reported": True}}
            enqueue(session, self.host.clock, channel, chat_id, [Reply(text="\n".join(lines))], kind="notice")
        self.sender.wake()


def _eta(remaining: int, done_since_start: int, elapsed: float) -> float | None:
    if remaining <= 0:
        return 0.0
    if done_since_start <= 0 or elapsed <= 0:
        return None
    return remaining / (done_since_start / elapsed)
