"""Report form specifications: field and form types, the built-in forms, and loading custom forms from YAML.

A form is plain data. It is stored as JSON (`form_to_dict` / `form_from_dict`) and written by the board as
YAML (`load_form_yaml`). Both entry points share one validator, so a stored form is always one that could
have been loaded from a file, and every problem is reported in Vietnamese with its place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml

from bot.core.textnorm import fold, is_blank, nfc
from messages import forms as msg
from messages.formats import format_number

DEFAULT_MAX_LENGTH = 500
MAX_TEXT_LENGTH = 4000  # Telegram caps a message at 4,096 characters
MAX_NUMBER = 10**12
DEFAULT_DATE_MIN_DAYS = -366  # a report may describe anything held in the last year...
DEFAULT_DATE_MAX_DAYS = 1  # ...up to tomorrow, so a late-evening answer near midnight is not refused
MAX_DATE_OFFSET_DAYS = 3660
MAX_FIELDS = 30
MIN_CHOICES = 2
MAX_CHOICES = 20
MAX_YAML_CHARS = 200_000

_TITLE_MAX = 200
_LABEL_MAX = 200
_HINT_MAX = 300
_SHORT_MAX = 60
_CHOICE_MAX = 100
_FORM_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DIGITS_ONLY = re.compile(r"[0-9\s.]+")


class FieldType(StrEnum):
    """What kind of answer a field takes; the value is the name used in YAML and JSON."""

    DATE = "date"
    NUMBER = "number"
    RATIO = "ratio"
    ATTENDANCE = "attendance"  # members official/probationary, exempted, absent with/without reason
    CHOICE = "choice"
    TEXT = "text"
    PHOTO = "photo"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One question of a report form.

    `min`/`max` bound a number field's value; on a date field they bound the date as days from today
    (negative is before today). `short` is the field's name in the one-line quick template.
    """

    key: str
    label: str
    type: FieldType
    required: bool = True
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    hint: str | None = None
    short: str | None = None

    @property
    def short_label(self) -> str:
        """The name used in the quick template: `short`, else the label starting lower-case."""
        if self.short:
            return self.short
        return self.label[:1].lower() + self.label[1:]

    @property
    def text_limit(self) -> int:
        """Longest accepted text answer, in characters."""
        return self.max_length or DEFAULT_MAX_LENGTH

    @property
    def date_window(self) -> tuple[int, int]:
        """Accepted dates as (earliest, latest) offsets in days from today."""
        low = DEFAULT_DATE_MIN_DAYS if self.min is None else self.min
        high = DEFAULT_DATE_MAX_DAYS if self.max is None else self.max
        return low, high


@dataclass(frozen=True, slots=True)
class FormSpec:
    """A report form: a stable key, the title shown to secretaries, and its fields in asking order.

    A `rapid` form (báo cáo nhanh) reaches the cell's board members as soon as a report on it is stored.
    """

    key: str
    title: str
    fields: tuple[FieldSpec, ...]
    rapid: bool = False

    def field(self, key: str) -> FieldSpec | None:
        """The field with this key, if any."""
        return next((spec for spec in self.fields if spec.key == key), None)

    @property
    def quick_fields(self) -> tuple[FieldSpec, ...]:
        """Fields answerable in a one-message report: all but photos, which arrive as pictures."""
        return tuple(spec for spec in self.fields if spec.type is not FieldType.PHOTO)

    @property
    def photo_fields(self) -> tuple[FieldSpec, ...]:
        """Fields answered by sending photos."""
        return tuple(spec for spec in self.fields if spec.type is FieldType.PHOTO)

    def quick_template(self) -> str:
        """One line showing the order of a one-message report, e.g. `ngày; hình thức; ...`."""
        return "; ".join(spec.short_label for spec in self.quick_fields)


@dataclass(frozen=True, slots=True)
class FormError:
    """One problem in a form definition: where it is (YAML path, line when known) and what to do."""

    path: str
    message: str
    line: int | None = None

    def render(self) -> str:
        if self.line is None:
            return msg.FORM_ERROR_LINE.format(path=self.path, message=self.message)
        return msg.FORM_ERROR_LINE_AT.format(path=self.path, line=self.line, message=self.message)


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Why a form definition was refused; `render()` gives the Vietnamese text for the administrator."""

    errors: tuple[FormError, ...]

    def render(self) -> str:
        lines = [msg.FORM_ERRORS_HEADER.format(count=len(self.errors))]
        lines.extend(error.render() for error in self.errors)
        return "\n".join(lines)


# --- built-in forms ---------------------------------------------------------------------------------------
# Their texts are what secretaries read, so they live in messages/builtin_forms/ as YAML, in the same format as a
# board's own forms (`chibo forms add`), and are checked by the same loader.


def _builtin(key: str) -> FormSpec:
    text = (resources.files("messages") / "builtin_forms" / f"{key}.yaml").read_text(encoding="utf-8")
    form = load_form_yaml(text)
    if isinstance(form, FormErrors):
        raise RuntimeError(f"built-in form {key} is invalid:\n{form.render()}")
    return form


# --- storage as JSON --------------------------------------------------------------------------------------


def form_to_dict(form: FormSpec) -> dict[str, Any]:
    """A JSON-serialisable dict of `form`, in the same shape as the YAML files; unset options are left out."""
    data: dict[str, Any] = {"key": form.key, "title": form.title}
    if form.rapid:
        data["rapid"] = True
    data["fields"] = [_field_to_dict(spec) for spec in form.fields]
    return data


def _field_to_dict(spec: FieldSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": spec.key,
        "label": spec.label,
        "type": spec.type.value,
        "required": spec.required,
    }
    optional: dict[str, Any] = {
        "choices": list(spec.choices) or None,
        "min": spec.min,
        "max": spec.max,
        "max_length": spec.max_length,
        "hint": spec.hint,
        "short": spec.short,
    }
    data.update({name: value for name, value in optional.items() if value is not None})
    return data


def form_to_yaml(form: FormSpec) -> str:
    """`form` as a YAML file that `load_form_yaml` reads back, e.g. to start a custom form from a built-in."""
    return yaml.safe_dump(form_to_dict(form), allow_unicode=True, sort_keys=False, width=110)


def form_from_dict(data: object) -> FormSpec | FormErrors:
    """Validate `data` (a stored or freshly parsed form) and build the FormSpec, or say everything wrong."""
    form, issues = _validate(data)
    if form is None:
        return FormErrors(tuple(FormError(_render_path(path), message) for path, message in issues))
    return form


def load_form_yaml(text: str) -> FormSpec | FormErrors:
    """Read a custom form from YAML text; errors name the YAML path and line of each problem."""
    if len(text) > MAX_YAML_CHARS:
        return _single_error(msg.YAML_TOO_LARGE.format(size=format_number(len(text))))
    try:
        node, data = _compose_and_construct(text)
    except yaml.MarkedYAMLError as exc:
        return _single_error(_syntax_message(exc.problem_mark))
    except (yaml.YAMLError, RecursionError):
        return _single_error(msg.YAML_SYNTAX_NO_MARK)
    form, issues = _validate(data)
    if form is not None:
        return form
    return FormErrors(
        tuple(
            FormError(_render_path(path), message, None if node is None else _line_of(node, path))
            for path, message in issues
        )
    )


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, object]:
    """Parse once, keeping both the node tree (for line numbers) and the plain data."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return node, data
    finally:
        loader.dispose()


def _syntax_message(mark: yaml.Mark | None) -> str:
    if mark is None:
        return msg.YAML_SYNTAX_NO_MARK
    return msg.YAML_SYNTAX.format(line=mark.line + 1, column=mark.column + 1)


def _single_error(message: str) -> FormErrors:
    return FormErrors((FormError(msg.FORM_ROOT_PATH, message),))


# --- validation -------------------------------------------------------------------------------------------

_Path = tuple[str | int, ...]
_Issue = tuple[_Path, str]

_FORM_OPTIONS = ("key", "title", "rapid", "fields")
_FIELD_OPTIONS = ("key", "label", "type", "required", "choices", "min", "max", "max_length", "hint", "short")
_TYPE_NAMES = ", ".join(kind.value for kind in FieldType)
# Which field types each type-specific option applies to.
_OPTION_TYPES: dict[str, tuple[FieldType, ...]] = {
    "choices": (FieldType.CHOICE,),
    "min": (FieldType.NUMBER, FieldType.DATE),
    "max": (FieldType.NUMBER, FieldType.DATE),
    "max_length": (FieldType.TEXT,),
}


def _render_path(path: _Path) -> str:
    if not path:
        return msg.FORM_ROOT_PATH
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _validate(data: object) -> tuple[FormSpec | None, list[_Issue]]:
    """The form, or None with at least one issue; all problems are collected, not just the first."""
    issues: list[_Issue] = []
    form = _read_form(data, issues)
    return (form if not issues else None), issues


def _read_form(data: object, issues: list[_Issue]) -> FormSpec | None:
    if not isinstance(data, Mapping):
        issues.append(((), msg.YAML_NOT_MAPPING))
        return None
    _check_unknown_options(data, _FORM_OPTIONS, (), issues)
    key = _read_key(data, ("key",), _FORM_KEY, msg.FORM_KEY_MISSING, msg.FORM_KEY_BAD, issues)
    title = _read_text(data, ("title",), _TITLE_MAX, issues, missing=msg.FORM_TITLE_MISSING)
    rapid = data.get("rapid", False)
    if not isinstance(rapid, bool):
        issues.append((("rapid",), msg.NOT_BOOL))
    fields = _read_fields(data.get("fields"), "fields" in data, issues)
    if key is None or title is None or fields is None:
        return None
    return FormSpec(key=key, title=title, fields=fields, rapid=rapid is True)


def _check_unknown_options(
    data: Mapping[Any, Any], allowed: Sequence[str], path: _Path, issues: list[_Issue]
) -> None:
    for name in data:
        if name not in allowed:
            issues.append(
                ((*path, str(name)), msg.UNKNOWN_OPTION.format(name=name, allowed=", ".join(allowed)))
            )


def _read_key(
    data: Mapping[Any, Any],
    path: _Path,
    pattern: re.Pattern[str],
    missing: str,
    bad: str,
    issues: list[_Issue],
) -> str | None:
    value = data.get(path[-1])
    if value is None:
        issues.append((path, missing))
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or not pattern.fullmatch(str(value)):
        issues.append((path, bad.format(value=value)))
        return None
    return str(value)


def _read_text(
    data: Mapping[Any, Any],
    path: _Path,
    limit: int,
    issues: list[_Issue],
    *,
    missing: str | None = None,
) -> str | None:
    """A required (when `missing` is given) or optional one-line text option, NFC and trimmed."""
    value = data.get(path[-1])
    if value is None:
        if missing is not None:
            issues.append((path, missing))
        return None
    if not isinstance(value, str):
        issues.append((path, msg.NOT_TEXT))
        return None
    if is_blank(value):
        issues.append((path, missing or msg.TEXT_BLANK))
        return None
    text = nfc(value).strip()
    if len(text) > limit:
        issues.append((path, msg.TOO_LONG.format(max=limit)))
        return None
    return text


def _read_fields(value: object, present: bool, issues: list[_Issue]) -> tuple[FieldSpec, ...] | None:
    if not present or value is None:
        issues.append((("fields",), msg.FIELDS_MISSING))
        return None
    if not isinstance(value, list):
        issues.append((("fields",), msg.FIELDS_NOT_LIST))
        return None
    if not value:
        issues.append((("fields",), msg.FIELDS_EMPTY))
        return None
    if len(value) > MAX_FIELDS:
        issues.append((("fields",), msg.FIELDS_TOO_MANY.format(count=len(value), max=MAX_FIELDS)))
        return None
    before = len(issues)
    fields = [_read_field(item, ("fields", index), issues) for index, item in enumerate(value)]
    _check_duplicate_keys(value, issues)
    if len(issues) > before:
        return None
    specs = tuple(spec for spec in fields if spec is not None)
    if all(spec.type is FieldType.PHOTO for spec in specs):
        issues.append((("fields",), msg.FIELDS_ONLY_PHOTOS))
        return None
    return specs


def _check_duplicate_keys(items: Sequence[object], issues: list[_Issue]) -> None:
    """Compare the keys as written, so a duplicate is reported even when its field has other errors."""
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.get("key") if isinstance(item, Mapping) else None
        if not isinstance(key, str):
            continue
        if key in first_index:
            other = _render_path(("fields", first_index[key]))
            issues.append((("fields", index, "key"), msg.FIELD_KEY_DUPLICATE.format(value=key, other=other)))
        else:
            first_index[key] = index


def _read_field(item: object, path: _Path, issues: list[_Issue]) -> FieldSpec | None:
    if not isinstance(item, Mapping):
        issues.append((path, msg.FIELD_NOT_MAPPING))
        return None
    before = len(issues)
    _check_unknown_options(item, _FIELD_OPTIONS, path, issues)
    key = _read_key(item, (*path, "key"), _FIELD_KEY, msg.FIELD_KEY_MISSING, msg.FIELD_KEY_BAD, issues)
    label = _read_text(item, (*path, "label"), _LABEL_MAX, issues, missing=msg.FIELD_LABEL_MISSING)
    kind = _read_type(item.get("type"), (*path, "type"), issues)
    required = _read_bool(item, (*path, "required"), issues)
    hint = _read_text(item, (*path, "hint"), _HINT_MAX, issues)
    short = _read_text(item, (*path, "short"), _SHORT_MAX, issues)
    if kind is not None:
        _check_option_types(item, kind, path, issues)
    choices = _read_choices(item, kind, path, issues)
    low, high = _read_bounds(item, kind, path, issues)
    max_length = _read_max_length(item, kind, path, issues)
    if len(issues) > before or key is None or label is None or kind is None:
        return None
    return FieldSpec(
        key=key,
        label=label,
        type=kind,
        required=required,
        choices=choices,
        min=low,
        max=high,
        max_length=max_length,
        hint=hint,
        short=short,
    )


def _read_type(value: object, path: _Path, issues: list[_Issue]) -> FieldType | None:
    if value is None:
        issues.append((path, msg.FIELD_TYPE_MISSING.format(types=_TYPE_NAMES)))
        return None
    name = value.strip().lower() if isinstance(value, str) else None
    try:
        return FieldType(name) if name is not None else FieldType("")
    except ValueError:
        issues.append((path, msg.FIELD_TYPE_UNKNOWN.format(value=value, types=_TYPE_NAMES)))
        return None


def _read_bool(item: Mapping[Any, Any], path: _Path, issues: list[_Issue]) -> bool:
    value = item.get(path[-1], True)
    if isinstance(value, bool):
        return value
    issues.append((path, msg.NOT_BOOL))
    return True


def _check_option_types(item: Mapping[Any, Any], kind: FieldType, path: _Path, issues: list[_Issue]) -> None:
    for name, kinds in _OPTION_TYPES.items():
        if item.get(name) is not None and kind not in kinds:
            names = ", ".join(allowed.value for allowed in kinds)
            issues.append(((*path, name), msg.OPTION_WRONG_TYPE.format(name=name, types=names)))


def _read_choices(
    item: Mapping[Any, Any], kind: FieldType | None, path: _Path, issues: list[_Issue]
) -> tuple[str, ...]:
    if kind is not FieldType.CHOICE:
        return ()
    value = item.get("choices")
    where = (*path, "choices")
    if value is None:
        issues.append((where, msg.CHOICES_MISSING.format(min=MIN_CHOICES)))
        return ()
    if not isinstance(value, list):
        issues.append((where, msg.CHOICES_NOT_LIST))
        return ()
    if len(value) < MIN_CHOICES:
        issues.append((where, msg.CHOICES_TOO_FEW.format(min=MIN_CHOICES)))
        return ()
    if len(value) > MAX_CHOICES:
        issues.append((where, msg.CHOICES_TOO_MANY.format(count=len(value), max=MAX_CHOICES)))
        return ()
    choices: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(value):
        choice = _read_choice(raw, (*where, index), issues)
        if choice is None:
            continue
        folded = fold(choice)
        if folded in seen:
            other = _render_path((*where, seen[folded]))
            issues.append(((*where, index), msg.CHOICE_DUPLICATE.format(value=choice, other=other)))
            continue
        seen[folded] = index
        choices.append(choice)
    return tuple(choices)


def _read_choice(raw: object, path: _Path, issues: list[_Issue]) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        issues.append((path, msg.CHOICE_NOT_TEXT))
        return None
    text = nfc(str(raw)).strip()
    if is_blank(text):
        issues.append((path, msg.TEXT_BLANK))
        return None
    if _DIGITS_ONLY.fullmatch(text):
        issues.append((path, msg.CHOICE_ONLY_DIGITS))
        return None
    if len(text) > _CHOICE_MAX:
        issues.append((path, msg.TOO_LONG.format(max=_CHOICE_MAX)))
        return None
    return text


def _read_int(item: Mapping[Any, Any], path: _Path, issues: list[_Issue]) -> int | None:
    value = item.get(path[-1])
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        issues.append((path, msg.NOT_INT))
        return None
    return value


def _read_bounds(
    item: Mapping[Any, Any], kind: FieldType | None, path: _Path, issues: list[_Issue]
) -> tuple[int | None, int | None]:
    if kind not in (FieldType.NUMBER, FieldType.DATE):
        return None, None
    low = _read_int(item, (*path, "min"), issues)
    high = _read_int(item, (*path, "max"), issues)
    for name, value in (("min", low), ("max", high)):
        if value is not None and not _bound_ok(kind, value, (*path, name), issues):
            return None, None
    if low is not None and high is not None and low > high:
        issues.append(((*path, "min"), msg.BOUND_MIN_GT_MAX.format(min=low, max=high)))
        return None, None
    return low, high


def _bound_ok(kind: FieldType, value: int, path: _Path, issues: list[_Issue]) -> bool:
    if kind is FieldType.DATE:
        if abs(value) > MAX_DATE_OFFSET_DAYS:
            limit = MAX_DATE_OFFSET_DAYS
            issues.append((path, msg.DATE_BOUND_RANGE.format(low=-limit, high=limit)))
            return False
        return True
    if value < 0:
        issues.append((path, msg.NUMBER_BOUND_NEGATIVE))
        return False
    if value > MAX_NUMBER:
        issues.append((path, msg.NUMBER_BOUND_HUGE.format(max=format_number(MAX_NUMBER))))
        return False
    return True


def _read_max_length(
    item: Mapping[Any, Any], kind: FieldType | None, path: _Path, issues: list[_Issue]
) -> int | None:
    if kind is not FieldType.TEXT:
        return None
    where = (*path, "max_length")
    value = _read_int(item, where, issues)
    if value is not None and not 1 <= value <= MAX_TEXT_LENGTH:
        issues.append((where, msg.MAX_LENGTH_RANGE.format(max=MAX_TEXT_LENGTH)))
        return None
    return value


# --- line numbers for YAML errors -------------------------------------------------------------------------


def _line_of(node: yaml.Node, path: _Path) -> int | None:
    """1-based line of the deepest part of `path` present in the file (the parent when an option is missing).

    An option is shown at its key's line, since a list value starts on the line below.
    """
    current = node
    line = node.start_mark.line + 1
    for part in path:
        found = _child(current, part)
        if found is None:
            break
        line, current = found
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    """The line where `part` of `node` starts and the node to descend into."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                return key_node.start_mark.line + 1, value_node
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None


SINH_HOAT_CHINH_TRI = _builtin("sinh-hoat-chinh-tri")
TUYEN_TRUYEN = _builtin("tuyen-truyen")
HOC_TAP_NGHI_QUYET = _builtin("hoc-tap-nghi-quyet")
TU_TUONG_DU_LUAN = _builtin("tu-tuong-du-luan")
BAO_CAO_NHANH = _builtin("bao-cao-nhanh")
BUILTIN_FORMS: Mapping[str, FormSpec] = {
    form.key: form
    for form in (SINH_HOAT_CHINH_TRI, TUYEN_TRUYEN, HOC_TAP_NGHI_QUYET, TU_TUONG_DU_LUAN, BAO_CAO_NHANH)
}
