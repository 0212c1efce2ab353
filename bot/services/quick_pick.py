"""What a secretary's free message reads as: a one-message report on which open directive, with which answers.

Pure reading, shared by the ordinary route (handlers/reports.py) and the batch lane (handlers/quick_reports.py), so
the two cannot read the same message differently: `read_quick` picks the directive(s) a text reports on, and
`quick_values` merges its answers with the evidence photos already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.services.forms import FieldType, FormSpec
from bot.services.quick_reply import QuickParse, parse_quick_reply
from bot.services.reports import OpenTarget
from storage.models import Report

MAX_PHOTOS = 10


@dataclass(frozen=True)
class QuickPick:
    """What a free message reads as: a one-message report on `targets[0]`, or on one of several to ask about."""

    targets: list[OpenTarget]
    forms: dict[str | None, FormSpec]
    parses: dict[str | None, QuickParse]

    @property
    def form(self) -> FormSpec:
        return self.forms[self.targets[0].directive.form_key]

    @property
    def parsed(self) -> QuickParse:
        return self.parses[self.targets[0].directive.form_key]


def read_quick(
    cands: list[OpenTarget], forms: dict[str | None, FormSpec], text: str, today: date
) -> QuickPick | None:
    """Which open directive(s) `text` reports on, or None when it does not look like a one-message report."""
    numbers = list(dict.fromkeys(c.directive.number for c in cands if c.directive.number))
    parses = {key: parse_quick_reply(form, text, today, numbers) for key, form in forms.items()}
    named = next((p.directive_number for p in parses.values() if p.directive_number), None)
    if named is not None:
        chosen = [c for c in cands if c.directive.number == named]
        return QuickPick(chosen, forms, parses) if chosen else None
    if not any(looks_like_report(text, forms[key], parsed) for key, parsed in parses.items()):
        return None
    return QuickPick([c for c in cands if not c.reported] or cands, forms, parses)


def quick_values(
    form: FormSpec, parsed: QuickParse, latest: Report | None, photos: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """The answers a one-message report gives, and the keys of the fields still to ask, in form order."""
    values: dict[str, Any] = dict(parsed.values)
    if latest is not None:  # a text resend keeps the evidence photos sent before
        for spec in form.photo_fields:
            if latest.values.get(spec.key):
                values[spec.key] = list(latest.values[spec.key])
    add_photos(form, values, photos)
    asked = {*parsed.missing, *(issue.key for issue in parsed.invalid)}
    missing_photos = {s.key for s in form.photo_fields if s.required and not values.get(s.key)}
    return values, [spec.key for spec in form.fields if spec.key in asked | missing_photos]


def typed_answers(form: FormSpec, parsed: QuickParse) -> int:
    """Answers that only a report would contain: any words fit a text field, a date or a count does not."""
    return sum(1 for key in parsed.values if (spec := form.field(key)) and spec.type is not FieldType.TEXT)


def looks_like_report(text: str, form: FormSpec, parsed: QuickParse) -> bool:
    """Whether a free message is an attempt at a one-message report rather than a question or a greeting."""
    if parsed.directive_number is not None:
        return True
    if parsed.refusal is not None:
        return ";" in text
    given = len(parsed.values) + len(parsed.invalid)
    return typed_answers(form, parsed) >= 1 and (given >= 2 or parsed.complete)


def add_photos(form: FormSpec, values: dict[str, Any], photos: list[str], key: str | None = None) -> bool:
    """Add `photos` to the photo field `key` (default: the form's first); False when there is no room or field."""
    spec = form.field(key) if key else next(iter(form.photo_fields), None)
    if spec is None or not photos:
        return False
    kept = list(values.get(spec.key) or [])
    added = False
    for sha in photos:
        if sha not in kept and len(kept) < MAX_PHOTOS:
            kept.append(sha)
            added = True
    values[spec.key] = kept
    return added
