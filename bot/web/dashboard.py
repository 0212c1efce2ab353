"""The board's web dashboard, served by the bot's own web server under /web/: sign-in by a one-time link, the
overview of the directives followed, a directive's page (cells and their state, the cells still missing with a
nudge, Excel and Word downloads). Every page and action runs as the signed-in member, within the scope of their
board roles (the same `status.scope_of` the chat commands use), calls the same services as the chat handlers,
and is written to the audit log. Forms carry the session's CSRF token; the session cookie is HttpOnly,
SameSite=Lax, and Secure when the public URL is https."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.host import Host
from bot.services import (
    audit,
    board_files,
    evidence,
    levels,
    links,
    proxy_entry,
    reach,
    reminders,
    rollup,
    status,
    web_access,
)
from bot.services import review as review_service
from bot.services import summary as summary_service
from bot.services.forms import FormSpec
from bot.services.forms_store import get_form
from bot.services.report_data import PROXY_CHANNEL, REPORTED_STATUSES, UnitStatus
from bot.web import pages
from handlers import report_number
from messages import web as msg
from storage.db import transaction
from storage.models import Directive, Person, Report, Unit

log = logging.getLogger(__name__)

PREFIX = "/web"
COOKIE = "chibo_web"
WAKE = web.RequestKey("chibo.wake_sender", bool)
PER_PAGE = 200
DIRECTIVES_PER_PAGE = 10
EVIDENCE_LINK_LIFE = timedelta(hours=1)  # the photo page opened from a report's page
MISSING_SHOWN = 50
PROGRESS_SECONDS = 5  # how often a directive's open page fetches its progress block
# The two sources of a directive handed down, as the download links name them (bot/services/rollup.py).
SOURCES = {"cap-duoi": rollup.BELOW, "chi-bo": rollup.CELLS}
FILTERS = (
    "missing",
    "reported",
    "reported_late",
    "acknowledged",
    "delivered",
    "pending",
    "blocked",
    "unregistered",
)

# What a page answers: a response, or work producing one once its transaction has committed (a file built from
# the database: on SQLite the bot has a single connection, and a long build must not hold the write lock).
Later = Callable[[], Awaitable[web.StreamResponse]]
Page = Callable[
    [web.Request, AsyncSession, web_access.Visitor, status.Scope], Awaitable[web.StreamResponse | Later]
]


class Dashboard:
    def __init__(self, host: Host) -> None:
        self.host = host

    def install(self, app: web.Application) -> None:
        r = app.router
        r.add_get(web_access.LOGIN_PATH, self.login_page)
        r.add_post(web_access.LOGIN_PATH, self.login)
        r.add_post(PREFIX + "/dang-xuat", self.signed_in(self.logout, post=True))
        r.add_get(PREFIX + "/phien", self.signed_in(self.sessions_page))
        r.add_post(PREFIX + "/phien/khac/ket-thuc", self.signed_in(self.end_others, post=True))
        r.add_post(PREFIX + "/phien/{sid}/ket-thuc", self.signed_in(self.end_session, post=True))
        r.add_get(PREFIX + "/", self.signed_in(self.overview))
        r.add_get(PREFIX, self.home)
        r.add_get(PREFIX + "/tong-hop", self.signed_in(self.summary_page))
        r.add_get(PREFIX + "/tong-hop/bieu-do.png", self.signed_in(self.summary_chart))
        r.add_get(PREFIX + "/van-ban/{id}", self.signed_in(self.directive_page))
        r.add_get(PREFIX + "/van-ban/{id}/tien-do", self.signed_in(self.progress))
        r.add_post(PREFIX + "/van-ban/{id}/nhac", self.signed_in(self.nudge, post=True))
        r.add_get(PREFIX + "/van-ban/{id}/cap-duoi/{unit}", self.signed_in(self.below_page))
        r.add_get(PREFIX + "/van-ban/{id}/chi-bo/{unit}", self.signed_in(self.report_page))
        r.add_post(PREFIX + "/van-ban/{id}/chi-bo/{unit}/duyet", self.signed_in(self.review, post=True))
        r.add_get(PREFIX + "/van-ban/{id}/chi-bo/{unit}/nhap-ho", self.signed_in(self.proxy_page))
        r.add_post(
            PREFIX + "/van-ban/{id}/chi-bo/{unit}/nhap-ho", self.signed_in(self.proxy_entry, post=True)
        )
        r.add_get(PREFIX + "/van-ban/{id}/excel", self.signed_in(self.excel))
        r.add_get(PREFIX + "/van-ban/{id}/word", self.signed_in(self.word))
        r.add_static(PREFIX + "/static", pages.STATIC_DIR)

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    # --- signing in and out ---------------------------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.Response:
        """The link's landing page: a button, so a link preview or a crawler never spends the link."""
        token = request.query.get("t", "")
        async with self.host.sessions() as session:
            usable = await web_access.link_is_usable(session, self.host.clock, token)
        if not usable:
            return pages.message(410, msg.LOGIN_BAD_TITLE, msg.LOGIN_BAD_BODY)
        return pages.render("login.html", token=token, who=None)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = str(form.get("t", ""))
        actor = f"web:{request.remote or ''}"
        async with transaction(self.host.sessions) as session:
            opened = await web_access.redeem(
                session, self.host.clock, token, actor, request.headers.get("User-Agent", "")
            )
        if opened is None:
            log.info("web sign-in refused: unknown, used or expired link")
            return pages.message(410, msg.LOGIN_BAD_TITLE, msg.LOGIN_BAD_BODY)
        response = web.Response(status=303, headers={"Location": PREFIX + "/", "Cache-Control": "no-store"})
        response.set_cookie(
            COOKIE,
            opened.key,
            max_age=opened.expires_in,
            path=PREFIX,
            httponly=True,
            secure=(self.host.settings.public_url or "").startswith("https://"),
            samesite="Lax",
        )
        return response

    async def logout(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        await web_access.sign_out(session, self.host.clock, who)
        response = pages.message(200, msg.SIGNED_OUT_TITLE, msg.SIGNED_OUT_BODY)
        response.del_cookie(COOKIE, path=PREFIX)
        return response

    async def sessions_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        return await self._sessions(session, who, notice=[])

    async def _sessions(
        self, session: AsyncSession, who: web_access.Visitor, notice: list[str]
    ) -> web.StreamResponse:
        """The member's open browser sessions: which browser, since when, last used."""
        opened = await web_access.open_sessions(session, self.host.clock, who.person.id)
        return pages.render(
            "sessions.html", who=who, sessions=opened, tz=self.host.settings.tz, notice=notice
        )

    async def end_session(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        ended = await web_access.end_session(
            session, self.host.clock, who, _int(request.match_info["sid"], 0)
        )
        if not ended:
            return _not_found()
        if _int(request.match_info["sid"], 0) == who.session_id:  # this browser: signed out
            response = pages.message(200, msg.SIGNED_OUT_TITLE, msg.SIGNED_OUT_BODY)
            response.del_cookie(COOKIE, path=PREFIX)
            return response
        return await self._sessions(session, who, [msg.SESSION_ENDED])

    async def end_others(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        count = await web_access.end_other_sessions(session, self.host.clock, who)
        return await self._sessions(session, who, [msg.OTHERS_ENDED.format(count=count)])

    def signed_in(
        self, page: Page, *, post: bool = False
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """`page` run for the signed-in member within their scope, in one transaction; a POST must carry the
        session's CSRF token."""

        async def handler(request: web.Request) -> web.StreamResponse:
            form = await request.post() if post else None
            async with transaction(self.host.sessions) as session:
                who = await web_access.visitor(session, self.host.clock, request.cookies.get(COOKIE, ""))
                if who is None:
                    return pages.message(401, msg.NEED_SIGN_IN_TITLE, msg.NEED_SIGN_IN_BODY)
                if form is not None and not hmac.compare_digest(str(form.get("csrf", "")), who.csrf):
                    log.info("web form refused: CSRF token missing or wrong (person %s)", who.person.id)
                    return pages.message(403, msg.FORBIDDEN_TITLE, msg.FORBIDDEN_BODY)
                scope = await status.scope_of(session, who.roles)
                response = await page(request, session, who, scope)
            if request.get(WAKE):  # reminders were queued: the sender sees them once committed
                self.host.sender.wake()
            return response if isinstance(response, web.StreamResponse) else await response()

        return handler

    # --- pages ----------------------------------------------------------------------------------------------

    async def _audited(
        self,
        session: AsyncSession,
        who: web_access.Visitor,
        kind: str,
        *,
        units: list[int] | None,
        directive_id: int | None = None,
    ) -> None:
        """Record in the audit log what the member saw or downloaded (as the chat's board views are)."""
        await audit.audit_view(
            session,
            self.host.clock,
            kind,
            directive_id=directive_id,
            units=units,
            person_id=who.person.id,
            actor=who.actor,
        )

    async def overview(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        listed = await status.open_directives(session, scope, self.today())
        # As the chat's list: a re-issue below of a directive listed here is counted in that one's card.
        families = await status.families(session, [d.id for d in listed])
        directives = [d for d in listed if d.id in families]
        pages_count = max(1, -(-len(directives) // DIRECTIVES_PER_PAGE))
        page = min(max(1, _int(request.query.get("trang", "1"), 1)), pages_count)
        shown = directives[(page - 1) * DIRECTIVES_PER_PAGE : page * DIRECTIVES_PER_PAGE]
        # Counted for the page shown only: a province follows a hundred directives of 10,000 cells each.
        progress = await status.family_progress(session, scope, {d.id: families[d.id] for d in shown})
        await self._audited(session, who, audit.VIEW_STATUS, units=_units(scope))
        return pages.render(
            "overview.html",
            who=who,
            scope=scope,
            items=[(d, progress[d.id]) for d in shown],
            page=page,
            pages=pages_count,
            query=lambda **changes: _query(request, changes),
        )

    async def summary_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        """The day's summary, the same as /tonghop, with its chart."""
        built = await summary_service.build_summary(
            session, scope, self.host.clock.now(), self.host.settings.tz
        )
        await self._audited(session, who, audit.VIEW_SUMMARY, units=_units(scope))
        return pages.render(
            "summary.html", who=who, text=summary_service.render(built), has_chart=bool(built.chart_rows)
        )

    async def summary_chart(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        built = await summary_service.build_summary(
            session, scope, self.host.clock.now(), self.host.settings.tz
        )
        png = await summary_service.chart(built)
        if png is None:
            return _not_found()
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})

    async def directive_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        return await self._show(request, session, who, scope, directive, notice=_route_said(request))

    async def _show(
        self,
        request: web.Request,
        session: AsyncSession,
        who: web_access.Visitor,
        scope: status.Scope,
        directive: Directive,
        notice: list[str],
    ) -> web.StreamResponse:
        shown_filter = request.query.get("loc", "")
        shown_filter = shown_filter if shown_filter in FILTERS else ""
        statuses = _statuses(shown_filter)
        total = await status.count_units(session, scope, directive.id, statuses)
        pages_count = max(1, -(-total // PER_PAGE))
        page = min(max(1, _int(request.query.get("trang", "1"), 1)), pages_count)
        rows = await status.unit_rows(
            session, scope, directive.id, statuses=statuses, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        shown = len(rows)
        # The reports of cells merged since into another follow the targets on the last page, as in the Excel
        # («… (nay là …)»), and as there they are not counted as cells again.
        merged = await status.merged_reports(session, scope, directive.id, statuses)
        if page == pages_count:
            rows += merged
        # As /tinhhinh: the figures of a directive handed down count the whole family (the re-issues below at every
        # level); the missing cells and the nudge stay the board's own cells.
        ids = await status.family(session, directive.id)
        progress = (await status.family_progress(session, scope, {directive.id: ids}))[directive.id]
        subtrees = await status.counts_by_subtree(session, scope, ids)
        missing = await status.missing_units(session, scope, directive.id, per_page=MISSING_SHOWN)
        below = await rollup.units_below(session, scope, directive.id)
        await self._audited(session, who, audit.VIEW_STATUS, directive_id=directive.id, units=_units(scope))
        return pages.render(
            "directive.html",
            below=below,
            default_source=await rollup.source_by_default(session, directive, below) if below else None,
            sources=SOURCES,
            refresh_seconds=PROGRESS_SECONDS,
            who=who,
            scope=scope,
            d=directive,
            progress=progress,
            subtrees=subtrees,
            missing=missing,
            rows=rows,
            shown=shown,
            merged=len(merged),
            total=total,
            page=page,
            pages=pages_count,
            shown_filter=shown_filter,
            filters=FILTERS,
            tz=self.host.settings.tz,
            notice=notice,
            query=lambda **changes: _query(request, changes),
        )

    async def progress(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        """The directive page's progress block alone, fetched by the page every few seconds (static/live.js).
        Not audited: the page that polls it was, and a poll every few seconds would drown the log."""
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        ids = await status.family(session, directive.id)
        progress = (await status.family_progress(session, scope, {directive.id: ids}))[directive.id]
        return pages.render("_progress.html", counts=progress.counts)

    async def nudge(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        """The same reminders /nhacnho sends, to every cell in scope still missing."""
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        done = await reminders.nudge(session, self.host.clock, self.host.settings.tz, scope, directive)
        await audit.audit(
            session,
            self.host.clock,
            "web.nudge",
            person_id=who.person.id,
            actor=who.actor,
            details={"directive": directive.id, "sent": done.sent, "already": done.already},
        )
        notice = []
        if done.missing == 0:
            notice.append(msg.NUDGE_NOTHING)
        elif done.sent and done.held_until is not None:
            held = done.held_until.astimezone(self.host.settings.tz).strftime("%H:%M")
            notice.append(msg.NUDGE_DEFERRED.format(count=done.sent, time=held))
        elif done.sent:
            notice.append(msg.NUDGE_SENT.format(count=done.sent))
        if done.already:
            notice.append(msg.NUDGE_ALREADY.format(count=done.already))
        if done.unreachable:
            notice.append(msg.NUDGE_UNREACHABLE.format(count=len(done.unreachable)))
        request[WAKE] = bool(done.sent)
        return await self._show(request, session, who, scope, directive, notice)

    async def below_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        """One unit below, drilled down into (the chat's «tình hình 747 X-TP»): what its board did, its report
        upward, and its cells' state on what they reported on (its re-issue, or the directive it forwarded)."""
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        found = await rollup.drill(session, scope, directive, _int(request.match_info["unit"], 0))
        if found is None:
            return _not_found()
        shown = []
        for source in found.sources:
            counts = await status.counts_by_directive(session, found.within, [source.id])
            rows = await status.unit_rows(session, found.within, source.id, limit=PER_PAGE)
            shown.append((source, counts[source.id], rows))
        await self._audited(
            session, who, audit.VIEW_STATUS, directive_id=directive.id, units=[found.row.unit.id]
        )
        return pages.render(
            "below.html", who=who, d=directive, row=found.row, shown=shown, tz=self.host.settings.tz
        )

    async def report_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        return await self._report(request, session, who, scope, notice=[])

    async def _report(
        self,
        request: web.Request,
        session: AsyncSession,
        who: web_access.Visitor,
        scope: status.Scope,
        notice: list[str],
        status_code: int = 200,
    ) -> web.StreamResponse:
        """One cell's report: every version with its answers and photos, who entered it, its review."""
        found = await self._latest_report(request, session, scope)
        if found is None:
            return _not_found()
        directive, unit_id, latest = found
        unit = await session.get(Unit, unit_id)
        versions = (
            await session.scalars(
                select(Report)
                .where(Report.directive_id == directive.id, Report.unit_id == unit_id)
                .order_by(Report.version.desc())
            )
        ).all()
        entered_by = {
            p.id: p.full_name
            for p in await session.scalars(
                select(Person).where(Person.id.in_({v.person_id for v in versions if v.person_id}))
            )
        }
        form = await get_form(session, directive.form_key)
        await self._audited(session, who, audit.VIEW_STATUS, directive_id=directive.id, units=[unit_id])
        return pages.render(
            "report.html",
            status_code,
            who=who,
            d=directive,
            unit=unit,
            versions=versions,
            latest=latest,
            review=review_service.review_of(latest),
            entered_by=entered_by,
            fields=form.fields if form is not None else [],
            proxy=PROXY_CHANNEL,
            tz=self.host.settings.tz,
            notice=notice,
            photos=len(evidence.photos_of(latest.values, [f.key for f in form.photo_fields] if form else [])),
            photo_page=links.sign_evidence(
                self.host.settings.link_secret,
                directive.id,
                unit_id,
                self.host.clock.now() + EVIDENCE_LINK_LIFE,
            ),
        )

    async def review(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        """Accept the latest version, or return it for correction with a comment the secretary gets in chat."""
        found = await self._latest_report(request, session, scope)
        if found is None:
            return _not_found()
        directive, _, latest = found
        form = await request.post()
        accept = form.get("action") == "accept"
        comment = str(form.get("comment", "")).strip()
        if not accept and not comment:
            return await self._report(request, session, who, scope, [msg.RETURN_NEEDS_COMMENT], 400)
        await review_service.review(
            session,
            self.host.clock,
            latest,
            directive,
            who.person,
            accept=accept,
            comment=comment,
            actor=who.actor,
        )
        request[WAKE] = not accept
        return await self._report(
            request, session, who, scope, [msg.ACCEPTED_DONE if accept else msg.RETURNED_DONE]
        )

    async def proxy_page(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        return await self._proxy_form(request, session, who, scope, {}, {})

    async def _proxy_form(
        self,
        request: web.Request,
        session: AsyncSession,
        who: web_access.Visitor,
        scope: status.Scope,
        answers: dict[str, str],
        refused: dict[str, str],
    ) -> web.StreamResponse:
        """The cell's report form, to fill in from what its secretary said on the phone."""
        found = await self._proxy_target(request, session, scope)
        if found is None:
            return _not_found()
        directive, unit, form = found
        return pages.render(
            "proxy.html",
            400 if refused else 200,
            who=who,
            d=directive,
            unit=unit,
            fields=proxy_entry.proxy_fields(form),
            answers=answers,
            refused=refused,
        )

    async def proxy_entry(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse:
        found = await self._proxy_target(request, session, scope)
        if found is None:
            return _not_found()
        directive, unit, form = found
        posted = await request.post()
        answers = {spec.key: str(posted.get(spec.key, ""))[:2000] for spec in form.fields}
        values, refused = proxy_entry.read_answers(form, answers, self.today())
        if refused:
            return await self._proxy_form(request, session, who, scope, answers, refused)
        await proxy_entry.enter(
            session, self.host.clock, self.host.settings.tz, directive, unit.id, values, who.person, who.actor
        )
        return await self._report(request, session, who, scope, [msg.PROXY_DONE])

    async def _proxy_target(
        self, request: web.Request, session: AsyncSession, scope: status.Scope
    ) -> tuple[Directive, Unit, FormSpec] | None:
        directive = await self._directive(request, session, scope)
        unit_id = _int(request.match_info["unit"], 0)
        if directive is None or not await proxy_entry.is_target_in_scope(
            session, scope, directive.id, unit_id
        ):
            return None
        unit = await session.get(Unit, unit_id)
        form = await get_form(session, directive.form_key)
        return (directive, unit, form) if unit is not None and form is not None else None

    async def excel(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse | Later:
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        today = self.today()
        data = await rollup.report_data(
            session, scope, directive, today, self.host.settings.timezone, source=_source(request)
        )
        await self._audited(session, who, audit.EXPORT_XLSX, directive_id=directive.id, units=_units(scope))
        link = evidence.link_maker(self.host.settings, self.host.clock.now(), directive.id)
        built = await asyncio.to_thread(board_files.render, board_files.XLSX, data, directive, today, link)
        return _attachment(built)

    async def word(
        self, request: web.Request, session: AsyncSession, who: web_access.Visitor, scope: status.Scope
    ) -> web.StreamResponse | Later:
        directive = await self._directive(request, session, scope)
        if directive is None:
            return _not_found()
        await self._audited(session, who, audit.EXPORT_DOCX, directive_id=directive.id, units=_units(scope))
        return lambda: self._word(scope, directive.id, _source(request))

    async def _word(self, scope: status.Scope, directive_id: int, source: str | None) -> web.StreamResponse:
        """The same draft /baocao sends, with the register's number when one was taken."""
        draft = await report_number.build_draft(self.host, scope, directive_id, self.today(), source=source)
        return _attachment(draft.file) if draft.file is not None else _not_found()

    # --- helpers --------------------------------------------------------------------------------------------

    async def _latest_report(
        self, request: web.Request, session: AsyncSession, scope: status.Scope
    ) -> tuple[Directive, int, Report] | None:
        """The directive and cell the address names, with the cell's latest report; None when out of scope."""
        directive = await self._directive(request, session, scope)
        unit_id = _int(request.match_info["unit"], 0)
        if directive is None:
            return None
        latest = await review_service.latest_in_scope(session, scope, directive.id, unit_id)
        return (directive, unit_id, latest) if latest is not None else None

    async def _directive(
        self, request: web.Request, session: AsyncSession, scope: status.Scope
    ) -> Directive | None:
        directive_id = _int(request.match_info["id"], 0)
        if directive_id <= 0 or scope.empty:
            return None
        return await status.directive_in_scope(session, scope, directive_id)

    def today(self) -> date:
        return self.host.clock.now().astimezone(self.host.settings.tz).date()


def _units(scope: status.Scope) -> list[int] | None:
    return None if scope.everything else [root.id for root in scope.roots]


def _source(request: web.Request) -> str | None:
    """Where a directive handed down is aggregated from, as its download link says (None: the default)."""
    return SOURCES.get(request.query.get("nguon", ""))


def _statuses(shown: str) -> tuple[str, ...]:
    """The unit states a filter of the table keeps ("missing": every state short of a report)."""
    if shown == "missing":
        return tuple(s for s in UnitStatus if s not in REPORTED_STATUSES)
    return (shown,) if shown else ()


ROUTE_KEY = "tuyen"  # the query naming how a send just made went (the page after the browser's send)


def route_query(route: levels.Route | None) -> str:
    """How a send went, for the page the browser lands on after it: its counts in the address, "" when every cell
    went directly (nothing to say, as in the chat). Only numbers travel: the page words them itself."""
    if route is None or route.only_direct:
        return ""
    counts = (route.direct, route.handed, route.boards, route.waiting, route.waiting_units)
    held = "g" if route.choice is levels.Unstaffed.HOLD else ""
    return f"?{ROUTE_KEY}=" + "-".join(map(str, counts)) + held


def _route_said(request: web.Request) -> list[str]:
    """The route line of the send that led here (`route_query`); nothing for an address edited by hand."""
    text = request.query.get(ROUTE_KEY, "")
    held = text.endswith("g")
    parts = text.removesuffix("g").split("-")
    if len(parts) != 5 or not all(p.isdigit() and len(p) < 7 for p in parts):
        return []
    direct, handed, boards, waiting, units = map(int, parts)
    choice = levels.Unstaffed.HOLD if held else None
    line = reach.describe_route(levels.Route(direct, handed, boards, waiting, units, choice))
    return [line] if line else []


def _int(text: str, default: int) -> int:
    return int(text) if text.isdigit() and len(text) < 10 else default


def _query(request: web.Request, changes: dict[str, object]) -> str:
    values = {k: v for k, v in request.query.items() if k in ("loc", "trang")}
    values.update({k: str(v) for k, v in changes.items()})
    return "?" + "&".join(f"{k}={quote(v)}" for k, v in values.items() if v)


def _not_found() -> web.Response:
    return pages.message(404, msg.NOT_FOUND_TITLE, msg.NOT_FOUND_BODY)


def _attachment(file: board_files.BoardFile) -> web.Response:
    return web.Response(
        body=file.content,
        headers={
            "Content-Type": file.mime,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.name)}",
            "Cache-Control": "no-store",
        },
    )
