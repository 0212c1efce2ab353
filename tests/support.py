"""Helpers for tests: load the example roster, issue invites, and register people through the fake Telegram."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.fakes.telegram_users import FakeUser
from bot.runtime import Runtime
from bot.services import invites, roster
from storage.db import transaction
from storage.models import Person, Role, Unit

EXAMPLE_ROSTER = Path(__file__).resolve().parents[1] / "examples" / "roster.csv"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


async def load_roster(runtime: Runtime, path: Path = EXAMPLE_ROSTER) -> roster.ImportResult:
    async with transaction(runtime.sessions) as session:
        result = await roster.import_roster(session, runtime.clock, roster.read_table(path))
        assert result.ok, result.problems
        return result


async def add_staff(
    runtime: Runtime, name: str, phone: str, unit_code: str | None, kind: str = "board"
) -> None:
    async with transaction(runtime.sessions) as session:
        person = Person(full_name=name, phone=phone, created_at=runtime.clock.now())
        session.add(person)
        await session.flush()
        unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit_code)) if unit_code else None
        session.add(Role(person_id=person.id, kind=kind, unit_id=unit_id))


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
