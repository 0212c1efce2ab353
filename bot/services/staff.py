"""Board staff and administrators: giving a person the board role over a unit's subtree, or the administrator
role over everything. The command line and the tests add staff here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.services.audit import audit
from storage.models import Person, Role, Unit


class UnknownUnit(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Staffed:
    person: Person
    kind: str  # "board" | "admin"
    scope: Unit | None  # None: everything (an administrator)


async def add_staff(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    phone: str,
    unit_code: str | None,
    admin: bool,
    actor: str,
) -> Staffed:
    """Give the person with this (normalised) phone the role, creating them if new; holding it already is fine."""
    scope = await session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if unit_code and scope is None:
        raise UnknownUnit(unit_code)
    person = await session.scalar(select(Person).where(Person.phone == phone).limit(1))
    if person is None:
        person = Person(full_name=name, phone=phone, created_at=clock.now())
        session.add(person)
        await session.flush()
    kind = "admin" if admin else "board"
    unit = None if admin else scope
    held = await session.scalar(
        select(Role).where(
            Role.person_id == person.id,
            Role.kind == kind,
            Role.unit_id == unit.id if unit else Role.unit_id.is_(None),
        )
    )
    if held is None:
        session.add(Role(person_id=person.id, kind=kind, unit_id=unit.id if unit else None))
    await audit(session, clock, "staff.add", person_id=person.id, actor=actor, details={"role": kind})
    return Staffed(person, kind, unit)
