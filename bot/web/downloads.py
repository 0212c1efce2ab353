"""Signed, expiring download links for stored files, for channels that cannot send files (Zalo): minting them as
the outbox delivers, and serving them from the bot's web server.

A receipt means a person: following a link (GET or HEAD, which is also what link previews, crawlers and Zalo's own
fetch do) only shows a small page naming the file, its size and a download button. Only the button's POST serves
the file as an attachment and records the download, which counts as the cell having received the directive, and
never when the request says it comes from a bot or a link preview. Images are the exception: Zalo fetches a photo
sent by URL itself to show it, so an image is served as it is on GET, and never counts.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import OutFile
from bot.core.host import Host
from bot.services import evidence, links
from messages import zalo as msg
from storage.db import transaction
from storage.models import DirectiveFile, DirectiveTarget, Download, HandoffFile, StoredFile

log = logging.getLogger(__name__)

# User agents that fetch links for someone else: link previews (facebookexternalhit, which preview fetchers such
# as Zalo's imitate, "...Preview..."), crawlers and scripts. Their requests are served like anyone's but never count
# as a receipt. Zalo's in-app browser (its UA names Zalo) is a person and must count, so "zalo" alone is no sign.
_NOT_A_PERSON = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|facebookcatalog|whatsapp|skypeuripreview|"
    r"embedly|curl|wget|python|aiohttp|httpx|go-http|java/|okhttp|headless",
    re.IGNORECASE,
)


def is_automated(user_agent: str) -> bool:
    """Whether a request with this User-Agent is a program fetching the link rather than a person's tap."""
    return not user_agent.strip() or _NOT_A_PERSON.search(user_agent) is not None


class Downloads:
    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def base_url(self) -> str:
        return evidence.base_url(self.host.settings)

    def link(self, file: OutFile) -> str:
        """A link to `file` that records, when its download button is used, the directive and cell the file was
        delivered for."""
        expires = self.host.clock.now() + timedelta(days=self.host.settings.link_days)
        return self.base_url + links.sign(
            self.host.settings.link_secret, file.sha256, file.directive_id, file.unit_id, expires
        )

    def install(self, app: web.Application) -> None:
        app.router.add_get(links.PREFIX + "{sha256}", self.landing)  # HEAD too
        app.router.add_post(links.PREFIX + "{sha256}", self.download)

    async def landing(self, request: web.Request) -> web.StreamResponse:
        """The page behind a link (an image itself); nothing is recorded."""
        found = await self._find(request)
        if isinstance(found, web.Response):
            return found
        stored, path = found
        if stored.mime.startswith("image/"):
            return web.FileResponse(path, headers={"Content-Type": stored.mime})
        page = msg.download_page(await self._name(request, stored), stored.size)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def download(self, request: web.Request) -> web.StreamResponse:
        """The download button: the file itself, and the receipt when a person pressed it."""
        found = await self._find(request)
        if isinstance(found, web.Response):
            return found
        stored, path = found
        check = self._check(request)
        user_agent = request.headers.get("User-Agent", "")
        if is_automated(user_agent):
            log.info("download of %s by a program, not counted: %r", stored.sha256[:12], user_agent[:80])
        else:
            async with transaction(self.host.sessions) as session:
                await self._record(session, stored.sha256, check.directive_id, check.unit_id)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": stored.mime,
                "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(await self._name(request, stored))}",
                "Cache-Control": "no-store",
            },
        )

    def _check(self, request: web.Request) -> links.LinkCheck:
        sha256 = request.match_info["sha256"]
        return links.verify(self.host.settings.link_secret, sha256, request.query, self.host.clock.now())

    async def _find(self, request: web.Request) -> tuple[StoredFile, Path] | web.Response:
        """The stored file a genuine, current link names, or the page that says why not."""
        check = self._check(request)
        if check.status is links.LinkStatus.TAMPERED:
            return _page(403, msg.LINK_TAMPERED_TITLE, msg.LINK_TAMPERED_BODY)
        if check.status is links.LinkStatus.EXPIRED:
            return _page(410, msg.LINK_EXPIRED_TITLE, msg.LINK_EXPIRED_BODY)
        sha256 = request.match_info["sha256"]
        path = self.host.files.path(sha256)
        async with self.host.sessions() as session:
            stored = await session.get(StoredFile, sha256)
        if stored is None or not path.exists():
            return _page(404, msg.LINK_MISSING_TITLE, msg.LINK_MISSING_BODY)
        return stored, path

    async def _name(self, request: web.Request, stored: StoredFile) -> str:
        """The name the directive the link was minted for gave the file (equal bytes may carry other names
        elsewhere), else the name it was first stored under."""
        directive_id = self._check(request).directive_id
        if directive_id is None:
            return stored.name
        async with self.host.sessions() as session:
            name = await session.scalar(
                select(DirectiveFile.name)
                .where(DirectiveFile.directive_id == directive_id, DirectiveFile.sha256 == stored.sha256)
                .limit(1)
            )
            # A file a lower unit's board added when forwarding the directive (bot.services.levels).
            name = name or await session.scalar(
                select(HandoffFile.name)
                .where(HandoffFile.directive_id == directive_id, HandoffFile.sha256 == stored.sha256)
                .limit(1)
            )
        return name or stored.name

    async def _record(
        self, session: AsyncSession, sha256: str, directive_id: int | None, unit_id: int | None
    ) -> None:
        """Log the first download of this file for this directive and cell, and count it as received."""
        if directive_id is None:
            return
        seen = await session.scalar(
            select(Download.id)
            .where(
                Download.directive_id == directive_id,
                Download.unit_id == unit_id if unit_id is not None else Download.unit_id.is_(None),
                Download.sha256 == sha256,
            )
            .limit(1)
        )
        if seen is not None:
            return
        now = self.host.clock.now()
        session.add(Download(directive_id=directive_id, unit_id=unit_id, sha256=sha256, at=now))
        if unit_id is None:
            return
        target = await session.scalar(
            select(DirectiveTarget).where(
                DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == unit_id
            )
        )
        if target is not None and target.acknowledged_at is None:
            target.acknowledged_at = now


def _page(status: int, title: str, body: str) -> web.Response:
    return web.Response(status=status, text=msg.link_page(title, body), content_type="text/html")


def _quote(name: str) -> str:
    return quote(name, safe="")
