"""Importing the roster of units and cell secretaries from XLSX or CSV: validate everything, then apply it all in
one transaction, or nothing. Re-importing the same file changes nothing; an edited file updates in place. A changed
name is a rename, a changed parent a move, and the column «Thay đổi» states merges, splits and changed codes
(bot/services/roster_changes.py); all of them go through bot/services/unit_changes.py and are listed."""

from __future__ import annotations

import codecs
import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.textnorm import fold, nfc
from bot.services import roster_changes, unit_changes
from bot.services.audit import audit
from bot.services.phones import normalize_phone
from bot.services.unit_changes import recompute_tree
from messages import roster as msg
from storage.models import Person, Role, Unit

log = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma", "ma don vi", "code", "unit code"),
    "name": ("ten", "ten don vi", "name", "unit name"),
    "parent": ("ma cap tren", "ma don vi cap tren", "cap tren", "parent", "parent code", "parent_code"),
    "kind": ("loai", "loai don vi", "cap", "kind"),
    "secretary": (
        "bi thu",
        "ho ten bi thu",
        "ho va ten bi thu",
        "secretary",
        "secretary name",
        "secretary_name",
    ),
    "phone": (
        "dien thoai",
        "so dien thoai",
        "sdt",
        "dien thoai bi thu",
        "phone",
        "secretary phone",
        "secretary_phone",
    ),
    "change": ("thay doi", "thay doi (neu co)", "bien dong", "change", "changes"),
}
REQUIRED = ("code", "name")


@dataclass(frozen=True)
class Problem:
    line: int
    code: str
    reason: str


@dataclass(frozen=True)
class RosterRow:
    line: int
    code: str
    name: str
    parent: str | None
    kind: str
    secretary: str | None
    phone: str | None
    change: str | None = None  # the column «Thay đổi» (bot/services/roster_changes.py)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # merges, splits, renames and moves done, a line each

    @property
    def ok(self) -> bool:
        return not self.problems


def read_table(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a .xlsx (first sheet) or .csv file as (line number, {column: value}) with canonical column names.

    Raises ValueError with a Vietnamese reason when the file cannot be used at all."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            table = [list(r) for r in sheet.iter_rows(values_only=True)]
        elif suffix == ".csv":
            text = decode_csv(path.read_bytes())
            dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
            table = [list(r) for r in csv.reader(io.StringIO(text), dialect)]
        else:
            raise ValueError(msg.UNSUPPORTED)
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, IndexError) as exc:
        raise ValueError(msg.UNREADABLE.format(reason=exc)) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        if isinstance(exc, ValueError) and str(exc) == msg.UNSUPPORTED:
            raise
        log.info("unreadable roster file: %r", exc)
        raise ValueError(msg.UNREADABLE.format(reason=exc)) from exc
    if not table:
        raise ValueError(msg.EMPTY)
    mapping = _map_header(table[0])
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise ValueError(msg.MISSING_COLUMNS.format(columns=", ".join(missing)))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {mapping[i]: cells[i] for i in mapping if i < len(cells)}
        if any(_text(v) for v in values.values()):
            rows.append((number, values))
    if not rows:
        raise ValueError(msg.EMPTY)
    return rows


def decode_csv(data: bytes) -> str:
    """The text of a CSV as offices save it: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode
    Text") or Windows-1258 (Excel's plain "CSV" on a Vietnamese Windows, with its combining tone marks
    composed to NFC). ValueError with a one-line Vietnamese explanation otherwise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return nfc(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise ValueError(msg.BAD_ENCODING) from exc
    try:
        return nfc(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:  # UTF-16 without its BOM, or not a text file at all
        raise ValueError(msg.BAD_ENCODING)
    try:
        return nfc(data.decode("cp1258"))
    except UnicodeDecodeError as exc:
        raise ValueError(msg.BAD_ENCODING) from exc


def _map_header(header: list[Any]) -> dict[int, str]:
    aliases = {fold(alias): name for name, options in COLUMNS.items() for alias in options}
    mapping: dict[int, str] = {}
    for i, cell in enumerate(header):
        key = fold(str(cell or "")).replace("_", " ").strip(" :*")
        if key in aliases and aliases[key] not in mapping.values():
            mapping[i] = aliases[key]
    return mapping


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


# The column sizes in storage/models.py: a roster value is an identifier or a name, so it is refused, never cut.
LIMITS = {"code": 64, "name": 255, "kind": 64, "secretary": 255}


def validate_rows(raw: list[tuple[int, dict[str, Any]]]) -> tuple[list[RosterRow], list[Problem]]:
    """Per-row checks that need no database: required fields, lengths, phone format, duplicate codes. Every
    problem of a row is listed; the rows returned include those with problems (see `import_roster`)."""
    rows: list[RosterRow] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for line, values in raw:
        code = _text(values.get("code"))
        name = _text(values.get("name"))
        phone_raw = _text(values.get("phone"))
        secretary = _text(values.get("secretary")) or None
        phone = normalize_phone(phone_raw) if phone_raw else None
        kind = _text(values.get("kind"))
        reasons = []
        if not code:
            reasons.append(msg.MISSING_CODE)
        if not name:
            reasons.append(msg.MISSING_NAME)
        for key, value in (("code", code), ("name", name), ("kind", kind), ("secretary", secretary or "")):
            if len(value) > LIMITS[key]:
                reasons.append(msg.TOO_LONG.format(field=msg.FIELD_NAMES[key], limit=LIMITS[key]))
        if phone_raw and phone is None:
            reasons.append(msg.BAD_PHONE.format(phone=phone_raw))
        if phone and not secretary:
            reasons.append(msg.PHONE_WITHOUT_NAME)
        if code in first_line:
            reasons.append(msg.DUPLICATE_CODE.format(code=code, first=first_line[code]))
        elif code:
            first_line[code] = line
        parent = _text(values.get("parent")) or None
        if parent is not None and parent == code:
            reasons.append(msg.SELF_PARENT)
            parent = None  # checked once here, not again as a loop of the tree
        problems.extend(Problem(line, code, r) for r in reasons)
        if code:
            change = _text(values.get("change")) or None
            rows.append(RosterRow(line, code, name, parent, kind, secretary, phone, change))
    return rows, problems


async def import_roster(
    session: AsyncSession, clock: Clock, raw: list[tuple[int, dict[str, Any]]]
) -> ImportResult:
    """Validate and apply; with any problem nothing is written (the caller's transaction is rolled back)."""
    rows, problems = validate_rows(raw)
    plan, unreadable = roster_changes.read(rows)
    current = [r for r in rows if r.line not in plan.old_rows]  # an old unit's row only says where it went
    existing = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    plan = roster_changes.pending(plan, existing)
    problems += [Problem(*p) for p in unreadable] + _tree_problems(current, existing)
    if not unreadable:
        problems += [Problem(*p) for p in roster_changes.check(plan, rows, existing)]
    result = ImportResult(problems=_sorted(problems))
    if problems:
        return result
    units = dict(existing)
    takers = roster_changes.targets(plan)
    changed: set[str] = set()
    for row in current:
        unit = units.get(row.code)
        if unit is None:
            is_cell = row.code not in takers  # a successor: a cell or not as its merge decides (unit_changes)
            unit = Unit(
                code=row.code, name=row.name, kind=row.kind, path="/", depth=0, is_cell=is_cell, active=True
            )
            session.add(unit)
            units[row.code] = unit
            continue
        if unit.kind != row.kind:
            unit.kind = row.kind
            changed.add(row.code)
        if unit.name != row.name:
            old = unit.name
            await unit_changes.rename(session, clock, row.code, row.name, actor="roster")
            result.changes.append(msg.CHANGE_RENAMED.format(code=row.code, old=old, new=row.name))
            changed.add(row.code)
    await session.flush()
    try:
        applied = await roster_changes.apply(session, clock, plan, rows)
    except unit_changes.TreeChangeError as exc:
        line = next((c.line for c in plan.changes if str(exc) in (c.source, c.into)), 0)
        reason = exc.reason or msg.UNIT_CHANGE_REFUSED.format(code=str(exc))
        result.problems = [Problem(line, str(exc), reason)]
        return result
    result.changes[:0] = applied.lines
    in_file = {r.code for r in rows}  # units retired just now, or before, are not missing from it
    result.not_in_file = sorted(c for c, u in existing.items() if c not in in_file and u.active)
    for row in current:
        unit = units[row.code]
        parent = units[row.parent] if row.parent else None
        if unit.parent_id != (parent.id if parent else None):
            if row.code in existing:
                await unit_changes.reparent(session, clock, unit, parent, actor="roster")
                result.changes.append(msg.CHANGE_MOVED.format(code=row.code, parent=row.parent or "—"))
            else:
                unit.parent_id = parent.id if parent else None
            changed.add(row.code)
        if await _apply_secretary(session, clock, unit, row):
            changed.add(row.code)
    for row in current:
        if row.code not in existing:
            result.created += 1
        elif row.code in changed:
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    await recompute_tree(session)
    # The successors' secretaries are named now: whoever has joined gets what was carried to her cell.
    result.changes += await roster_changes.settle(session, clock, applied.ended, applied.cells)
    await audit(
        session,
        clock,
        "roster.import",
        actor="cli",
        details={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "changes": len(result.changes),
        },
    )
    return result


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line)  # stable: a row's own order kept


def _tree_problems(rows: list[RosterRow], existing: dict[str, Unit]) -> list[Problem]:
    parent_of: dict[str, str | None] = {}
    by_id = {u.id: u.code for u in existing.values()}
    for unit in existing.values():
        parent_of[unit.code] = by_id.get(unit.parent_id) if unit.parent_id else None
    for row in rows:
        parent_of[row.code] = row.parent
    problems = []
    for row in rows:
        if row.parent and row.parent not in parent_of:
            problems.append(Problem(row.line, row.code, msg.MISSING_PARENT.format(parent=row.parent)))
            continue
        seen = [row.code]
        current = row.parent
        while current is not None:
            if current in seen:
                loop = " → ".join([*seen[seen.index(current) :], current])
                problems.append(Problem(row.line, row.code, msg.CYCLE.format(path=loop)))
                break
            seen.append(current)
            current = parent_of.get(current)
    return problems


async def _apply_secretary(session: AsyncSession, clock: Clock, unit: Unit, row: RosterRow) -> bool:
    """Make the row's secretary the unit's; return whether anything changed."""
    current = await session.scalar(
        select(Person)
        .join(Role, Role.person_id == Person.id)
        .where(Role.kind == "secretary", Role.unit_id == unit.id)
    )
    if row.secretary is None:
        return False
    if current is not None and (
        current.phone == row.phone or (row.phone is None and current.full_name == row.secretary)
    ):
        if current.full_name != row.secretary:
            current.full_name = row.secretary
            return True
        if row.phone and current.phone != row.phone:
            current.phone = row.phone
            return True
        return False
    person = None
    if row.phone:
        person = await session.scalar(select(Person).where(Person.phone == row.phone).limit(1))
    if person is None:
        person = Person(full_name=row.secretary, phone=row.phone, created_at=clock.now())
        session.add(person)
        await session.flush()
    elif person.full_name != row.secretary:
        person.full_name = row.secretary
    if current is not None:
        await session.execute(
            delete(Role).where(
                Role.kind == "secretary", Role.unit_id == unit.id, Role.person_id == current.id
            )
        )
    session.add(Role(person_id=person.id, kind="secretary", unit_id=unit.id))
    return True
