"""Extract a Party directive's metadata (number, dates, subject, deadline, signer...) from its plain text.

Pure domain code without I/O. The input is the text of one directive, as `bot.services.document_text`
extracts it from DOCX/PDF or as a user pastes it, possibly with Markdown markers left over from a DOCX
conversion. Every field is either read from the text or None: nothing is guessed, and
`DirectiveMeta.missing` names the fields that were not found so the board can be asked for them.

Layout of a directive, top to bottom: header (parent body, issuer, party motto, place and date, number,
subject), "Kính gửi" (recipients), body, "Nơi nhận" and the signature block, then optionally an attached
guide. Only the part up to the signature is the directive itself; numbers and dates of the attached guide
are never taken as the directive's own.

Labels are matched on a diacritic-insensitive fold of each line that keeps one character per character,
so a match in the folded text indexes the same span of the original.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo

# 2: `deadlines` (each with its kind) added; version 1 JSON (stored by earlier releases) still loads.
JSON_VERSION = 2
_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Recurrence(StrEnum):
    """How a report deadline repeats ("trước ngày 30/10 hằng năm")."""

    YEARLY = "yearly"
    MONTHLY = "monthly"


class DeadlineKind(StrEnum):
    """What is due by a deadline: the report ("báo cáo ... trước ngày"), or the work itself ("hoàn thành ...")."""

    REPORT = "report"
    COMPLETION = "completion"


@dataclass(slots=True)
class Deadline:
    """One dated deadline of the body, as written ("trước ngày 15/6", "chậm nhất ngày 28/11/2025")."""

    date: date | None
    kind: DeadlineKind
    text: str
    recurring: Recurrence | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": _iso(self.date),
            "kind": self.kind.value,
            "text": self.text,
            "recurring": self.recurring.value if self.recurring else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deadline:
        recurring = data.get("recurring")
        return cls(
            _from_iso(data.get("date")),
            DeadlineKind(data["kind"]),
            data.get("text") or "",
            Recurrence(recurring) if recurring else None,
        )


@dataclass(slots=True)
class CitedDocument:
    """Another document the directive implements or cites ("Công văn số 1787-CV/TU ngày 01/3/2024")."""

    number: str
    doc_type: str | None
    issuer_code: str | None
    date: date | None
    kind: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "doc_type": self.doc_type,
            "issuer_code": self.issuer_code,
            "date": _iso(self.date),
            "kind": self.kind,
        }


@dataclass(slots=True)
class DirectiveMeta:
    """What a careful reader takes from a directive; a field is None when the text does not state it."""

    number: str | None = None
    number_seq: str | None = None
    doc_type: str | None = None
    issuer_code: str | None = None
    parent_body: str | None = None
    issuer: str | None = None
    place: str | None = None
    issued_on: date | None = None
    issued_text: str | None = None
    subject: str | None = None
    subject_hint: str | None = None
    recipients: str | None = None
    cited: list[CitedDocument] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    deadline: date | None = None
    deadline_text: str | None = None
    deadline_recurring: Recurrence | None = None
    deadlines: list[Deadline] = field(default_factory=list)
    deadline_at_period_end: bool = False
    deadline_suggestion: date | None = None
    report_to: str | None = None
    signer_authority: str | None = None
    signer_title: str | None = None
    signer_name: str | None = None
    body: str | None = None
    attached_guide: str | None = None
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO 8601 strings); the schema is in docs/directive-json.md."""
        out: dict[str, Any] = {"version": JSON_VERSION}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name in ("cited", "deadlines"):
                value = [item.to_json() for item in value]
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            elif isinstance(value, StrEnum):
                value = value.value
            out[spec.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DirectiveMeta:
        """The metadata back from `to_json` (how the reading worker hands it over without pickle)."""
        values = {spec.name: data[spec.name] for spec in fields(cls) if spec.name in data}
        for name in _DATE_FIELDS:
            values[name] = _from_iso(values.get(name))
        values["cited"] = [
            CitedDocument(**{**doc, "date": _from_iso(doc.get("date"))}) for doc in values.get("cited", [])
        ]
        recurring = values.get("deadline_recurring")
        values["deadline_recurring"] = Recurrence(recurring) if recurring else None
        values["deadlines"] = [Deadline.from_json(item) for item in values.get("deadlines", [])]
        return cls(**values)


_DATE_FIELDS = ("issued_on", "period_start", "period_end", "deadline", "deadline_suggestion")


# Fields reported in `missing` when not found. Helper fields (issued_text, subject_hint, deadline_text...)
# only explain a missing value, and lists may legitimately be empty, so they are not listed.
TRACKED_FIELDS: tuple[str, ...] = (
    "number",
    "number_seq",
    "doc_type",
    "issuer_code",
    "parent_body",
    "issuer",
    "place",
    "issued_on",
    "subject",
    "recipients",
    "period_start",
    "period_end",
    "deadline",
    "report_to",
    "signer_authority",
    "signer_title",
    "signer_name",
    "body",
)


def parse_directive(text: str, today: date | None = None) -> DirectiveMeta:
    """Read a directive's metadata from its text; never raises on any input string.

    `today` resolves year-less dates ("trước ngày 30/10 hằng năm") when the directive has no issue date;
    it defaults to today in Asia/Ho_Chi_Minh.
    """
    lines = _clean_text(text).split("\n")
    folded = [_fold(line) for line in lines]
    meta = DirectiveMeta()
    opening = _find_opening(lines, folded)
    _read_header(meta, lines[: opening.header_end], subject_under_number=opening.type_heading is None)
    body_start = _read_opening(meta, lines, folded, opening)
    body_end = _find_body_end(lines, folded, body_start)
    signature = _find_signature(lines, folded, body_end)
    _read_signature(meta, signature)
    attachment_start = _find_attachment(lines, folded, signature, body_end)
    if attachment_start is not None:
        meta.attached_guide = _join_block(lines[attachment_start:]) or None

    body = _join_block(lines[body_start:body_end])
    meta.body = body or None
    sentences = _sentences(body)
    reference = meta.issued_on or today or datetime.now(_TZ).date()
    meta.cited = _cited_documents(" \n".join(filter(None, [meta.subject, body])), meta.number)
    meta.materials = _materials(lines[body_start:body_end])
    meta.period_start, meta.period_end = _period(body, reference)
    _read_deadline(meta, sentences, reference)
    meta.report_to = _report_to(sentences)
    if meta.subject is None:
        meta.subject_hint = _subject_hint(sentences)
    meta.missing = [name for name in TRACKED_FIELDS if getattr(meta, name) is None]
    return meta


# --- Text preparation -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    folded = bare.casefold()
    # One character out per character in, so a span in the folded text is the same span in the original.
    return folded if len(folded) == 1 else char


def _fold(text: str) -> str:
    """Diacritic-insensitive, case-insensitive form of `text` of the same length: NFD, marks dropped, đ→d."""
    return "".join(map(_fold_char, text))


_LINE_BREAKS = {ord("\f"): "\n", ord("\v"): "\n", ord("\u2028"): "\n", ord("\u2029"): "\n"}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f\u3000"), " ")
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(?<!\\)\*+")
_MD_HARD_BREAK = re.compile(r"\\$", re.MULTILINE)
_CELL_BAR_RE = re.compile(r"[ \t]*\|[ \t]*")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>\"'])")


def _clean_text(text: str) -> str:
    """NFC, "\\n" line ends, no invisible characters, Markdown markers removed, lines right-trimmed."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_LINE_BREAKS).translate(_INVISIBLE).translate(_ODD_SPACES)
    text = _MD_HEADING.sub("", text)
    # Emphasis first, then escapes, so an escaped "\*" survives as a literal star.
    text = _MD_EMPHASIS.sub("", text)
    text = _MD_HARD_BREAK.sub("", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    # A table copied from a web page or Markdown keeps its cells apart with "|": make them columns.
    text = _CELL_BAR_RE.sub("\t", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _join_block(lines: Sequence[str]) -> str:
    """Lines joined back into text, at most one blank line in a row, trimmed."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _is_upper(text: str) -> bool:
    return any(c.isalpha() for c in text) and text == text.upper()


_COLUMN_GAP = re.compile(r"\t+| {2,}")


def _segments(line: str) -> list[str]:
    """Pieces of a line that text extraction put side by side (two table columns on one line)."""
    return [piece for piece in _COLUMN_GAP.split(line.strip()) if piece]


# --- Shared patterns --------------------------------------------------------------------------------------

# All patterns run on folded text: lower case ASCII letters stand for any case and any diacritics.
# Runs of filler (spaces, dots of a blank to fill in) use possessive quantifiers (*+): two optional fillers
# in a row would otherwise backtrack quadratically on a long run of spaces.


def _any_of(*phrases: str) -> str:
    """A group matching any of the folded `phrases` as whole words; words may be apart by any whitespace
    (justified PDF lines come out with runs of spaces)."""
    words = (r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    return rf"(?<![a-z])(?:{'|'.join(words)})(?![a-z])"


_DASH = r"[-–—‐‑]"
_NUMERIC_DATE = r"\d{1,2}[/-]\d{1,2}(?:[/-]\d{4})?"
_WORDED_DATE = r"\d{1,2}\s++thang\s++\d{1,2}(?:\s*+(?:,\s*+)?nam\s++\d{4})?"
_ANY_DATE = rf"(?:{_NUMERIC_DATE}|{_WORDED_DATE})"
_FULL_DATE = r"(?:\d{1,2}[/-]\d{1,2}[/-]\d{4}|\d{1,2}\s++thang\s++\d{1,2}\s*+(?:,\s*+)?nam\s++\d{4})"
_PARTY_NUMBER = (
    rf"(?P<seq>\d++)?[\s._…]*+{_DASH}\s*+(?P<type>[a-z]{{1,5}})?\s*+/\s*+"
    r"(?P<issuer>[a-z0-9]++(?:-[a-z0-9]++)*+)"
)
_STATE_NUMBER = (
    rf"(?P<s_seq>\d++)?[\s._…]*+/\s*+(?:(?P<s_year>\d{{4}})\s*+/\s*+)?(?P<s_type>[a-z]{{1,5}}){_DASH}"
    rf"(?P<s_issuer>[a-z0-9]++)"
)
# "Số" at the start of a line or of a column ("Số 747-CV/ĐUK", "Số: 31 – HD/BTCTW", "Số     -CV/HU").
_OWN_NUMBER_RE = re.compile(
    rf"(?:^[ \t]*+|(?<=\t)|(?<=  ))so(?![a-z])[\s:]*+(?:{_PARTY_NUMBER}|{_STATE_NUMBER})"
)
_CITED_NUMBER = (
    r"(?P<seq>\d++)(?P<dash>\s*+" + _DASH + r"\s*+|[ \t]++)(?P<type>[a-z]{1,5})\s*+/\s*+"
    r"(?P<issuer>[a-z0-9]++(?:-[a-z0-9]++)*+)"
    r"|(?P<s_seq>\d++)/(?:(?P<s_year>\d{4})/)?(?P<s_type>[a-z]{1,5})" + _DASH + r"(?P<s_issuer>[a-z0-9]++)"
)
_DOC_KINDS = (
    "cong van",
    "chi thi",
    "nghi quyet",
    "ket luan",
    "ke hoach",
    "huong dan",
    "thong bao",
    "quyet dinh",
    "quy dinh",
    "bao cao",
    "chuong trinh",
    "thong tri",
    "to trinh",
    "de an",
    "cong dien",
    "quy che",
    "thong tu",
    "nghi dinh",
)
_CITED_RE = re.compile(
    # Two kinds in a row ("Thông báo kết luận số 12-TB/HU"): the one the type code agrees with is kept.
    rf"(?:(?P<kind>{_any_of(*_DOC_KINDS)}(?:\s++{_any_of(*_DOC_KINDS)})?)\s++)?(?P<so>so[\s:]*+)?"
    rf"(?<![\w/])(?:{_CITED_NUMBER})(?![\w])"
    rf"(?:\s*+(?:,\s*+)?(?:ban\s+hanh\s+)?ngay\s++(?P<date>{_FULL_DATE}))?"
)
_ISSUE_DATE_RE = re.compile(
    # A place starts at a word's start: tried from inside a long run of letters it would rescan the run.
    r"(?:(?<![a-z])(?P<place>[a-z]+\.?(?: [a-z]+\.?){0,5})\s*,\s*)?"
    r"(?P<when>(?<![a-z])ngay[\s._…]*+(?P<day>\d{1,2})?[\s._…]*+thang[\s._…]*+(?P<month>\d{1,2})?[\s._…]*+"
    r"nam\s*+(?P<year>\d{4}))"
)
_MOTTO_RE = re.compile(
    _any_of("dang cong san viet nam", "cong hoa xa hoi chu nghia viet nam")
    + r"|doc\s+lap\s*-\s*tu\s+do\s*-\s*hanh\s+phuc"
)
_DECORATION_RE = re.compile(r"[*\-–—_=~.•]+")
# A label may stand after a list dash or bullet ("- Kính gửi: - Các ban đảng, ...").
_LABEL_BULLET = r"\s*+(?:[-+•–*]\s*+)?"
_KINH_GUI_RE = re.compile(_LABEL_BULLET + r"kinh\s*+gui[\s:]*+")
_NOI_NHAN_RE = re.compile(r"\s*noi\s+nhan\b")
_LIST_ITEM_RE = re.compile(r"\s*+[-+•–]\s*+")
_AUTHORITY_RE = re.compile(r"(?:T\s*/\s*M|K\s*/\s*T|T\s*/\s*L|TM\.|KT\.|TL\.|TUQ\.)\s*\S")
_TITLE_RE = re.compile(
    r"(?:pho\s+)?"
    + _any_of("bi thu", "truong ban", "chanh van phong", "chu nhiem", "chu tich", "giam doc", "truong phong")
)
_SIGNATURE_PLACEHOLDER_RE = re.compile(
    r"[(\[]?\s*" + _any_of("da ky", "ky ten", "chu ky", "ky va dong dau", "signature")
)
_ATTACHMENT_HEADING_RE = re.compile(
    r"\s*" + _any_of("huong dan", "de cuong", "phu luc", "tai lieu", "mau bao cao")
)
# Type headings compared without spaces: OCR splits words ("K ÉT LUẬN"), and "KÉT" folds like "KẾT".
_TYPE_HEADINGS = frozenset(kind.replace(" ", "") for kind in (*_DOC_KINDS, "de cuong"))
_SUBJECT_PREFIX_RE = re.compile(r"(?:v\s*/\s*v|ve\s+viec)\s*:?\s*")
# Words that open a directive's body. A body line starts with a capital letter; a wrapped subject line does not
# (or follows a word that needs its complement, see _OPEN_ENDING_RE).
_BODY_OPENING_RE = re.compile(
    r"\s*(?:"
    + _any_of(
        "thuc hien",
        "can cu",
        "de",
        "nham",
        "theo",
        "tai phien hop",
        "tai hoi nghi",
        "hoi nghi",
        "sau khi",
        "qua",
        "vua qua",
        "hien nay",
        "trong thoi gian",
        "ban thuong vu",
        "ban chap hanh",
        "thuong truc",
    )
    + r"|ngay\s+\d)"
)
# A subject line ending like this goes on in the next line, whatever that line starts with.
_OPEN_ENDING_RE = re.compile(
    r"(?:[,\-–]|"
    + _any_of("cua", "ve", "va", "cac", "voi", "tai", "trong", "cho", "den", "theo", "so", "ngay")
    + r")\s*$"
)
_SUBJECT_PREFIX_START_RE = re.compile(r"\s*(?:v\s*/\s*v|ve\s+viec)(?![a-z])")
# A trích yếu is a few lines; past this the lines are the body, whatever they look like.
_SUBJECT_MAX_LINES = 6
_SUBJECT_MAX_CHARS = 400
# A paragraph this long is body text, not a subject written as one DOCX paragraph.
_SUBJECT_PARAGRAPH_MAX_CHARS = 250
_NUMBERED_HEADING_RE = re.compile(r"\s*(?:[ivx]+|\d+(?:\.\d+)*|[a-zđ])[.)]\s")
_HEADER_SEARCH_LINES = 60
# A line after a bare "Kính gửi:" longer than this is the body's first paragraph, not a recipient.
_RECIPIENT_MAX_CHARS = 150
_SIGNATURE_SEARCH_LINES = 40


# --- Layout -----------------------------------------------------------------------------------------------


class _Kind(Enum):
    TEXT = "text"
    BLANK = "blank"
    NUMBER = "number"
    DATE = "date"
    MOTTO = "motto"
    MARK = "mark"


@dataclass(frozen=True, slots=True)
class _Seg:
    """One piece of a header line, classified."""

    kind: _Kind
    text: str
    first: bool  # first piece on its line


@dataclass(slots=True)
class _Signature:
    authority: str | None = None
    title: str | None = None
    name: str | None = None
    end: int = 0  # index of the first line after the signature


@dataclass(frozen=True, slots=True)
class _Opening:
    """Where the header ends and how the body is introduced: by "Kính gửi" or by a type heading."""

    header_end: int
    kinh_gui: int | None
    type_heading: int | None


def _find_opening(lines: list[str], folded: list[str]) -> _Opening:
    kinh_gui = _first_line(folded, _KINH_GUI_RE, 0, _HEADER_SEARCH_LINES)
    heading = None
    if kinh_gui is None:
        heading = next(
            (
                i
                for i in range(min(len(lines), _HEADER_SEARCH_LINES))
                if _is_type_heading(lines[i], folded[i])
            ),
            None,
        )
    header_end = kinh_gui if kinh_gui is not None else heading
    if header_end is None:
        header_end = _end_of_header_items(folded)
    return _Opening(header_end=header_end, kinh_gui=kinh_gui, type_heading=heading)


def _is_type_heading(line: str, folded: str) -> bool:
    return len(line) < 40 and _is_upper(line) and "".join(folded.split()) in _TYPE_HEADINGS


def _first_line(folded: list[str], pattern: re.Pattern[str], start: int, limit: int) -> int | None:
    return next((i for i in range(start, min(len(folded), limit)) if pattern.match(folded[i])), None)


def _end_of_header_items(folded: list[str]) -> int:
    """Without "Kính gửi" or a type heading, the header ends after the last number/date/motto line."""
    last = -1
    for i, line in enumerate(folded[:_HEADER_SEARCH_LINES]):
        if _OWN_NUMBER_RE.search(line) or _ISSUE_DATE_RE.search(line) or _MOTTO_RE.search(line):
            last = i
    return last + 1


def _find_body_end(lines: list[str], folded: list[str], start: int) -> int:
    """The body ends at "Nơi nhận", at the signer's "T/M ..." line, or after the closing "./."."""
    for i in range(start, len(lines)):
        if _NOI_NHAN_RE.match(folded[i]) or _starts_with_authority(lines[i]):
            return i
        if "./." in lines[i]:
            return i + 1
    heading = _attachment_heading(lines, folded, start)
    return heading if heading is not None else len(lines)


def _starts_with_authority(line: str) -> bool:
    pieces = _segments(line)
    return bool(pieces) and _AUTHORITY_RE.match(pieces[0]) is not None and _is_upper(pieces[0])


def _attachment_heading(lines: list[str], folded: list[str], start: int) -> int | None:
    return next(
        (
            i
            for i in range(start, len(lines))
            if _ATTACHMENT_HEADING_RE.match(folded[i]) and _is_upper(lines[i])
        ),
        None,
    )


# --- Header -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _HeaderScan:
    segs: list[_Seg] = field(default_factory=list)
    number: re.Match[str] | None = None
    number_line: str = ""
    date: re.Match[str] | None = None
    date_line: str = ""


# A label or phrase cut at the end of a header line, its rest on the next line ("Số:" / "45-TB/BTG",
# "Kon Tum, ngày 16" / "tháng 6 năm 2025"), as a narrow table column wraps.
_CUT_NUMBER_RE = re.compile(r"\s*so\s*:?\s*")
_CUT_DATE_RE = re.compile(r".*(?<![a-z])ngay[\s._…]*+\d{0,2}\s*")
_DATE_REST_RE = re.compile(r"\s*thang(?![a-z])")


def _rejoin_cut_lines(header: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(header):
        line, folded = header[i], _fold(header[i])
        following = header[i + 1] if i + 1 < len(header) else ""
        cut = _CUT_NUMBER_RE.fullmatch(folded) or (
            _CUT_DATE_RE.fullmatch(folded) and _DATE_REST_RE.match(_fold(following))
        )
        if cut and following.strip():
            out.append(f"{line.rstrip()} {following.strip()}")
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _scan_header(header: list[str]) -> _HeaderScan:
    """Split the header lines into classified pieces, noting the directive's number and date."""
    scan = _HeaderScan()
    for line in _rejoin_cut_lines(header):
        if not line.strip():
            scan.segs.append(_Seg(_Kind.BLANK, "", True))
            continue
        folded = _fold(line)
        cuts: list[tuple[int, int, _Kind]] = []
        if scan.number is None and (m := _OWN_NUMBER_RE.search(folded)) and _valid_number(line, m):
            scan.number, scan.number_line = m, line
            cuts.append((m.start(), m.end(), _Kind.NUMBER))
        if scan.date is None and (m := _ISSUE_DATE_RE.search(folded)):
            scan.date, scan.date_line = m, line
            cuts.append((m.start(), m.end(), _Kind.DATE))
        cuts.extend((m.start(), m.end(), _Kind.MOTTO) for m in _MOTTO_RE.finditer(folded))
        scan.segs.extend(_line_segments(line, sorted(cuts, key=lambda cut: cut[0])))
    return scan


def _line_segments(line: str, cuts: list[tuple[int, int, _Kind]]) -> list[_Seg]:
    pieces: list[tuple[_Kind, str]] = []
    pos = 0
    for start, stop, kind in cuts:
        if start < pos:  # overlapping matches: the earlier one wins
            continue
        pieces.extend(_text_pieces(line[pos:start]))
        pieces.append((kind, line[start:stop].strip()))
        pos = stop
    pieces.extend(_text_pieces(line[pos:]))
    return [_Seg(kind, text, i == 0) for i, (kind, text) in enumerate(pieces)]


def _text_pieces(text: str) -> Iterator[tuple[_Kind, str]]:
    for piece in _segments(text):
        yield (_Kind.MARK if _DECORATION_RE.fullmatch(piece) else _Kind.TEXT), piece


def _group(original: str, match: re.Match[str], name: str) -> str | None:
    """The text of a named group, taken from the original (unfolded) line."""
    if match.group(name) is None:
        return None
    return original[match.start(name) : match.end(name)]


_STATE_GROUPS = ("s_seq", "s_type", "s_issuer", "s_year")


def _is_party_number(m: re.Match[str]) -> bool:
    return m.group("issuer") is not None


def _number_parts(original: str, m: re.Match[str]) -> tuple[str | None, str | None, str, str | None] | None:
    """(sequence, type code, issuer code, state-format year) of a matched number, or None if not one.

    A directive's own number may leave out its sequence and even its type ("Số      -/ĐU"); the issuer code is
    always there."""
    names = ("seq", "type", "issuer", None) if _is_party_number(m) else _STATE_GROUPS
    seq, doc_type, issuer, year = (_group(original, m, name) if name else None for name in names)
    if issuer is None or issuer != issuer.upper():
        return None
    # Type codes are capitalised ("CV", "QĐi", "CTr"), issuer codes upper case: this rejects prose.
    if doc_type is not None and not doc_type[0].isupper():
        return None
    return seq, doc_type, issuer, year


def _valid_number(original: str, m: re.Match[str]) -> bool:
    return _number_parts(original, m) is not None


def _format_number(
    seq: str | None, doc_type: str | None, issuer: str, year: str | None, state: bool
) -> str | None:
    if seq is None or doc_type is None:
        return None
    if state:
        return f"{seq}/{year}/{doc_type}-{issuer}" if year else f"{seq}/{doc_type}-{issuer}"
    return f"{seq}-{doc_type}/{issuer}"


def _read_header(meta: DirectiveMeta, header: list[str], *, subject_under_number: bool) -> None:
    scan = _scan_header(header)
    if scan.number is not None and (parts := _number_parts(scan.number_line, scan.number)):
        seq, doc_type, issuer, year = parts
        meta.number_seq, meta.doc_type, meta.issuer_code = seq, doc_type, issuer
        meta.number = _format_number(seq, doc_type, issuer, year, state=not _is_party_number(scan.number))
    if scan.date is not None:
        _read_issue_date(meta, scan.date_line, scan.date)
    meta.parent_body, meta.issuer = _issuer_names(scan.segs)
    if subject_under_number:
        meta.subject = _subject_under_number(scan.segs)


def _read_issue_date(meta: DirectiveMeta, line: str, m: re.Match[str]) -> None:
    place = _group(line, m, "place")
    if place and place[0].isupper():
        meta.place = _collapse(place)
    meta.issued_text = (_group(line, m, "when") or "").strip() or None
    day, month, year = (m.group(name) for name in ("day", "month", "year"))
    if day and month and year:
        meta.issued_on = _make_date(int(year), int(month), int(day))


# Words that start the wrapped second line of an organisation's name rather than a new organisation.
_NAME_CONTINUATION_RE = re.compile(_any_of("va", "cac", "cua", "truc thuoc"))


# "ĐẢNG BỘ HUYỆN X ĐẢNG ỦY XÃ Y": both columns' names run together on one line of a web page's copy.
_JOINED_NAMES_RE = re.compile(
    r"(dang bo\s.+?)\s+" + _any_of("dang uy", "huyen uy", "thanh uy", "quan uy", "thi uy", "chi bo")
)


def _issuer_runs(segs: list[_Seg]) -> tuple[list[list[str]], int]:
    """Runs of upper-case header lines, and how many runs came before the directive's number.

    A mixed-case line (a news paragraph above the header, the subject) or the number ends a run; the other
    column's motto and place-date line do not, whatever order the two columns were flattened in."""
    runs: list[list[str]] = [[]]
    before_number = -1
    for seg in segs:
        if seg.kind is _Kind.TEXT and _is_upper(seg.text):
            runs[-1].append(seg.text)
            continue
        if seg.kind is _Kind.NUMBER and before_number < 0:
            before_number = sum(1 for run in runs if run)
        if seg.kind in (_Kind.TEXT, _Kind.NUMBER) and runs[-1]:
            runs.append([])
    runs = [run for run in runs if run]
    return runs, (len(runs) if before_number < 0 else before_number)


def _issuer_names(segs: list[_Seg]) -> tuple[str | None, str | None]:
    """(parent body, issuer): the upper-case lines right above the number (the last ones of the header when it
    has no number; the first ones when the number comes first)."""
    runs, before_number = _issuer_runs(segs)
    if not runs:
        return None, None
    run = runs[before_number - 1] if before_number > 0 else runs[0]
    lines: list[str] = []
    for line in run:
        joined = _JOINED_NAMES_RE.match(_fold(line))
        lines.extend([line[: joined.end(1)], line[joined.end(1) :]] if joined else [line])
    units: list[str] = []
    for line in lines:
        if units and _NAME_CONTINUATION_RE.match(_fold(line.strip())):
            units[-1] = f"{units[-1]} {line}"
        else:
            units.append(line)
    units = [_collapse(unit) for unit in units]
    if not units:
        return None, None
    if len(units) == 1:
        return None, units[0]
    return units[0], " ".join(units[1:])


def _subject_under_number(segs: list[_Seg]) -> str | None:
    """The trích yếu: the text lines right under the number, before "Kính gửi"."""
    anchor = next((i for i, seg in enumerate(segs) if seg.kind is _Kind.NUMBER), None)
    if anchor is None:
        anchor = next((i for i in range(len(segs) - 1, -1, -1) if segs[i].kind is _Kind.MARK), None)
    if anchor is None:
        return None
    parts: list[str] = []
    for seg in segs[anchor + 1 :]:
        if seg.kind is _Kind.BLANK or _is_aside_of(seg, parts):
            continue
        if seg.kind is not _Kind.TEXT or _is_upper(seg.text):
            break
        parts.append(seg.text)
    return _clean_subject(" ".join(parts))


def _is_aside_of(seg: _Seg, collected: list[str]) -> bool:
    """A piece of the other header column (motto, place and date) met while reading one column: skipped
    before the column's text starts, or when it sits beside that text on the same line."""
    if seg.kind is _Kind.MARK:
        return not collected
    return seg.kind in (_Kind.MOTTO, _Kind.DATE) and (not collected or not seg.first)


def _continues(previous: str, following: str) -> bool:
    """A paragraph break inside a wrapped phrase: the next piece starts in lower case mid-sentence."""
    return following[:1].islower() and not previous.rstrip().endswith((".", ":", ";"))


def _clean_subject(text: str) -> str | None:
    text = _collapse(text)
    if m := _SUBJECT_PREFIX_RE.match(_fold(text)):
        text = text[m.end() :]
        text = text[:1].upper() + text[1:]
    return text or None


# --- Recipients and subject of documents without "Kính gửi" ------------------------------------------------


def _read_opening(meta: DirectiveMeta, lines: list[str], folded: list[str], opening: _Opening) -> int:
    """Read the recipients, or the subject under a type heading; return the index of the body's first line."""
    if opening.kinh_gui is not None:
        meta.recipients, body_start = _recipients(lines, folded, opening.kinh_gui)
        return body_start
    if opening.type_heading is not None:
        meta.subject, body_start = _subject_block(lines, folded, opening.type_heading + 1)
        return body_start
    start = _next_text_line(lines, opening.header_end)
    if meta.subject is None and start < len(lines) and _SUBJECT_PREFIX_START_RE.match(folded[start]):
        # No "Kính gửi": the "V/v ..." lines under the header run straight into the body.
        meta.subject, body_start = _subject_block(lines, folded, start)
        return body_start
    return opening.header_end


def _next_text_line(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _recipients(lines: list[str], folded: list[str], at: int) -> tuple[str | None, int]:
    """The "Kính gửi" recipients (on the label's line, wrapped, or as a dash list) and the next line."""
    label = _KINH_GUI_RE.match(folded[at])
    first = lines[at][label.end() :].strip() if label else ""
    items: list[list[str]] = [[first]] if first else []
    i = at + 1
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if _is_list_item(line):
            items.append([line])
        elif not items and len(line) <= _RECIPIENT_MAX_CHARS:
            items.append([line])  # the label stood alone; the recipient is on the next line
        elif items and _continues(items[-1][-1], line):
            items[-1].append(line)
        else:
            break
        i += 1
    cleaned = [_collapse(_strip_bullet(" ".join(item))).rstrip(",;.") for item in items]
    return ("; ".join(item for item in cleaned if item) or None), i


def _is_list_item(line: str) -> bool:
    bullet = _LIST_ITEM_RE.match(line)
    return bullet is not None and bullet.end() < len(line)


def _strip_bullet(text: str) -> str:
    bullet = _LIST_ITEM_RE.match(text)
    return text[bullet.end() :] if bullet else text


def _subject_block(lines: list[str], folded: list[str], start: int) -> tuple[str | None, int]:
    """The subject lines from `start` (under a type heading, or a "V/v" line) and the body's first line.

    The subject may be several DOCX paragraphs or hard-wrapped lines with no blank line before the body; it ends
    where the body begins: a body opening ("Thực hiện ...", "Tại phiên họp ...") written with a capital,
    a numbered heading, a long paragraph, or a paragraph ending in ":"."""
    i = _next_text_line(lines, start)
    parts: list[str] = []
    size = 0
    while i < len(lines) and len(parts) < _SUBJECT_MAX_LINES and size < _SUBJECT_MAX_CHARS:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if (
            _DECORATION_RE.fullmatch(line)
            or _NUMBERED_HEADING_RE.match(folded[i])
            or _KINH_GUI_RE.match(folded[i])
        ):
            break
        if _opens_body(lines, folded, i, parts):
            break
        parts.append(line)
        size += len(line)
        i += 1
    while i < len(lines) and (not lines[i].strip() or _DECORATION_RE.fullmatch(lines[i].strip())):
        i += 1
    return _clean_subject(" ".join(parts)), i


def _opens_body(lines: list[str], folded: list[str], i: int, parts: list[str]) -> bool:
    line = lines[i].strip()
    if len(line) > _SUBJECT_PARAGRAPH_MAX_CHARS:
        return True
    if not parts:
        return _BODY_OPENING_RE.match(folded[i]) is not None and _paragraph_ends_with_colon(lines, folded, i)
    if _OPEN_ENDING_RE.search(_fold(parts[-1])):
        return False
    if parts[-1].endswith((".", ":", ";")) or _opens_sentence(line, folded[i]):
        return True
    # "Ban Tuyên giáo ... thông báo ... tới các" / "đảng bộ ... như sau:": a sentence that introduces the body.
    return line[:1].isupper() and not _is_upper(line) and _paragraph_ends_with_colon(lines, folded, i)


def _opens_sentence(line: str, folded: str) -> bool:
    """A mixed-case line that starts with a capital and a body opening ("Thực hiện", "Qua", "Ngày 5/3 ...")."""
    return line[:1].isupper() and not _is_upper(line) and _BODY_OPENING_RE.match(folded) is not None


def _paragraph_ends_with_colon(lines: list[str], folded: list[str], i: int) -> bool:
    """Whether the paragraph from line `i` (to a blank line or the next body opening, wrapped or not) introduces
    the body ("..., Ban Thường vụ ban hành Kế hoạch như sau:"): then it is the body, not a subject that happens to
    start with "Thực hiện". A paragraph longer than a subject is the body too."""
    for k in range(i, min(len(lines), i + _SUBJECT_MAX_LINES)):
        line = lines[k].strip()
        if not line or (k > i and _opens_sentence(line, folded[k])):
            return False
        if line.endswith(":"):
            return True
    return i + _SUBJECT_MAX_LINES <= len(lines)


# --- Signature and attached guide -------------------------------------------------------------------------


def _find_signature(lines: list[str], folded: list[str], start: int) -> _Signature | None:
    """The signer block after the body: authority ("T/M BAN THƯỜNG VỤ"), title, name."""
    pieces = [
        (i, _without_signed_mark(piece))
        for i in range(start, min(len(lines), start + _SIGNATURE_SEARCH_LINES))
        for piece in (_segments(lines[i]) or [""])
    ]
    signature = _Signature()
    authority_at = next(
        (k for k, (_, p) in enumerate(pieces) if _AUTHORITY_RE.match(p) and _is_upper(p)), None
    )
    if authority_at is not None:
        signature.authority = _collapse(pieces[authority_at][1])
        title_at = authority_at + 1
    else:
        # Signed in one's own name: no "T/M ..." line, the title ("BÍ THƯ") stands alone.
        title_at = next(
            (k for k, (_, p) in enumerate(pieces) if _is_upper(p) and _TITLE_RE.match(_fold(p))), -1
        )
        if title_at < 0:
            return None
    signature.title, position = _signature_title(pieces, title_at)
    signature.end = pieces[position - 1][0] + 1
    name_at = _signature_name(pieces, position)
    if name_at is not None:
        signature.name = _collapse(pieces[name_at][1])
        signature.end = pieces[name_at][0] + 1
    return signature


_SIGNED_MARK_RE = re.compile(r"\s*[(\[]\s*(?:da\s+ky|ky\s+ten|ky\s+va\s+dong\s+dau)\s*[)\]]\s*$")


def _without_signed_mark(piece: str) -> str:
    """ "PHÓ BÍ THƯ (Đã ký)" -> "PHÓ BÍ THƯ": a copy's mark for the signature, written after the title."""
    mark = _SIGNED_MARK_RE.search(_fold(piece))
    return piece[: mark.start()] if mark and mark.start() > 0 else piece


def _is_aside(piece: str) -> bool:
    """A "Nơi nhận" label or list item interleaved with the signature column."""
    return bool(_LIST_ITEM_RE.match(piece) or _NOI_NHAN_RE.match(_fold(piece)))


def _signature_title(pieces: list[tuple[int, str]], k: int) -> tuple[str | None, int]:
    parts: list[str] = []
    while k < len(pieces):
        piece = pieces[k][1]
        if not piece:
            if parts:
                break
        elif _is_aside(piece):
            pass
        elif _is_upper(piece):
            parts.append(piece)
        else:
            break
        k += 1
    return (_collapse(" ".join(parts)) or None), k


def _signature_name(pieces: list[tuple[int, str]], k: int) -> int | None:
    for j in range(k, len(pieces)):
        piece = pieces[j][1]
        if not piece or _is_aside(piece) or _SIGNATURE_PLACEHOLDER_RE.match(_fold(piece)):
            continue
        return j if _looks_like_name(piece) else None
    return None


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 6 and all(
        word.isalpha() and word[0].isupper() and (len(word) == 1 or word[1:].islower()) for word in words
    )


def _find_attachment(
    lines: list[str], folded: list[str], signature: _Signature | None, body_end: int
) -> int | None:
    """First line of a guide or outline attached after the signature, if any.

    After a complete signature everything that follows is attached; without one, only from a heading
    such as "HƯỚNG DẪN" or "ĐỀ CƯƠNG" on, so a stray closing line is not mistaken for a guide."""
    if signature is None or signature.name is None:
        start = signature.end if signature else body_end
        return _attachment_heading(lines, folded, start)
    i = signature.end
    while i < len(lines) and (not lines[i].strip() or _is_aside(lines[i].strip())):
        i += 1
    return i if i < len(lines) else None


def _read_signature(meta: DirectiveMeta, signature: _Signature | None) -> None:
    if signature is not None:
        meta.signer_authority = signature.authority
        meta.signer_title = signature.title
        meta.signer_name = signature.name


# --- Body: cited documents, materials ---------------------------------------------------------------------


def _cited_documents(text: str, own_number: str | None) -> list[CitedDocument]:
    """Documents the text cites, each once, in order of first mention; the directive's own number excluded."""
    found: dict[str, CitedDocument] = {}
    own = _fold(own_number) if own_number else None
    for m in _CITED_RE.finditer(_fold(text)):
        parts = _number_parts(text, m)
        if parts is None:
            continue
        seq, doc_type, issuer, year = parts
        if _is_party_number(m) and not re.search(_DASH, m.group("dash")) and not m.group("so"):
            continue  # "84 QĐ/TW" without its dash is a number only after "số"
        number = _format_number(seq, doc_type, issuer, year, state=not _is_party_number(m))
        if number is None or doc_type is None or _fold(number) == own:
            continue
        kind = _agreeing_kind(_group(text, m, "kind"), doc_type)
        dated = _date_from_token(m.group("date"), None) if m.group("date") else None
        # A later mention may carry the date or kind an earlier one left out.
        known = found.setdefault(_fold(number), CitedDocument(number, doc_type, issuer, dated, kind))
        known.date = known.date or dated
        known.kind = known.kind or kind
    return list(found.values())


_KIND_WORD_RE = re.compile(_any_of(*_DOC_KINDS))


def _agreeing_kind(written: str | None, doc_type: str) -> str | None:
    """The kind named before a number, if its type code agrees ("Công văn" for CV, "Quy định" for QĐ or QĐi);
    of two kinds in a row, the one that agrees. A kind that disagrees with the code is not reported."""
    if not written:
        return None
    code = _fold(doc_type)
    for m in _KIND_WORD_RE.finditer(_fold(written)):
        initials = "".join(word[0] for word in m.group().split())
        if code.startswith(initials):
            return _kind_name(written[m.start() : m.end()])
    return None


def _kind_name(kind: str) -> str:
    """ "công văn" as written mid-sentence -> "Công văn"."""
    kind = _collapse(kind)
    return kind[:1].upper() + kind[1:]


_MATERIALS_LABEL_RE = re.compile(
    _LABEL_BULLET
    + r"(?:(?:[ivx]+|\d+(?:\.\d+)*|[a-z])[.)]\s*)?(?:cac\s+)?tai\s+lieu\s+"
    + _any_of("sinh hoat", "gui kem", "kem theo")
    + r"\s*:"
)
_ITEM_NUMBER_RE = re.compile(r"\(\d{1,2}\)")
_SENTENCE_STOP_RE = re.compile(r"\.(?=\s+[^\W\d_])")


def _materials(body_lines: list[str]) -> list[str]:
    """Items listed under "Tài liệu sinh hoạt:" / "Tài liệu gửi kèm:", as (1) ... (2) ... or a dash list."""
    folded = [_fold(line) for line in body_lines]
    for i, line in enumerate(folded):
        label = _MATERIALS_LABEL_RE.match(line)
        if label is None:
            continue
        items = _material_items(body_lines[i][label.end() :], body_lines, folded, i + 1)
        if items:
            return items
    return []


def _material_items(rest: str, lines: list[str], folded_lines: list[str], start: int) -> list[str]:
    """The items after a materials label: the label's line and the lines from `start` on, up to the next heading.

    The lines are walked by index, not sliced: many empty labels in a row would otherwise copy the rest of the
    body once each."""
    parts = [rest.strip()] if rest.strip() else []
    numbered = _ITEM_NUMBER_RE.search(rest) is not None
    dash_items: list[str] = []
    for k in range(start, len(lines)):
        line, folded = lines[k], folded_lines[k]
        stripped = line.strip()
        if not stripped:
            # A paragraph break ends the list unless it falls inside an item (2) ... continued below.
            if dash_items or (parts and parts[-1].rstrip("”\"') ").endswith(".")):
                break
            continue
        if _NUMBERED_HEADING_RE.match(folded) or (
            stripped.startswith("(") and not _ITEM_NUMBER_RE.match(stripped)
        ):
            break
        if _is_list_item(stripped) and not numbered:
            dash_items.append(_strip_bullet(stripped))
            continue
        if dash_items:
            break
        parts.append(stripped)
        numbered = numbered or _ITEM_NUMBER_RE.search(stripped) is not None
    text = " ".join(parts)
    if numbered:
        items = _ITEM_NUMBER_RE.split(text)[1:]
        items[-1] = _SENTENCE_STOP_RE.split(items[-1], maxsplit=1)[0]
    else:
        items = dash_items or ([text] if text else [])
    return [cleaned for item in items if (cleaned := _collapse(item).strip(" ;,."))]


# --- Body sentences: period, deadline, report recipient, subject hint -------------------------------------


_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+")


def _sentences(body: str) -> list[str]:
    """The body's sentences, each on one line with whitespace collapsed (wrapped PDF lines rejoined)."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body):
        joined = _collapse(paragraph)
        out.extend(sentence for sentence in _SENTENCE_SPLIT_RE.split(joined) if sentence)
    return out


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_numbers(token: str) -> tuple[int, int, int | None]:
    numbers = [int(n) for n in re.findall(r"\d+", token)]
    day, month = numbers[0], numbers[1]
    return day, month, numbers[2] if len(numbers) > 2 else None


def _date_from_token(token: str, reference: date | None) -> date | None:
    """A date from "01/5/2024" or "01 tháng 5 năm 2024"; a year-less one is the next on/after `reference`."""
    day, month, year = _date_numbers(token)
    if year is not None:
        return _make_date(year, month, day)
    return _next_yearly(day, month, reference) if reference else None


def _next_yearly(day: int, month: int, reference: date) -> date | None:
    # Up to eight years ahead so 29/02 finds its next leap year; an impossible day/month never does.
    for year in range(reference.year, reference.year + 9):
        candidate = _make_date(year, month, day)
        if candidate is not None and candidate >= reference:
            return candidate
    return None


def _next_monthly(day: int, reference: date) -> date | None:
    for step in range(13):
        month_index = reference.month - 1 + step
        candidate = _make_date(reference.year + month_index // 12, month_index % 12 + 1, day)
        if candidate is not None and candidate >= reference:
            return candidate
    return None


_PERIOD_RE = re.compile(
    rf"(?<![a-z])tu\s++(?:ngay\s++)?(?P<start>{_ANY_DATE})\s*+(?:den|toi|{_DASH})\s*+"
    # "... đến kết thúc hoạt động kỷ niệm (7/5/2024)": a few words may stand before a bracketed end date.
    rf"(?:het\s++)?(?:ngay\s++)?(?:[^.;()]{{0,80}}?\(\s*+(?:ngay\s++)?)?(?P<end>{_ANY_DATE})"
)


def _period(body: str, reference: date) -> tuple[date | None, date | None]:
    """The campaign period "từ 01/5/2024 đến 7/5/2024"; None, None when absent or not a valid range."""
    m = _PERIOD_RE.search(_fold(body))
    if m is None:
        return None, None
    s_day, s_month, s_year = _date_numbers(m.group("start"))
    e_day, e_month, e_year = _date_numbers(m.group("end"))
    # "từ 01/5 đến 7/5/2024": the year is written once, on the end date.
    borrowed = s_year is None and e_year is not None
    if borrowed:
        s_year = e_year
    start = _make_date(s_year, s_month, s_day) if s_year else _next_yearly(s_day, s_month, reference)
    if start is None:
        return None, None
    end = _make_date(e_year, e_month, e_day) if e_year else _next_yearly(e_day, e_month, start)
    if end is not None and borrowed and start > end:  # "từ 20/12 đến 10/01/2025"
        start = _make_date(start.year - 1, s_month, s_day)
    if end is None or start is None or start > end:
        return None, None
    return start, end


# "gửi ... cho Ban ..." names where reports go as well as "gửi về Ban ...".
_REPORT_VERB = r"bao\s+cao(?!\s+vien)|(?<![a-z])gui\s|(?<![a-z])nop\s"
_REPORT_SENTENCE_RE = re.compile(
    r"bao\s+cao(?!\s+vien)|gui\s+(?:ve|ket\s+qua)|nop\s+(?:ve|bao)|gui\s[^.;]{0,80}?(?<![a-z])(?:cho|ve)\s"
)
_REPORT_WORD_RE = re.compile(_REPORT_VERB)
_COMPLETION_WORD_RE = re.compile(r"(?<![a-z])(?:hoan\s+thanh|xong)(?![a-z])")
_RECURRING_WORD_RE = re.compile(_any_of("dinh ky", "hang nam"))
_DEADLINE_RE = re.compile(
    r"(?P<phrase>(?<![a-z])(?:truoc|cham\s+nhat(?:\s+la)?|han\s+(?:chot|cuoi)(?:\s+la)?)\s+"
    r"(?:\d{1,2}\s*+(?:h|gio)\s*+(?:\d{2}(?:\s*+phut)?)?[\s,]*+)?(?:ngay\s++)?"
    rf"(?:(?P<date>{_ANY_DATE})(?:\s+(?P<yearly>hang\s+nam))?"
    r"|(?P<day>\d{1,2})\s+(?P<monthly>hang\s+thang)))"
)
_PERIOD_END_RE = re.compile(
    r"(?<![a-z])(?:sau\s+khi\s+|khi\s+)?ket\s+thuc\s+"
    + _any_of(
        "dot", "cac hoat dong", "hoat dong", "chien dich", "chuong trinh", "cuoc", "dip", "thang", "tuan"
    )
    + r"[^,;.]*"
)


def _read_deadline(meta: DirectiveMeta, sentences: list[str], reference: date) -> None:
    """Every dated deadline of the body, each marked as a report or a completion deadline. The directive's
    `deadline` is the first report deadline, else none: a report due when the campaign ends is then noted for
    the board to confirm. A completion deadline is never taken for the report deadline."""
    meta.deadlines = [
        deadline for sentence in sentences for deadline in _sentence_deadlines(sentence, reference)
    ]
    main = next((d for d in meta.deadlines if d.kind is DeadlineKind.REPORT), None)
    if main is None:
        _read_period_end(meta, sentences)
        return
    meta.deadline, meta.deadline_text, meta.deadline_recurring = main.date, main.text, main.recurring


def _sentence_deadlines(sentence: str, reference: date) -> Iterator[Deadline]:
    folded = _fold(sentence)
    # Each word's positions are found once per sentence: a hostile sentence may hold thousands of deadlines.
    words = sorted(
        [(m.start(), DeadlineKind.REPORT) for m in _REPORT_WORD_RE.finditer(folded)]
        + [(m.start(), DeadlineKind.COMPLETION) for m in _COMPLETION_WORD_RE.finditer(folded)]
    )
    recurring_words = _RECURRING_WORD_RE.search(folded) is not None
    for m in _DEADLINE_RE.finditer(folded):
        kind = _deadline_kind(words, m.start(), m.end())
        if kind is None:
            continue  # a date nothing is due by ("trước ngày 15/6, các chi bộ họp ...")
        text = _collapse(_group(sentence, m, "phrase") or "")
        if m.group("monthly"):
            yield Deadline(_next_monthly(int(m.group("day")), reference), kind, text, Recurrence.MONTHLY)
            continue
        token = m.group("date")
        # "Định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12)": a year-less date in a sentence
        # about a recurring report comes back every year.
        yearly = m.group("yearly") or (_date_numbers(token)[2] is None and recurring_words)
        yield Deadline(_date_from_token(token, reference), kind, text, Recurrence.YEARLY if yearly else None)


def _deadline_kind(words: list[tuple[int, DeadlineKind]], start: int, end: int) -> DeadlineKind | None:
    """What is due: told by the nearest reporting or completion word before the deadline, else by the first
    one after it ("Trước ngày 25 hằng tháng, ... báo cáo ..."). `words` are (position, kind), sorted."""
    at = bisect.bisect_left(words, (start,))
    if at > 0:
        return words[at - 1][1]
    after = bisect.bisect_left(words, (end,))
    return words[after][1] if after < len(words) else None


def _read_period_end(meta: DirectiveMeta, sentences: list[str]) -> None:
    """Reports due when the campaign ends ("Kết thúc đợt tuyên truyền ..., báo cáo kết quả ...")."""
    for sentence in sentences:
        folded = _fold(sentence)
        if not _REPORT_SENTENCE_RE.search(folded):
            continue
        m = _PERIOD_END_RE.search(folded)
        if m is not None:
            meta.deadline_text = _collapse(sentence[m.start() : m.end()])
            meta.deadline_at_period_end = True
            meta.deadline_suggestion = meta.period_end
            return


_ORGANISATION_HEADS = (
    "ban",
    "van phong",
    "thuong truc",
    "dang uy",
    "tinh uy",
    "huyen uy",
    "thanh uy",
    "quan uy",
    "thi uy",
    "cap uy",
    "chi bo",
    "uy ban",
    "ubnd",
    "so",
    "phong",
    "bo",
    "hoi dong",
    "mat tran",
    "doan",
    "co quan",
)
_ORG_START_RE = re.compile(rf"(?<![a-z])(?P<word>ve|cho)\s+(?={_any_of(*_ORGANISATION_HEADS)})")
# Words that end the organisation's name in "gửi về Ban ... trước ngày ...", "... để tổng hợp".
_ORG_END_RE = re.compile(
    r"\s+"
    + _any_of("truoc", "de", "cham nhat", "theo", "dong thoi", "bang", "kem theo", "trong", "han")
    + r"|\s+qua\s+"
    + _any_of("email", "thu", "he thong", "phan mem", "dia chi", "zalo", "mang")
    + r"|[,.;:(]|$"
)
_VIA_RE = re.compile(r"\(\s*qua\s[^)]*\)")


def _is_destination_word(sentence: str, m: re.Match[str], first_verb: int | None) -> bool:
    """ "về" itself, not "vệ"/"vẻ", which fold the same; "cho" itself (not "chờ") and after a sending or
    reporting verb ("gửi bản tổng hợp cho Ban ...") that starts at `first_verb`."""
    word = sentence[m.start("word") : m.end("word")].casefold()
    if m.group("word") == "ve":
        return word == "về"
    return word == "cho" and first_verb is not None and first_verb < m.start()


def _report_to(sentences: list[str]) -> str | None:
    """Where reports go: "báo cáo ... về Ban Thường vụ Đảng ủy Khối (qua Ban Tuyên giáo Đảng ủy)"."""
    for sentence in sentences:
        folded = _fold(sentence)
        if not _REPORT_SENTENCE_RE.search(folded):
            continue
        verb = _REPORT_WORD_RE.search(folded)
        for m in _ORG_START_RE.finditer(folded):
            if (
                not _is_destination_word(sentence, m, verb.start() if verb else None)
                or not sentence[m.end()].isupper()
            ):
                continue
            stop = _ORG_END_RE.search(folded, m.end())
            end = stop.start() if stop else len(sentence)
            organisation = sentence[m.end() : end].strip()
            via = _VIA_RE.match(folded, end) or _VIA_RE.match(folded, end + 1)
            if via is not None:
                organisation = f"{organisation} {sentence[via.start() : via.end()]}"
            return _collapse(organisation) or None
    return None


_ABOUT_RE = re.compile(r"(?<!\w)về\s+(?P<about>[^.;]+)", re.IGNORECASE)
_HINT_MAX_CHARS = 200


def _subject_hint(sentences: list[str]) -> str | None:
    """The first "về ..." phrase of the body's opening sentence, for directives without a subject line."""
    if not sentences:
        return None
    m = _ABOUT_RE.search(sentences[0])
    if m is None:
        return None
    hint = m.group("about").strip(" ,")
    if _fold(hint).startswith("viec "):
        hint = hint[5:]
    return hint[:_HINT_MAX_CHARS] or None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
