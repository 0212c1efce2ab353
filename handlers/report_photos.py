"""Evidence photos of a report: which files count as photos, storing one, and counting those a draft holds."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.events import DeliveryError, IncomingFile, Rejected
from bot.services.files import FileTooLarge
from bot.services.forms import FormSpec
from handlers.context import Context
from messages import reports as msg

log = logging.getLogger(__name__)

DEFAULT_NAME, DEFAULT_MIME = "anh-minh-chung.jpg", "image/jpeg"


def is_image(file: IncomingFile) -> bool:
    return file.kind == "photo" or (file.kind == "document" and (file.mime or "").startswith("image/"))


def photo_count(form: FormSpec, values: dict[str, Any]) -> int:
    return sum(len(values.get(spec.key) or []) for spec in form.photo_fields)


async def store_photo(ctx: Context) -> str | None:
    """Download the photo of this event into the file store; None (and the reason told) on failure."""
    file = ctx.event.file
    assert file is not None
    limit = ctx.settings.max_file_mb
    if file.size and file.size > limit * 1024 * 1024:
        ctx.reply(msg.PHOTO_TOO_LARGE.format(size=round(file.size / 1048576, 1), limit=limit))
        return None
    channel = ctx.runtime.channels.get(ctx.event.channel)
    try:
        if channel is None:
            raise Rejected(f"no channel {ctx.event.channel}")
        data = await channel.download(file)
    except DeliveryError as exc:
        log.warning("could not download a photo from %s: %s", ctx.event.channel, exc)
        ctx.reply(msg.PHOTO_DOWNLOAD_FAILED)
        return None
    try:
        stored = await ctx.runtime.files.save(
            ctx.session, ctx.clock, data, file.name or DEFAULT_NAME, file.mime or DEFAULT_MIME
        )
    except FileTooLarge as exc:
        ctx.reply(msg.PHOTO_TOO_LARGE.format(size=round(exc.size / 1048576, 1), limit=limit))
        return None
    return stored.sha256
