"""`chibo invite`: issue, list or replace invites, as a table, CSV, XLSX or printable QR cards."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.events import ChannelName
from bot.services import invites as invite_service
from bot.services.phones import normalize_phone
from messages import cli as msg
from messages.registration import ROLE_NAMES
from storage.models import Unit

if TYPE_CHECKING:
    pass

from bot.cli.common import CliError, app, console, with_db

# -- invite ----------------------------------------------------------------------------------------------------


@app.command()
def invite(
    unit: Annotated[str | None, typer.Option(help="Only this unit")] = None,
    subtree: Annotated[str | None, typer.Option(help="Every unit under this one (included)")] = None,
    pending: Annotated[bool, typer.Option(help="Only people who have not joined yet")] = False,
    role: Annotated[str, typer.Option(help="secretary, board or admin")] = "secretary",
    phone: Annotated[str | None, typer.Option(help="Only the person with this phone")] = None,
    days: Annotated[int | None, typer.Option(help="Days until the invites expire")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or xlsx")] = "table",
    out: Annotated[Path | None, typer.Option(help="File to write (csv/xlsx)")] = None,
    qr: Annotated[Path | None, typer.Option(help="Folder to write one QR-code PNG per invite")] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="Show who holds a valid unused invite; issue nothing")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Also re-issue for people holding a valid invite, revoking it")
    ] = False,
) -> None:
    """Issue invites to people without a valid one (--replace: to them too, revoking theirs); --list shows them."""
    if fmt not in ("table", "csv", "xlsx"):
        console.print(msg.BAD_FORMAT, markup=False)
        raise typer.Exit(2)
    if role not in ("secretary", "board", "admin"):
        console.print(msg.BAD_ROLE, markup=False)
        raise typer.Exit(2)
    wanted_phone = normalize_phone(phone) if phone else None

    async def selected(session: AsyncSession, clock: Clock) -> tuple[list[Any], dict[int, Any]]:
        """The people the options select, and the valid unused invite each already holds."""
        for code in filter(None, (unit, subtree)):
            if await session.scalar(select(Unit.id).where(Unit.code == code)) is None:
                raise CliError(msg.UNIT_NOT_FOUND.format(code=code))
        people = await invite_service.invitees(
            session, role_kind=role, unit_code=unit, subtree_code=subtree, pending_only=pending
        )
        if phone:
            people = [(p, u) for p, u in people if p.phone == wanted_phone]
        return people, await invite_service.open_invites(session, clock, people, role)

    if list_only:

        async def listing(session: AsyncSession, settings: Settings, clock: Clock) -> list[list[str]]:
            return _held_rows(*await selected(session, clock), settings)

        _print_held(with_db(listing))
        return

    async def work(
        session: AsyncSession, settings: Settings, clock: Clock
    ) -> tuple[list[Any], int, Callable[[str], str | None], list[Any]]:
        people, held = await selected(session, clock)
        # Printed codes stay valid: someone holding one is skipped unless --replace asks to revoke it.
        kept = [] if replace else [p for p, _ in people if p.id in held]
        people = [(p, u) for p, u in people if replace or p.id not in held]
        valid_days = days or settings.invite_days
        issued = [await invite_service.issue(session, clock, p, role, u, valid_days) for p, u in people]
        return issued, valid_days, await _invite_linker(settings), kept

    issued, valid_days, linker, kept = with_db(work)
    if kept:
        names = ", ".join(p.full_name for p in kept[:10]) + ("…" if len(kept) > 10 else "")
        console.print(msg.INVITES_KEPT.format(count=len(kept), names=names), markup=False)
    if not issued:
        console.print(msg.NO_INVITEES, markup=False)
        return
    settings = Settings()
    zalo = _zalo_how(settings)
    rows = [[*_invite_row(i, linker(i.code), settings), zalo.format(code=i.display_code)] for i in issued]
    if fmt == "table":
        _print_table(rows, zalo)
    else:
        target = out or Path(f"invites.{fmt}")
        (_write_csv if fmt == "csv" else _write_xlsx)(target, rows)
        console.print(msg.INVITES_WRITTEN.format(path=target), markup=False)
    if qr is not None:
        _write_qr(qr, issued, rows)
        bot_qr = _write_zalo_qr(qr, settings)
        if bot_qr is not None:
            console.print(msg.ZALO_QR_WRITTEN.format(path=bot_qr), markup=False)
        console.print(msg.QR_WRITTEN.format(count=len(rows), path=qr), markup=False)
    console.print(msg.INVITES_ISSUED.format(count=len(issued), days=valid_days), markup=False)
    if not any(row[5] for row in rows) and (
        settings.telegram_token or not settings.zalo_token
    ):  # Zalo needs none
        console.print(msg.NO_LINK, markup=False)


def _held_rows(people: list[tuple[Any, Any]], held: dict[int, Any], settings: Settings) -> list[list[str]]:
    return [
        [
            person.full_name,
            person.phone or "",
            unit.name if unit else "",
            held[person.id].expires_at.astimezone(settings.tz).strftime("%d/%m/%Y"),
        ]
        for person, unit in people
        if person.id in held
    ]


def _print_held(rows: list[list[str]]) -> None:
    if not rows:
        console.print(msg.NO_VALID_INVITES, markup=False)
        return
    table = Table(*msg.HELD_HEADERS)
    for row in rows:
        table.add_row(*row)
    Console(width=max(160, console.width)).print(table)
    console.print(msg.HELD_NOTE.format(count=len(rows)), markup=False)


async def _invite_linker(settings: Settings) -> Callable[[str], str | None]:
    """The deep link of an invite code: from the bot's name when configured, else as the Telegram channel makes it
    once it has asked Telegram for the name. No link (None) without Telegram or when Telegram cannot be reached."""
    from bot.runtime import build_channels
    from bot.services.files import FileStore

    username = settings.telegram_bot_username
    if username:
        return lambda code: invite_service.telegram_link(username, code)
    channel = build_channels(settings, FileStore(settings.files_dir, 0)).get(ChannelName.TELEGRAM)
    if channel is None:
        return lambda _code: None
    try:
        with contextlib.suppress(Exception):  # the invites are still worth having without their links
            await channel.open()
    finally:
        await channel.close()
    return channel.invite_link


def _invite_row(issued: invite_service.Issued, link: str | None, settings: Settings) -> list[str]:
    unit = issued.unit.name if issued.unit else ""
    return [
        issued.person.full_name,
        issued.person.phone or "",
        unit,
        ROLE_NAMES[issued.role_kind],
        issued.display_code,
        link or "",
        issued.expires_at.astimezone(settings.tz).strftime("%d/%m/%Y"),
    ]


def _print_table(rows: list[list[str]], zalo_how: str) -> None:
    """The invites without the long Zalo column, whose instructions are printed once underneath."""
    table = Table(*msg.INVITE_HEADERS[:-1])
    for row in rows:
        table.add_row(*row[:-1])
    wide = Console(width=max(200, console.width))
    wide.print(table)
    wide.print(msg.INVITE_HEADERS[-1] + ": " + zalo_how.format(code="…"), markup=False)


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # BOM so Excel opens Vietnamese correctly
        writer = csv.writer(f)
        writer.writerow(msg.INVITE_HEADERS)
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    import xlsxwriter

    # Codes, phones and names are text: never read as formulas, links or numbers.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, msg.INVITE_HEADERS, book.add_format({"bold": True}))
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, row)
    for i, header in enumerate(msg.INVITE_HEADERS):
        width = max([len(header), *(len(r[i]) for r in rows)]) + 2
        sheet.set_column(i, i, min(width, 60))
    sheet.freeze_panes(1, 0)
    book.close()


def _write_qr(folder: Path, issued: list[invite_service.Issued], rows: list[list[str]]) -> None:
    from bot.services.invite_cards import card_png

    folder.mkdir(parents=True, exist_ok=True)
    for item, row in zip(issued, rows, strict=True):
        content = row[5] or item.display_code
        unit = item.unit.name if item.unit else None
        png = card_png(content, item.person.full_name, unit, item.display_code)
        (folder / f"{item.code}.png").write_bytes(png)


def _zalo_how(settings: Settings) -> str:
    """The Zalo instructions of an invite, with `{code}` left to fill: Zalo bots have no deep links."""
    if settings.zalo_bot_url:
        where = msg.ZALO_OPEN_LINK.format(url=settings.zalo_bot_url)
    elif settings.zalo_bot_name:
        where = msg.ZALO_OPEN_NAME.format(name=settings.zalo_bot_name)
    else:
        where = msg.ZALO_OPEN_QR
    return msg.ZALO_HOW.replace("{open}", where)


def _write_zalo_qr(folder: Path, settings: Settings) -> Path | None:
    """One QR code that opens the Zalo bot, to print beside the invite codes."""
    if not settings.zalo_bot_url:
        return None
    import qrcode

    path = folder / "zalo-bot.png"
    qrcode.make(settings.zalo_bot_url).save(path)
    return path
