"""Signed, expiring download links for stored files, for channels that cannot send files (Zalo): minting them as
the outbox delivers, and serving them from the bot's web server. A download counts as the cell having received
the directive."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import OutFile
from bot.core.host import Host
from bot.services import links
from messages import zalo as msg
from storage.db import transaction
from storage.models import DirectiveTarget, Download, StoredFile


class Downloads:
    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def base_url(self) -> str:
        s = self.host.settings
        return (s.public_url or f"http://{_reachable(s.listen_host)}:{s.listen_port}").rstrip("/")

    def link(self, file: OutFile) -> str:
        """A link to `file` that records, when followed, the directive and cell the file was delivered for."""
        expires = self.host.clock.now() + timedelta(days=self.host.settings.link_days)
        return self.base_url + links.sign(
            self.host.settings.link_secret, file.sha256, file.directive_id, file.unit_id, expires
        )

    def install(self, app: web.Application) -> None:
        app.router.add_get(links.PREFIX + "{sha256}", self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        sha256 = request.match_info["sha256"]
        check = links.verify(self.host.settings.link_secret, sha256, request.query, self.host.clock.now())
        if check.status is links.LinkStatus.TAMPERED:
            return _page(403, msg.LINK_TAMPERED_TITLE, msg.LINK_TAMPERED_BODY)
        if check.status is links.LinkStatus.EXPIRED:
            return _page(410, msg.LINK_EXPIRED_TITLE, msg.LINK_EXPIRED_BODY)
        path = self.host.files.path(sha256)
        async with transaction(self.host.sessions) as session:
            stored = await session.get(StoredFile, sha256)
            if stored is None or not path.exists():
                return _page(404, msg.LINK_MISSING_TITLE, msg.LINK_MISSING_BODY)
            await self._record(session, sha256, check.directive_id, check.unit_id)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": stored.mime,
                "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(stored.name)}",
            },
        )

    async def _record(
        self, session: AsyncSession, sha256: str, directive_id: int | None, unit_id: int | None
    ) -> None:
        now = self.host.clock.now()
        if directive_id is None:
            return
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


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
