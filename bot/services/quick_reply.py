"""Parse a whole report sent as one message ("15/4; chuyên đề; 25/30; 12; Tốt; Không") against a form.

Parts are separated by ";" or new lines and answer the form's non-photo fields in order. The message may
start with the directive it reports on ("747: ..." or "747-CV/ĐUK ..."), matched against the numbers the
caller says are pending.

A one-line message without ";" may separate its parts by commas ("15/4, chuyên đề, 25/30, 12, Tốt, Không") when
that reading is unambiguous (`_comma_reading`): as many parts as the form has fields (extra commas only inside a
last text answer, and then only if every answer reads), a comma between two digits ("1,5") never splits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.core.textnorm import fold, is_blank, nfc
from bot.services.directive_numbers import match_number
from bot.services.field_parsers import JsonValue, Ok, Refusal, Skipped, parse_field
from bot.services.forms import FieldSpec, FieldType, FormSpec
from messages import forms as msg


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """A part of the message that did not fit its field, with the Vietnamese reason."""

    key: str
    label: str
    message: str


@dataclass(frozen=True, slots=True)
class QuickParse:
    """What a one-message report said.

    `refusal` is set when the message as a whole cannot be read (empty, too many parts, unknown or
    ambiguous directive); the field buckets are then empty. Otherwise every non-photo field is in exactly
    one of `values`, `skipped` (optional, not answered), `missing` (required, not answered) or `invalid`.
    """

    values: dict[str, JsonValue] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    invalid: tuple[FieldIssue, ...] = ()
    directive_number: str | None = None
    refusal: str | None = None

    @property
    def complete(self) -> bool:
        """True when the report can be saved as it is."""
        return self.refusal is None and not self.missing and not self.invalid


def parse_quick_reply(
    form: FormSpec, text: str, today: date, known_numbers: Sequence[str] = ()
) -> QuickParse:
    """Parse `text` as a one-message report on `form`; `known_numbers` are the directives it may name."""
    template = form.quick_template()
    parts = _split_parts(text) if isinstance(text, str) else []
    if not parts:
        return QuickParse(refusal=nfc(msg.QUICK_EMPTY.format(template=template)))
    fields = form.quick_fields
    if len(parts) == 1 and (by_comma := _comma_reading(fields, parts[0], today, known_numbers)) is not None:
        return by_comma
    directive = _take_directive(parts, fields, today, known_numbers)
    if isinstance(directive, Refusal):
        return QuickParse(refusal=directive.message)
    number, parts = directive
    if not parts:
        refusal = msg.QUICK_NO_ANSWERS.format(number=number, template=template)
        return QuickParse(directive_number=number, refusal=nfc(refusal))
    if len(parts) > len(fields):
        refusal = msg.QUICK_TOO_MANY.format(parts=len(parts), fields=len(fields), template=template)
        return QuickParse(directive_number=number, refusal=nfc(refusal))
    return _parse_parts(fields, parts, today, number)


def _split_parts(text: str) -> list[str]:
    """Non-blank lines, each split on ";"; empty slots inside a line count, trailing ones do not."""
    parts: list[str] = []
    for line in nfc(text).splitlines():
        if is_blank(line):
            continue
        pieces = [piece.strip() for piece in line.split(";")]
        while pieces and is_blank(pieces[-1]):
            pieces.pop()
        parts.extend(pieces)
    while parts and is_blank(parts[-1]):
        parts.pop()
    return parts


# A comma that is not a decimal comma: "1,5" stays one number, "25/30, 12" and "Tốt,Không" split.
_COMMA = re.compile(r",(?![0-9])|(?<![0-9]),")


def _comma_reading(
    fields: Sequence[FieldSpec], line: str, today: date, known_numbers: Sequence[str]
) -> QuickParse | None:
    """`line` read with commas between the answers, or None when that reading is not clearly the one meant."""
    if any(spec.type is FieldType.ATTENDANCE for spec in fields):
        return None  # an attendance answer is itself a list with commas ("25 chính thức, 3 dự bị")
    pieces = [piece.strip() for piece in _COMMA.split(line)]
    if len(pieces) < 2 or any(is_blank(piece) for piece in pieces) or not fields:
        return None
    directive = _take_directive(pieces, fields, today, known_numbers)
    if isinstance(directive, Refusal):
        return None
    number, answers = directive
    if len(answers) > len(fields) and fields[-1].type is FieldType.TEXT:
        # Commas beyond the form's fields can only belong to the last, free-text answer; kept only if all read.
        head = len(fields) - 1
        parsed = _parse_parts(fields, [*answers[:head], ", ".join(answers[head:])], today, number)
        return parsed if parsed.complete else None
    if len(answers) != len(fields):
        return None
    return _parse_parts(fields, answers, today, number)


def _parse_parts(
    fields: Sequence[FieldSpec], parts: Sequence[str], today: date, number: str | None
) -> QuickParse:
    values: dict[str, JsonValue] = {}
    skipped: list[str] = []
    missing: list[str] = []
    invalid: list[FieldIssue] = []
    for index, spec in enumerate(fields):
        answer = _strip_label(spec, parts[index]) if index < len(parts) else ""
        if is_blank(answer):
            (missing if spec.required else skipped).append(spec.key)
            continue
        result = parse_field(spec, answer, today)
        if isinstance(result, Ok):
            values[spec.key] = result.value
        elif isinstance(result, Skipped):
            skipped.append(spec.key)
        else:
            invalid.append(FieldIssue(spec.key, spec.label, result.message))
    return QuickParse(
        values=values,
        skipped=tuple(skipped),
        missing=tuple(missing),
        invalid=tuple(invalid),
        directive_number=number,
    )


# --- "Ngày: 15/4" - a part that repeats its field's name --------------------------------------------------

_LABELLED = re.compile(r"\s*([^:\n]{2,60}?)\s*:\s*(.*)", re.DOTALL)


def _strip_label(spec: FieldSpec, part: str) -> str:
    """Drop a leading "<field name>:" so "Ngày: 15/4" and "Số ĐV: 25/30" read like "15/4" and "25/30"."""
    match = _LABELLED.fullmatch(part)
    if not match or not any(ch.isalpha() for ch in match[1]):
        return part
    said = fold(match[1])
    names = (fold(spec.label), fold(spec.short_label), spec.key.replace("_", " "))
    if any(re.search(r"(?:^|[\s/])" + re.escape(said) + r"(?:$|[\s/,])", name) for name in names):
        return match[2]
    return part


# --- "747: ..." / "747-CV/ĐUK ..." - the directive a report answers -------------------------------------

_DASH_CLASS = "[" + re.escape("-–—‐‑−") + "]"
_LEAD_WORDS = r"(?:(?:số|so|cv|công\s+văn|cong\s+van|văn\s+bản|van\s+ban|kế\s+hoạch|ke\s+hoach|kh)\.?\s*)?"
_SEGMENT = r"[^\W\d_][\w.&]*"
_TAIL = rf"(?:\s*{_DASH_CLASS}\s*{_SEGMENT})?(?:\s*/\s*{_SEGMENT})*"
_FULL_TAIL = rf"(?:\s*{_DASH_CLASS}\s*{_SEGMENT}(?:\s*/\s*{_SEGMENT})*|(?:\s*/\s*{_SEGMENT})+)"
# "747: 15/4", "Số 747-CV/ĐUK: 15/4": a colon makes any reference explicit.
_REF_COLON = re.compile(rf"\s*{_LEAD_WORDS}(?P<ref>[0-9]{{1,6}}{_TAIL})\s*:\s*(?P<rest>.*)", re.I | re.S)
# "747-CV/ĐUK 15/4": a number with its type or issuer cannot be mistaken for an answer.
_REF_FULL = re.compile(
    rf"\s*{_LEAD_WORDS}(?P<ref>[0-9]{{1,6}}{_FULL_TAIL})(?:(?:\s*[,.])?\s+(?P<rest>.*)|[,.]?\s*)", re.I | re.S
)
# "747 15/4" or "747" alone: only a reference when it names a pending directive and is no answer itself.
_REF_BARE = re.compile(rf"\s*{_LEAD_WORDS}(?P<ref>[0-9]{{1,6}})(?:\s+(?P<rest>.*))?", re.I | re.S)
_FIRST_DIGITS = re.compile(r"[0-9]+")


def _take_directive(
    parts: list[str], fields: Sequence[FieldSpec], today: date, known_numbers: Sequence[str]
) -> tuple[str | None, list[str]] | Refusal:
    """The directive named at the start of the message, and the parts left for the fields."""
    first = parts[0]
    for pattern in (_REF_COLON, _REF_FULL):
        if match := pattern.fullmatch(first):
            found = _resolve(match["ref"], known_numbers)
            if isinstance(found, Refusal):
                return found
            return found, _replace_first(parts, match["rest"] or "")
    match = _REF_BARE.fullmatch(first)
    if match is None or not fields:
        return None, parts
    found = _resolve(match["ref"], known_numbers)
    if isinstance(found, Refusal):
        return None, parts
    rest = match["rest"] or ""
    first_is_answer = not isinstance(parse_field(fields[0], first, today), Refusal)
    fits_only_without = is_blank(rest) and len(parts) == len(fields) + 1
    if first_is_answer and not fits_only_without:
        return None, parts
    return found, _replace_first(parts, rest)


def _replace_first(parts: list[str], rest: str) -> list[str]:
    return parts[1:] if is_blank(rest) else [rest.strip(), *parts[1:]]


def _resolve(ref: str, known_numbers: Sequence[str]) -> str | Refusal:
    known = list(dict.fromkeys(known_numbers))
    candidates = match_number(ref, dict(zip(known, known, strict=True)))
    if len(candidates) == 1:
        return candidates[0]
    shown = " ".join(ref.split())
    if not candidates:
        message = msg.QUICK_DIRECTIVE_UNKNOWN.format(ref=shown)
        if known_numbers:
            message += msg.QUICK_DIRECTIVE_PENDING.format(numbers=", ".join(dict.fromkeys(known_numbers)))
        return Refusal(nfc(message))
    message = msg.QUICK_DIRECTIVE_AMBIGUOUS.format(
        ref=shown, numbers=", ".join(candidates), example=candidates[0]
    )
    return Refusal(nfc(message))
