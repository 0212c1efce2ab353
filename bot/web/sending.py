"""Sending a directive from the browser: upload a DOCX, PDF or scan, read by the same bounded reader as a file
sent in chat (`reading.read_document`, refusing classified documents the same way), shown as a preview whose fields
can be corrected, then the deadline confirmed, the form and the units chosen within the member's scope, and sent by
`repeats.send_as` as the chat sends it (handed to the boards of the units below, and asking what to do for units
whose board has not joined); the browser then follows the directive's page, which refreshes itself while sending."""

from __future__ import annotations

import logging
from datetime import date

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit, directives, levels, reach, reading, repeats, status, web_access
from bot.services.files import FileTooLarge
from bot.services.forms import FormSpec
from bot.services.forms_store import DEFAULT_FORM, get_form, list_forms
from bot.services.secrecy import secrecy_grade
from bot.web import pages
from bot.web.dashboard import PREFIX, WAKE, Dashboard, route_query
from messages import directives as intake_msg
from messages import web as msg
from storage.models import Directive, DirectiveStatus, Unit

log = logging.getLogger(__name__)

EDITABLE = ("number", "subject", "issuer", "parent_body")


class Sending:
    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.host = dashboard.host

    def install(self, app: web.Application) -> None:
        on = self.dashboard.signed_in
        app.router.add_get(PREFIX + "/gui", on(self.upload_page))
        app.router.add_post(PREFIX + "/gui", on(self.upload, post=True))
        app.router.add_get(PREFIX + "/gui/{id}", on(self.preview))
        app.router.add_post(PREFIX + "/gui/{id}", on(self.send, post=True))

    async def upload_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        return pages.render("upload.html", who=who, problem="")

    async def upload(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or scope.empty:
            return pages.render("upload.html", 400, who=who, problem=msg.UPLOAD_MISSING)
        data, name = upload.file.read(), upload.filename or "van-ban"
        today = self.dashboard.today()
        read = await reading.read_document(
            data, name, upload.content_type, today=today, tesseract=self.host.settings.tesseract_cmd
        )
        if isinstance(read, reading.Refusal):
            return pages.render("upload.html", 400, who=who, problem=read.message)
        grade = secrecy_grade(read.text)
        if grade is not None:
            return pages.render(
                "upload.html", 400, who=who, problem=intake_msg.CLASSIFIED.format(grade=grade)
            )
        try:
            stored = await self.host.files.save(session, self.host.clock, data, name, upload.content_type)
        except FileTooLarge as exc:
            limit = self.host.settings.max_file_mb
            problem = intake_msg.FILE_TOO_LARGE.format(
                name=name, size=round(exc.size / 1048576, 1), limit=limit
            )
            return pages.render("upload.html", 400, who=who, problem=problem)
        draft = await directives.new_draft(
            session,
            self.host.clock,
            read.meta,
            form_key=DEFAULT_FORM,
            created_by=who.person.id,
            unit_id=scope.roots[0].id,
        )
        await directives.attach(session, draft.id, stored)
        await audit.audit(
            session,
            self.host.clock,
            "directive.draft",
            person_id=who.person.id,
            actor=who.actor,
            details={"directive_id": draft.id, "file": name},
        )
        return _see_other(f"{PREFIX}/gui/{draft.id}")

    async def preview(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        draft = await self._draft(request, session, who)
        if draft is None:
            return pages.message(404, msg.NOT_FOUND_TITLE, msg.NOT_FOUND_BODY)
        return await self._preview(session, who, scope, draft, problem="")

    async def _preview(
        self,
        session: AsyncSession,
        who: web_access.Visitor,
        scope: status.Scope,
        draft: Directive,
        problem: str,
        earlier: list[Directive] | None = None,
        picked: set[int] | None = None,
        codes: str = "",
        unstaffed: list[Unit] | None = None,
        repeat: str = "",
        outlook: str = "",
    ) -> web.StreamResponse:
        """The preview form; with `earlier`, the directives it repeats and the three choices the chat offers; with
        `unstaffed`, the units whose board has not joined and the two choices for them (`repeat`: as chosen);
        `outlook`: how the picked cells would go and what it costs (`reach.describe_outlook`)."""
        shown = (earlier or [])[: repeats.MAX_SHOWN]
        counts = await status.counts_by_directive(session, scope, [d.id for d in shown]) if shown else {}
        units = []
        for root in scope.roots:
            unit = await session.get(Unit, root.id)
            if unit is None:
                continue
            units.append((unit, len(await directives.cells_under(session, [unit])), 0))
            units += [
                (child, count, 1)
                for child, count in await directives.children_with_cell_counts(session, unit)
            ]
        return pages.render(
            "preview.html",
            400 if problem else 200,
            who=who,
            d=draft,
            fields=directives.preview_fields(draft),
            forms=await list_forms(session),
            units=units,
            problem=problem,
            labels=intake_msg.FIELD_LABELS,
            repeated=[(d, counts[d.id]) for d in shown],
            repeat_found=intake_msg.REPEAT_FOUND.format(
                number=draft.number or "", date=intake_msg.day(draft.issued_on), count=len(earlier or [])
            ),
            picked=picked or set(),
            codes=codes,
            unstaffed=unstaffed or [],
            repeat=repeat,
            outlook=outlook,
        )

    async def send(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        draft = await self._draft(request, session, who)
        if draft is None:
            return pages.message(404, msg.NOT_FOUND_TITLE, msg.NOT_FOUND_BODY)
        posted = await request.post()
        for key in EDITABLE:
            value = " ".join(str(posted.get(key, "")).split())[:500]
            if value:
                setattr(draft, key, value)
        try:
            deadline = date.fromisoformat(str(posted.get("deadline", "")))
        except ValueError:
            return await self._preview(session, who, scope, draft, msg.SEND_NEEDS_DEADLINE)
        if directives.deadline_passed(deadline, self.dashboard.today()):
            return await self._preview(session, who, scope, draft, msg.SEND_DEADLINE_PASSED)
        form = await get_form(session, str(posted.get("form", "")))
        if form is None:
            return await self._preview(session, who, scope, draft, msg.SEND_NEEDS_FORM)
        chosen = [int(str(v)) for v in posted.getall("unit", []) if str(v).isdigit()]
        roots = [r.path for r in scope.roots]
        picked = [
            u
            for u in (await session.scalars(select(Unit).where(Unit.id.in_(chosen)))).all()
            if any(u.path.startswith(path) for path in roots)
        ]
        typed = str(posted.get("codes", ""))
        by_code, unknown = await directives.units_by_codes(
            session, directives.split_codes(typed), await directives.scope_units(session, who.roles)
        )
        if unknown:
            problem = msg.SEND_UNKNOWN_CODES.format(codes=", ".join(unknown))
            return await self._preview(
                session, who, scope, draft, problem, picked={u.id for u in picked}, codes=typed
            )
        picked += by_code
        cells = await directives.cells_under(session, picked)
        if not cells:
            return await self._preview(session, who, scope, draft, msg.SEND_NEEDS_UNITS)
        directives.confirm_deadline(draft, deadline)
        draft.form_key = form.key
        marked = {u.id for u in picked}
        if posted.get("check"):  # how it would go, as the chat says before «Gửi ngay»; nothing sent
            said = await self._outlook(session, draft, cells, form)
            return await self._preview(session, who, scope, draft, "", None, marked, typed, outlook=said)
        # The chat's and the CLI's rule: a repeat of a directive already sent goes out only as the board chose.
        earlier = await status.repeats_of(session, scope, draft)
        choice = repeats.parse_choice(str(posted.get("repeat", "")), earlier) if earlier else None
        if earlier and choice is None:
            return await self._preview(session, who, scope, draft, "", earlier, marked)
        how = levels.choice_of(str(posted.get("unstaffed", "")))
        if repeats.broadcasts(choice) and how is None:
            waiting = await levels.unstaffed(session, draft, cells)
            if waiting:
                repeat = str(posted.get("repeat", ""))
                said = await self._outlook(session, draft, cells, form)
                return await self._preview(
                    session, who, scope, draft, "", None, marked, typed, waiting, repeat, said
                )
        down, watched = await repeats.send_as(
            session,
            self.host.clock,
            draft,
            cells,
            form,
            choice,
            actor=who.actor,
            person_id=who.person.id,
            unstaffed=how or levels.Unstaffed.DIRECT,
        )
        request[WAKE] = True
        return _see_other(f"{PREFIX}/van-ban/{watched.id}{route_query(down.route)}")

    async def _outlook(
        self, session: AsyncSession, draft: Directive, cells: list[int], form: FormSpec
    ) -> str:
        """How the cells would go (directly, through the boards below, held) and what it costs, in words."""
        seen = await reach.outlook(session, self.host.clock, self.host.channels, draft, cells, form)
        return reach.describe_outlook(seen)

    async def _draft(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor
    ) -> Directive | None:
        """The member's own draft, still unsent."""
        text = request.match_info["id"]
        draft = await session.get(Directive, int(text)) if text.isdigit() and len(text) < 10 else None
        if draft is None or draft.status != DirectiveStatus.DRAFT or draft.created_by != who.person.id:
            return None
        return draft


def _see_other(location: str) -> web.Response:
    # Returned, not raised: an exception would roll the page's transaction back.
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
