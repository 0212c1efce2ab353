"""Button data: one typed codec for every button the bot shows.

Each action is a frozen dataclass with a short prefix; its data on the wire is the prefix and the fields joined by
":" (`rc:747:format:0`), at most 64 bytes (Telegram's limit for callback data). `decode` gives the dataclass back,
or None for data that is unknown, malformed or forged: a handler never sees a string to take apart.

The wire format is the one the bot has always used, so buttons left on old messages keep working (a draft's
buttons also name the draft and its revision: one from an earlier preview is answered as out of date). The directive
card and the reminders (bot/services, below this layer) build `ack:<d>` and `rep:<d>` themselves; tests check that
this codec reads them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

MAX_BYTES = 64
_NUMBER = re.compile(r"[0-9]{1,18}")
_WORD = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class ButtonData:
    """What a button does; subclasses are dataclasses whose fields are ints (ids, indexes) or keys."""

    prefix: ClassVar[str]

    def encode(self) -> str:
        data = ":".join([self.prefix, *(str(getattr(self, f.name)) for f in fields(self))])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
        return data


_CODECS: dict[str, type[ButtonData]] = {}
B = TypeVar("B", bound=type[ButtonData])


def _action(prefix: str) -> Callable[[B], B]:
    """Register a dataclass under its wire prefix."""

    def register(cls: B) -> B:
        assert prefix not in _CODECS, prefix
        cls.prefix = prefix
        _CODECS[prefix] = cls
        return cls

    return register


def decode(data: str) -> ButtonData | None:
    """The action `data` stands for; None when it is not one this bot ever made."""
    prefix, *parts = data.split(":")
    cls = _CODECS.get(prefix)
    if cls is None or len(data.encode()) > MAX_BYTES:
        return None
    specs = fields(cls)
    if len(parts) != len(specs):
        return None
    values: list[int | str] = []
    for spec, part in zip(specs, parts, strict=True):
        is_number = spec.type in (int, "int")
        if not (_NUMBER if is_number else _WORD).fullmatch(part):
            return None
        values.append(int(part) if is_number else part)
    return cls(*values)


# -- a cell secretary: the directive card and the report form -------------------------------------------------------


@dataclass(frozen=True)
class SecretaryButton(ButtonData):
    """Buttons only a cell secretary may press."""


@_action("ack")
@dataclass(frozen=True)
class Acknowledge(SecretaryButton):
    directive_id: int


@_action("vb")
@dataclass(frozen=True)
class ResendDirective(SecretaryButton):
    directive_id: int


@_action("rep")
@dataclass(frozen=True)
class OpenReport(SecretaryButton):
    directive_id: int


@dataclass(frozen=True)
class ReportButton(SecretaryButton):
    """A button of the report form."""


@_action("rx")
@dataclass(frozen=True)
class CancelReport(ReportButton):
    pass


@dataclass(frozen=True)
class DraftButton(ReportButton):
    """A report button that names its directive, so a button left on an old message can never act on another
    report."""

    directive_id: int


@_action("rk")
@dataclass(frozen=True)
class PickDirective(DraftButton):
    unit_id: int


@_action("rc")
@dataclass(frozen=True)
class PickChoice(DraftButton):
    key: str
    index: int


@_action("rs")
@dataclass(frozen=True)
class SkipField(DraftButton):
    key: str


@_action("rd")
@dataclass(frozen=True)
class PhotosDone(DraftButton):
    key: str


@_action("rb")
@dataclass(frozen=True)
class Back(DraftButton):
    pass


@_action("ro")
@dataclass(frozen=True)
class SendReport(DraftButton):
    pass


@_action("re")
@dataclass(frozen=True)
class EditReport(DraftButton):
    pass


@_action("rf")
@dataclass(frozen=True)
class EditField(DraftButton):
    key: str


# -- the board: status, paging, nudges, files ---------------------------------------------------------------------


@dataclass(frozen=True)
class BoardButton(ButtonData):
    """A board action on one directive of the member's scope."""

    directive_id: int


@_action("st")
@dataclass(frozen=True)
class ShowStatus(BoardButton):
    pass


@_action("pg")
@dataclass(frozen=True)
class MissingPage(BoardButton):
    page: int


@_action("nn")
@dataclass(frozen=True)
class Nudge(BoardButton):
    pass


@_action("xl")
@dataclass(frozen=True)
class ExportExcel(BoardButton):
    pass


@_action("bc")
@dataclass(frozen=True)
class DraftReport(BoardButton):
    pass


@_action("bn")
@dataclass(frozen=True)
class TakeNumber(BoardButton):
    """Record the number the register proposed for the report on this directive."""


@_action("ru")
@dataclass(frozen=True)
class FromSource(BoardButton):
    """The summary («text»), Excel («xlsx») or Word («docx») of a directive handed down, aggregated from
    `source` («cells» or «below», bot/services/rollup.py)."""

    kind: str
    source: str


@_action("dd")
@dataclass(frozen=True)
class DrillDown(BoardButton):
    """From the upper status to the cells of one unit below."""

    unit_id: int


# -- the board of a unit below: an upper directive handed to it (bot/services/levels.py builds these) -----------


@dataclass(frozen=True)
class LevelButton(ButtonData):
    """An action of a lower unit's board on an upper directive handed to that unit."""

    directive_id: int
    unit_id: int


@_action("hr")
@dataclass(frozen=True)
class ReissueUpper(LevelButton):
    pass


@_action("hf")
@dataclass(frozen=True)
class ForwardUpper(LevelButton):
    pass


@_action("ha")
@dataclass(frozen=True)
class ForwardWithFiles(LevelButton):
    """Forward it after adding the unit's own files (handlers/level_files.py takes them)."""


@_action("hd")
@dataclass(frozen=True)
class FilesDone(LevelButton):
    """The unit's files are in: forward the directive with them."""


@_action("hu")
@dataclass(frozen=True)
class SendUp(LevelButton):
    """Send the unit's aggregated report on the upper directive to the upper board."""


# -- the board: a new directive being prepared --------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeButton(ButtonData):
    """A button of the directive draft the board member has open. It names the draft and the draft's revision when
    it was shown (`rev`, changed with the draft or its audience). A button whose effect depends on what its message
    showed (`exact`: a deadline's date, the audience and forecast before sending) acts only on that revision; the
    others do what their label says to the draft as it is now. A button of another draft never acts."""

    exact: ClassVar[bool] = False
    draft_id: int
    rev: int


@_action("de")
@dataclass(frozen=True)
class CorrectField(IntakeButton):
    field: str


@_action("dc")
@dataclass(frozen=True)
class ConfirmDeadline(IntakeButton):
    """Confirm the deadline its label shows (`day`, yyyymmdd): refused if the draft's deadline is another now."""

    day: int


@_action("dn")
@dataclass(frozen=True)
class ToForm(IntakeButton):
    pass


@_action("df")
@dataclass(frozen=True)
class ChooseForm(IntakeButton):
    key: str


@_action("da")
@dataclass(frozen=True)
class AllCells(IntakeButton):
    pass


@_action("dt")
@dataclass(frozen=True)
class ToggleUnit(IntakeButton):
    exact = True
    unit_id: int


@_action("dk")
@dataclass(frozen=True)
class TypeCodes(IntakeButton):
    pass


@_action("ds")
@dataclass(frozen=True)
class SendDirective(IntakeButton):
    exact = True


@_action("db")
@dataclass(frozen=True)
class BackToPreview(IntakeButton):
    pass


@_action("dx")
@dataclass(frozen=True)
class CancelDraft(IntakeButton):
    pass


@_action("dh")
@dataclass(frozen=True)
class UseSubjectHint(IntakeButton):
    pass


@_action("dpa")
@dataclass(frozen=True)
class RepeatAdd(IntakeButton):
    """Send the directive already sent (`directive_id`) to the chosen cells instead of the draft."""

    exact = True
    directive_id: int


@_action("dpr")
@dataclass(frozen=True)
class RepeatReplace(IntakeButton):
    """Send the draft as a correction replacing the directive already sent."""

    exact = True
    directive_id: int


@_action("dpn")
@dataclass(frozen=True)
class RepeatNew(IntakeButton):
    """Send the draft as a new directive although one with its number, issuer and date was sent."""

    exact = True


@_action("du")
@dataclass(frozen=True)
class SendUnstaffed(IntakeButton):
    """Send the draft, the units below whose board has not joined getting it as `how` says (direct, hold)."""

    exact = True
    how: str
