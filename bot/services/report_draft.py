"""The Word report's letterhead facts joined to a directive's figures: the number from the document register
(proposed, or recorded once the board confirmed it), the signer and the upper body from the settings. The bot and
the command line build their drafts through here, so both show the same number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.services import cycles, doc_register, rollup, status
from bot.services.report_data import ReportData, Signature
from storage.models import Directive


def register_key(directive: Directive, settings: Settings, today: date) -> doc_register.Key:
    """Where the report on `directive` is numbered: under the directive's issuer symbol, as a báo cáo, this term."""
    issuer = (directive.issuer_code or "").strip()
    return doc_register.Key(issuer, doc_register.REPORT, doc_register.term_of(settings.party_term, today))


def with_letterhead(data: ReportData, settings: Settings, number: str) -> ReportData:
    """The data with its number and the settings' signer and upper body; a signer the settings leave out keeps the
    directive's authority line and gets placeholders."""
    signature = Signature(
        authority=settings.report_signer_authority.strip() or data.signature.authority,
        title=settings.report_signer_title.strip(),
        name=settings.report_signer_name.strip(),
    )
    return replace(data, signature=signature, number=number, report_to=settings.report_to.strip())


async def draft(
    session: AsyncSession,
    scope: status.Scope,
    directive: Directive,
    today: date,
    settings: Settings,
    period: cycles.Cycle | None = None,
    source: str | None = None,
    also: Sequence[int] = (),
) -> tuple[ReportData, doc_register.Numbered | None]:
    """The report's data with its letterhead, and the number it shows (recorded, or proposed); a directive without
    an issuer code has no register to number in, so its draft keeps the gap for the clerk (and None). A directive
    handed down to units below is aggregated from `source` (`rollup.CELLS` or `rollup.BELOW`; None: the default);
    `also`: the other directives the report answers for (`rollup.report_data`)."""
    # A recurring directive is reported on per period: by default the last one closed.
    period = period or await cycles.last_closed(session, directive)
    data = await rollup.report_data(
        session, scope, directive, today, settings.timezone, source=source, period=period, also=also
    )
    key = register_key(directive, settings, today)
    if not key.issuer_code:
        return with_letterhead(data, settings, ""), None
    numbered = await doc_register.for_draft(session, key, directive.id)
    return with_letterhead(data, settings, numbered.text), numbered
