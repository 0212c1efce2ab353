"""Helpers for tests: load the example roster, issue invites, register people through the fake Telegram, and
print documents to PDF with LibreOffice."""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.sandbox.demo import SAMPLES_DIR
from bot.services import invites, roster, staff
from storage.db import transaction
from storage.models import Person, Role, Unit

EXAMPLE_ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.csv"
SAMPLES = SAMPLES_DIR  # the two sample directives, one copy shared with the sandbox


async def load_roster(runtime: Runtime, path: Path = EXAMPLE_ROSTER) -> roster.ImportResult:
    async with transaction(runtime.sessions) as session:
        result = await roster.import_roster(session, runtime.clock, roster.read_table(path))
        assert result.ok, result.problems
        return result


async def add_staff(
    runtime: Runtime, name: str, phone: str, unit_code: str | None, kind: str = "board"
) -> None:
    async with transaction(runtime.sessions) as session:
        await staff.add_staff(
            session,
            runtime.clock,
            name=name,
            phone=phone,
            unit_code=unit_code,
            admin=kind == "admin",
            actor="test",
        )


async def invite_code(runtime: Runtime, phone: str, role: str = "secretary", days: int = 14) -> str:
    async with transaction(runtime.sessions) as session:
        person = await session.scalar(select(Person).where(Person.phone == phone))
        assert person is not None, phone
        role_row = await session.scalar(select(Role).where(Role.person_id == person.id, Role.kind == role))
        assert role_row is not None
        unit = await session.get(Unit, role_row.unit_id) if role_row.unit_id else None
        issued = await invites.issue(session, runtime.clock, person, role, unit, days)
        return issued.code


async def register(runtime: Runtime, user: FakeUser, phone: str, role: str = "secretary") -> None:
    """Join the bot the way a person does: tap the deep link, then share the phone number."""
    code = await invite_code(runtime, phone, role)
    before = len(user.messages)
    await user.send_command("/start", code)
    await user.wait_for(before + 1)
    await user.share_contact(phone)
    await user.wait_for(before + 3)
    assert "Đã kết nối thành công" in user.messages[before + 1].text


def docx_bytes(text: str) -> bytes:
    """A DOCX whose paragraphs are the lines of `text`, as a board member's word processor would save it."""
    import io

    from docx import Document

    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BOARD_PHONE = "0988000001"
QUICK = "1/4; chuyên đề; 25/30; 12; Tốt; Không"  # a one-message report, as a secretary types it
DUK_SECRETARIES = {"0912000003": 801, "0912000004": 802, "0912000006": 803}  # phone -> Telegram user id


async def board_and_secretaries(runtime: Runtime, fake: object) -> tuple[FakeUser, dict[str, FakeUser]]:
    """The example roster, a board member of the bloc committee (ĐUK) and three joined cell secretaries."""
    await load_roster(runtime)
    await add_staff(runtime, "Nguyễn Thị Tuyên", BOARD_PHONE, "DUK")
    board = fake.user(700, "Tuyên")  # type: ignore[attr-defined]
    await register(runtime, board, BOARD_PHONE, role="board")
    secretaries = {}
    for phone, user_id in DUK_SECRETARIES.items():
        user = fake.user(user_id, f"Bí thư {user_id}")  # type: ignore[attr-defined]
        await register(runtime, user, phone)
        secretaries[phone] = user
    return board, secretaries


# -- the board's view (issue 5): directives and reports written directly, the clock moved to a local time ---------


async def send_test_directive(
    runtime: Runtime,
    number: str = "747-CV/ĐUK",
    *,
    deadline: object = None,
    units: tuple[str, ...] = ("DUK",),
    form_key: str = "sinh-hoat-chinh-tri",
) -> int:
    """Parse sample 747, give it `number` and `deadline`, and broadcast it to every cell under `units`."""
    from datetime import date

    from bot.services import directives
    from bot.services.directive_parser import parse_directive
    from bot.services.forms_store import get_form

    async with transaction(runtime.sessions) as session:
        meta = parse_directive(sample("directive-747-CV-DUK.txt"))
        directive = await directives.new_draft(session, runtime.clock, meta, form_key=form_key)
        directive.number = number
        directive.deadline = deadline if isinstance(deadline, date) else date(2024, 4, 10)
        scope = list((await session.scalars(select(Unit).where(Unit.code.in_(units)))).all())
        cells = await directives.cells_under(session, scope)
        form = await get_form(session, form_key)
        await directives.queue_broadcast(session, runtime.clock, directive, cells, form, actor="test")
        directive_id = directive.id
    runtime.sender.wake()
    return directive_id


async def file_report(runtime: Runtime, directive_id: int, unit_code: str, values: dict[str, object]) -> None:
    """Store a new report version the way the reports flow does, keeping the cell's target row in step."""
    from sqlalchemy import func, update

    from storage.models import Directive, DirectiveTarget, Report

    async with transaction(runtime.sessions) as session:
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit_code))
        directive = await session.get(Directive, directive_id)
        assert unit_id is not None and directive is not None
        now = runtime.clock.now()
        late = (
            directive.deadline is not None and now.astimezone(runtime.settings.tz).date() > directive.deadline
        )
        version = await session.scalar(
            select(func.max(Report.version)).where(
                Report.directive_id == directive_id, Report.unit_id == unit_id
            )
        )
        await session.execute(
            update(Report)
            .where(Report.directive_id == directive_id, Report.unit_id == unit_id)
            .values(is_latest=False)
        )
        session.add(
            Report(
                directive_id=directive_id,
                unit_id=unit_id,
                version=(version or 0) + 1,
                is_latest=True,
                values=values,
                ref=f"BC-T{directive_id}{unit_id}{(version or 0) + 1}",
                late=late,
                submitted_at=now,
                channel="telegram",
            )
        )
        await session.execute(
            update(DirectiveTarget)
            .where(DirectiveTarget.directive_id == directive_id, DirectiveTarget.unit_id == unit_id)
            .values(reported_at=now, late=late)
        )


def travel_to(runtime: Runtime, year: int, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Move the running clock to a local (Hà Nội) wall time."""
    from datetime import datetime

    target = datetime(year, month, day, hour, minute, tzinfo=runtime.settings.tz)
    runtime.clock.advance(target - runtime.clock.now())


async def register_zalo(runtime: Runtime, user: object, phone: str, role: str = "secretary") -> None:
    """Join on Zalo: type the invite code, then type the phone number (Zalo has no contact button)."""
    code = await invite_code(runtime, phone, role)
    before = len(user.messages)  # type: ignore[attr-defined]
    await user.send_text(code)  # type: ignore[attr-defined]
    await user.wait_for(before + 1)  # type: ignore[attr-defined]
    await user.send_text(phone)  # type: ignore[attr-defined]
    await user.wait_until(lambda ms: any("Đã kết nối thành công" in m.text for m in ms))  # type: ignore[attr-defined]


# -- LibreOffice -------------------------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice") or ""


@functools.cache
def _soffice_profile() -> Path:
    """This process's LibreOffice profile: two soffice started at once on one profile (parallel test workers)
    would hand their work to each other or fail on its lock; kept for the session, it is set up only once."""
    path = Path(tempfile.mkdtemp(prefix="chibo-soffice-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def shown_width(stored: float | None) -> float:
    """A column's width as Excel shows it, in characters, from the width a file stores, which adds the cell's
    5 pixels of padding to the characters' 7-pixel digits (ECMA-376, col width)."""
    return round((stored or 0) - 5 / 7, 1)


def to_pdf(sources: Sequence[Path], folder: Path, timeout: float = 600) -> list[Path]:
    """Print every file of `sources` to PDF in `folder` with one LibreOffice run (one start-up for them all)."""
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={_soffice_profile().as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, sources),
        ],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [folder / f"{source.stem}.pdf" for source in sources]
