"""The demo province the sandbox starts with, seeded through the real services, and the two sample directives.

The province: a tỉnh ủy, three đảng ủy and thirteen chi bộ, each with a secretary; one board member of the
province. Most secretaries are on Zalo, some on the Zalo Bot Platform ("zalo"), some following the committee's
Zalo Official Account ("zalo_oa"); a few are on Telegram. The board member follows the OA too: Chibo is Zalo first,
and the OA is the Zalo product on which a board member can upload a DOCX or PDF and press buttons. The roster goes in
through `roster.import_roster` and everyone gets an invite through `invites.issue`, exactly as an administrator's
`chibo units import` and `chibo invite` do. A second level: the board of the
commune Tân Phong, on the Zalo OA, not joined at start. Who joins, and on which platform, is
decided here (`DemoPerson`); the joining itself is done by `app.Sandbox` through the fakes, the way people do it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services import invites, roster
from bot.services.audit import audit
from storage.models import Person, Role, Unit

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The day the sample directives were issued, 09:00 in Hà Nội: their deadlines then lie ahead, as they did.
START_LOCAL = datetime(2024, 4, 3, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
INVITE_DAYS = 14

Platform = Literal["telegram", "zalo", "zalo_oa"]  # the ChannelName values
TELEGRAM: Platform = "telegram"
OA: Platform = "zalo_oa"  # a Zalo Official Account; plain "zalo" is the Zalo Bot Platform


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    parent: str | None
    kind: str
    secretary: str | None = None
    phone: str | None = None
    platform: Platform = "zalo"  # most secretaries are on Zalo
    joined: bool = True


UNITS: tuple[DemoUnit, ...] = (
    DemoUnit("TU", "Tỉnh ủy Lai Châu", None, "Tỉnh ủy"),
    DemoUnit(
        "DUK",
        "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh",
        "TU",
        "Đảng ủy khối",
        "Lý Công Hà",
        "0912000001",
        OA,
    ),
    DemoUnit("DUK-STC", "Chi bộ Sở Tài chính", "DUK", "Chi bộ", "Trần Thị Cúc", "0912000003", TELEGRAM),
    DemoUnit("DUK-SYT", "Chi bộ Sở Y tế", "DUK", "Chi bộ", "Hoàng Văn Khánh", "0912000006", OA),
    DemoUnit("DUK-BAO", "Chi bộ Báo Lai Châu", "DUK", "Chi bộ", "Đỗ Văn Minh", "0912000008", OA),
    DemoUnit(
        "DUK-DL",
        "Chi bộ Công ty Điện lực Lai Châu",
        "DUK",
        "Chi bộ",
        "Nguyễn Thu Hằng",
        "0912000012",
        TELEGRAM,
        joined=False,
    ),
    DemoUnit("X-TP", "Đảng ủy xã Tân Phong", "TU", "Đảng ủy xã", "Giàng A Nủ", "0912000009"),
    DemoUnit("X-TP-B1", "Chi bộ bản Tả Phìn", "X-TP", "Chi bộ", "Lò Văn Páo", "0912000010"),
    DemoUnit("X-TP-B2", "Chi bộ bản Sin Suối Hồ", "X-TP", "Chi bộ", "Vàng Thị Sua", "0912000011"),
    DemoUnit("X-TP-YT", "Chi bộ Trạm Y tế xã", "X-TP", "Chi bộ", "Tẩn Văn Hừ", "0912000013"),
    DemoUnit(
        "X-TP-TH",
        "Chi bộ Trường Tiểu học Tân Phong",
        "X-TP",
        "Chi bộ",
        "Lù Thị Mai",
        "0912000014",
        joined=False,
    ),
    DemoUnit("P-DK", "Đảng ủy phường Đoàn Kết", "TU", "Đảng ủy phường", "Phạm Thị Hoa", "0912000005"),
    DemoUnit("P-DK-1", "Chi bộ Tổ dân phố số 1", "P-DK", "Chi bộ", "Lê Văn Dũng", "0912000004", OA),
    DemoUnit("P-DK-2", "Chi bộ Tổ dân phố số 2", "P-DK", "Chi bộ", "Vũ Thị Lan", "0912000007"),
    DemoUnit("P-DK-3", "Chi bộ Tổ dân phố số 3", "P-DK", "Chi bộ", "Bùi Quang Huy", "0912000015", TELEGRAM),
    DemoUnit("P-DK-CA", "Chi bộ Công an phường", "P-DK", "Chi bộ", "Đặng Minh Tuấn", "0912000016", TELEGRAM),
    DemoUnit(
        "P-DK-TH",
        "Chi bộ Trường THCS Đoàn Kết",
        "P-DK",
        "Chi bộ",
        "Sần Thị Dung",
        "0912000017",
        OA,
        joined=False,
    ),
)

BOARD_NAME = "Nguyễn Thị Tuyên"
BOARD_PHONE = "0988000001"
BOARD_SCOPE = "TU"
BOARD_PLATFORM: Platform = OA  # where she uploads the directive and presses the buttons of the board's day
# A second level: the commune's own board (not joined at start, so the province's directives go to its cells
# directly until she joins; joined, she receives them to re-issue or forward: bot/services/levels.py).
COMMUNE_BOARD_NAME = "Giàng Thị Xuân"
COMMUNE_BOARD_PHONE = "0988000002"
COMMUNE_BOARD_SCOPE = "X-TP"
# The person the page opens with: a Zalo secretary, as most are (here on the Official Account).
FIRST_PERSON_UNIT = "DUK-SYT"


@dataclass(frozen=True)
class DemoPerson:
    """Someone the page can play: their invite, their platform, whether they join at start."""

    full_name: str
    phone: str
    role: str  # "board" or "secretary"
    unit_code: str
    unit_name: str
    platform: Platform
    joined: bool
    invite_code: str  # the display form, e.g. ABCDE-FGHJK

    @property
    def user_id(self) -> str:
        """A stable platform id: a Telegram integer id, 20 hex characters as the Zalo Bot Platform writes them,
        or the decimal follower id an Official Account gives."""
        digest = hashlib.sha256(self.phone.encode()).hexdigest()
        if self.platform == "zalo":
            return digest[:20]
        if self.platform == OA:
            return str(1_000_000_000_000_000_000 + int(digest[:15], 16))
        return str(5_000_000_000 + int(digest[:8], 16) % 1_000_000_000)


@dataclass(frozen=True)
class Sample:
    key: str
    number: str
    label: str
    source: str  # file in SAMPLES_DIR
    file_name: str  # the DOCX name the board member sends


SAMPLES: dict[str, Sample] = {
    s.key: s
    for s in (
        Sample(
            "747",
            "747-CV/ĐUK",
            "747-CV/ĐUK – Sinh hoạt chính trị, tư tưởng (có hạn báo cáo)",
            "directive-747-CV-DUK.txt",
            "747-CV-DUK.docx",
        ),
        Sample(
            "745",
            "745-CV/ĐUK",
            "745-CV/ĐUK – Tuyên truyền 70 năm Chiến thắng Điện Biên Phủ (chưa có hạn)",
            "directive-745-CV-DUK.txt",
            "745-CV-DUK.docx",
        ),
    )
}


def sample_text(sample: Sample) -> str:
    return (SAMPLES_DIR / sample.source).read_text(encoding="utf-8")


def sample_docx(sample: Sample) -> bytes:
    """The sample as the DOCX a board member's word processor saves: one paragraph per line."""
    from docx import Document

    document = Document()
    for line in sample_text(sample).splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def roster_rows() -> list[tuple[int, dict[str, Any]]]:
    """The province as the rows of a roster file (line numbers as if read from one with a header)."""
    return [
        (
            line,
            {
                "code": u.code,
                "name": u.name,
                "parent": u.parent,
                "kind": u.kind,
                "secretary": u.secretary,
                "phone": u.phone,
            },
        )
        for line, u in enumerate(UNITS, start=2)
    ]


async def seed(session: AsyncSession, clock: Clock) -> list[DemoPerson]:
    """Import the roster, add the board member, issue everyone an invite; the people, board member first."""
    result = await roster.import_roster(session, clock, roster_rows())
    if not result.ok:  # the demo data is ours: a problem here is a bug, not a user's mistake
        raise RuntimeError(f"demo roster refused: {result.problems}")
    units = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    board = await _add_board_member(session, clock, units[BOARD_SCOPE])
    people = [await _invite(session, clock, board, "board", units[BOARD_SCOPE], BOARD_PLATFORM, True)]
    commune = await _add_board_member(
        session, clock, units[COMMUNE_BOARD_SCOPE], COMMUNE_BOARD_NAME, COMMUNE_BOARD_PHONE
    )
    people.append(await _invite(session, clock, commune, "board", units[COMMUNE_BOARD_SCOPE], OA, False))
    for demo in UNITS:
        if demo.phone is None:
            continue
        person = await session.scalar(select(Person).where(Person.phone == demo.phone))
        assert person is not None, demo.phone
        people.append(
            await _invite(session, clock, person, "secretary", units[demo.code], demo.platform, demo.joined)
        )
    return people


async def _add_board_member(
    session: AsyncSession, clock: Clock, scope: Unit, name: str = BOARD_NAME, phone: str = BOARD_PHONE
) -> Person:
    """What `chibo staff add --unit TU` does."""
    person = Person(full_name=name, phone=phone, created_at=clock.now())
    session.add(person)
    await session.flush()
    session.add(Role(person_id=person.id, kind="board", unit_id=scope.id))
    await audit(session, clock, "staff.add", person_id=person.id, actor="sandbox", details={"role": "board"})
    return person


async def _invite(
    session: AsyncSession,
    clock: Clock,
    person: Person,
    role: str,
    unit: Unit,
    platform: Platform,
    joined: bool,
) -> DemoPerson:
    issued = await invites.issue(session, clock, person, role, unit, INVITE_DAYS)
    return DemoPerson(
        full_name=person.full_name,
        phone=person.phone or "",
        role=role,
        unit_code=unit.code,
        unit_name=unit.name,
        platform=platform,
        joined=joined,
        invite_code=issued.display_code,
    )
