"""A lower unit's board adding its own materials (a guide, its own document) to an upper directive before
forwarding it to its cells: «📎 Chuyển kèm tài liệu của đơn vị» on the handed card opens this flow; every file,
photo or pasted text that follows is stored under the name it came with and listed in the conversation; «Xong,
chuyển đi» forwards the directive with them (`levels.forward` records them for the unit); «hủy» drops them.

What each channel takes, as the directive intake does: documents and photos on Zalo OA and Telegram; on the Zalo Bot
Platform, which passes no files to bots, photos of the pages and pasted text (kept as a text file)."""

from __future__ import annotations

import logging
import mimetypes

from bot.core.events import Button, DeliveryError, OutFile
from bot.core.textnorm import fold
from bot.services.files import FileTooLarge
from handlers import buttons as b
from handlers.context import Context
from messages import common
from messages import directives as intake_msg
from messages import levels as msg
from storage.models import Directive, Unit

log = logging.getLogger(__name__)

FLOW = "handoff_files"
MIN_NOTE = 40  # a pasted text shorter than this is a word typed by mistake, not a material for the cells


async def start(ctx: Context, upper: Directive, unit: Unit) -> None:
    """Ask for the unit's files; the directive is forwarded once the board says it is done."""
    await ctx.set_state(FLOW, "files", {"directive_id": upper.id, "unit_id": unit.id, "files": []})
    how = msg.ASK_FILES_HOW.get(ctx.event.channel.value, "")
    ctx.reply(
        msg.ASK_FILES.format(unit=unit.name, number=upper.number or "", how=how), _done(upper.id, unit.id)
    )


def _done(directive_id: int, unit_id: int) -> list[list[Button]]:
    return [[Button(msg.BUTTON_FILES_DONE, b.FilesDone(directive_id, unit_id).encode())]]


async def take(ctx: Context, directive_id: int, unit_id: int) -> list[OutFile]:
    """The files gathered for this handoff, closing the flow; none when the flow is about another one or none."""
    conv = await ctx.conversation()
    if conv is None or conv.flow != FLOW:
        return []
    data = conv.data or {}
    if data.get("directive_id") != directive_id or data.get("unit_id") != unit_id:
        return []
    await ctx.clear_state()
    return [_file(f) for f in data.get("files") or [] if isinstance(f, dict)]


def _file(row: dict[str, object]) -> OutFile:
    mime = str(row.get("mime") or "application/octet-stream")
    size = row.get("size")
    return OutFile(
        str(row["sha256"]),
        str(row["name"]),
        mime,
        size if isinstance(size, int) else 0,
        as_photo=mime.startswith("image/"),
    )


async def on_message(ctx: Context) -> None:
    """A file, photo or text from the board member while the unit's files are being gathered."""
    conv = await ctx.conversation()
    assert conv is not None
    data = dict(conv.data or {})
    directive_id, unit_id = data.get("directive_id"), data.get("unit_id")
    upper = await ctx.session.get(Directive, directive_id) if isinstance(directive_id, int) else None
    if upper is None or not isinstance(unit_id, int):
        await ctx.clear_state()
        ctx.reply(msg.NOT_YOURS)
        return
    event = ctx.event
    text = (event.text or "").strip()
    if event.file is None and " ".join(fold(text).strip(" .!").split()) in common.WORDS_CANCEL:
        await ctx.clear_state()
        ctx.reply(msg.FILES_CANCELLED.format(number=upper.number or ""))
        return
    files = [f for f in data.get("files") or [] if isinstance(f, dict)]
    done = _done(upper.id, unit_id)  # on every answer: on Zalo «Xong» is typed against the last choices
    stored = await _store(ctx, len(files) + 1, done)
    if stored is None:
        return
    files.append({"sha256": stored.sha256, "name": stored.name, "mime": stored.mime, "size": stored.size})
    await ctx.set_state(FLOW, "files", {**data, "files": files})
    ctx.reply(msg.FILE_TAKEN.format(name=stored.name, count=len(files)), done)


async def _store(ctx: Context, n: int, done: list[list[Button]]) -> OutFile | None:
    """The file, photo or pasted text of this event stored, or None after saying why it was not taken."""
    event = ctx.event
    limit = ctx.settings.max_file_mb
    if event.file is None:
        text = (event.text or "").strip()
        if len(text) < MIN_NOTE:
            ctx.reply(msg.FILES_NUDGE, done)
            return None
        data, name, mime = text.encode(), msg.NOTE_NAME.format(n=n), "text/plain"
    elif event.file.kind not in ("document", "photo"):
        ctx.reply(msg.FILES_UNSUPPORTED, done)
        return None
    else:
        name = event.file.name or (f"anh-{n}.jpg" if event.file.kind == "photo" else "tai-lieu")
        if event.file.size and event.file.size > limit * 1024 * 1024:
            size = round(event.file.size / 1048576, 1)
            ctx.reply(intake_msg.FILE_TOO_LARGE.format(name=name, size=size, limit=limit), done)
            return None
        try:
            data = await ctx.runtime.channels[event.channel].download(event.file)
        except DeliveryError as exc:
            log.warning("could not download a unit's file from %s: %s", event.channel, exc)
            ctx.reply(intake_msg.FILE_DOWNLOAD_FAILED.format(name=name), done)
            return None
        mime = event.file.mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        return await ctx.runtime.files.save(ctx.session, ctx.clock, data, name, mime)
    except FileTooLarge as exc:
        size = round(exc.size / 1048576, 1)
        ctx.reply(intake_msg.FILE_TOO_LARGE.format(name=name, size=size, limit=limit), done)
        return None
