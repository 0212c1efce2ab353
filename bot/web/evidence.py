"""The board's evidence photo page, served by the bot's web server: the photos of one cell's latest report,
opened from a signed, expiring link in an Excel export's row. No login: the signature is the permission, and
each opening of the page is recorded in the audit log as a view of the cell's report."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from aiohttp import web

from bot.core.host import Host
from bot.services import audit, evidence, links
from messages import evidence as msg
from messages import zalo as link_msg
from storage.db import transaction
from storage.models import StoredFile

log = logging.getLogger(__name__)

ROUTE = links.EVIDENCE_PREFIX + "{directive}/{unit}"
AUDIT_ACTOR = "evidence-link"


class EvidencePages:
    def __init__(self, host: Host) -> None:
        self.host = host

    def install(self, app: web.Application) -> None:
        app.router.add_get(ROUTE, self.page)
        app.router.add_get(ROUTE + "/{index}", self.photo)

    async def page(self, request: web.Request) -> web.Response:
        """The photos, each shown from the same signed link, and the opening recorded as a board view."""
        check = self._check(request)
        if not check.ok:
            return _refused(check)
        assert check.directive_id is not None and check.unit_id is not None
        async with transaction(self.host.sessions) as session:
            found = await evidence.evidence(session, check.directive_id, check.unit_id)
            if found is not None:
                await audit.audit_view(
                    session,
                    self.host.clock,
                    audit.VIEW_EVIDENCE,
                    directive_id=check.directive_id,
                    units=[check.unit_id],
                    actor=AUDIT_ACTOR,
                )
        if found is None:
            return _html(404, link_msg.link_page(msg.MISSING_TITLE, msg.MISSING_BODY))
        query = urlencode({"e": request.query["e"], "s": request.query["s"]})
        sources = [f"{request.path}/{index}?{query}" for index in range(len(found.photos))]
        return _html(200, msg.page(found.unit_name, found.number, sources))

    async def photo(self, request: web.Request) -> web.StreamResponse:
        """One photo of the page, under the page's own signature."""
        check = self._check(request)
        if not check.ok:
            return _refused(check)
        assert check.directive_id is not None and check.unit_id is not None
        async with self.host.sessions() as session:
            found = await evidence.evidence(session, check.directive_id, check.unit_id)
            index = request.match_info["index"]
            if found is None or not index.isdigit() or int(index) >= len(found.photos):
                return _html(404, link_msg.link_page(msg.MISSING_TITLE, msg.MISSING_BODY))
            stored = await session.get(StoredFile, found.photos[int(index)])
        path = self.host.files.path(stored.sha256) if stored is not None else None
        if stored is None or path is None or not path.exists() or not stored.mime.startswith("image/"):
            log.info("evidence photo %s of unit %s is not in the file store", index, check.unit_id)
            return _html(404, link_msg.link_page(link_msg.LINK_MISSING_TITLE, link_msg.LINK_MISSING_BODY))
        return web.FileResponse(path, headers={"Content-Type": stored.mime, "Cache-Control": "private"})

    def _check(self, request: web.Request) -> links.LinkCheck:
        return links.verify_evidence(
            self.host.settings.link_secret,
            request.match_info["directive"],
            request.match_info["unit"],
            request.query,
            self.host.clock.now(),
        )


def _refused(check: links.LinkCheck) -> web.Response:
    if check.status is links.LinkStatus.EXPIRED:
        return _html(410, link_msg.link_page(link_msg.LINK_EXPIRED_TITLE, msg.EXPIRED_BODY))
    return _html(403, link_msg.link_page(link_msg.LINK_TAMPERED_TITLE, msg.TAMPERED_BODY))


def _html(status: int, text: str) -> web.Response:
    return web.Response(
        status=status, text=text, content_type="text/html", headers={"Cache-Control": "no-store"}
    )
