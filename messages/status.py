"""The board's status texts, assembled from what `bot.services.status` returns: the list of followed directives,
the status of one directive (its figures, its parts, a page of the units still missing) and the form's figures
line by line (also used by the daily summary).

The data types are imported for type checking only: messages/ does not depend on the services at run time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from messages import board as msg
from messages import cycles as cycle_msg
from messages.directives import KIND_DEFAULT, KINDS
from messages.formats import attendance_figures, day, directive_code, format_number, format_percent

if TYPE_CHECKING:
    from bot.services.forms import FormSpec
    from bot.services.report_data import Aggregates, Attendance, Counts
    from bot.services.status import MissingPage, MissingUnit, Scope, StatusView
    from storage.models import Directive


def _kind(directive: Directive) -> str:
    """The directive's kind in words ("Công văn", "Kế hoạch"), "Văn bản" when unknown."""
    return KINDS.get(directive.doc_type or "", KIND_DEFAULT)


def render_status(
    view: StatusView, scope: Scope, today: date, *, escalate_after: int | None, subtrees_shown: int = 20
) -> str:
    """The whole status message: figures, breakdown by subtree, then the current page of missing units."""
    directive, counts = view.directive, view.counts
    title = msg.STATUS_TITLE.format(
        kind=_kind(directive).upper(), number=directive.number or "", code=directive_code(directive.id)
    )
    lines = [title]
    subject = directive.subject
    if subject:
        lines.append(msg.STATUS_SUBJECT.format(subject=subject))
    if view.period:
        lines.append(cycle_msg.STATUS_CYCLE.format(label=view.period))
    if directive.deadline is not None:
        left = msg.days_left(directive.deadline, today)
        lines.append(msg.STATUS_DEADLINE.format(date=day(directive.deadline), left=left))
    else:
        lines.append(msg.STATUS_NO_DEADLINE)
    lines.append(msg.STATUS_SCOPE.format(names=msg.join_names(scope.names)))
    if view.reissues:
        lines.append(msg.STATUS_THROUGH_BELOW.format(count=format_number(view.reissues)))
    lines += [
        "",
        msg.STATUS_TARGETED.format(count=format_number(counts.targeted)),
        msg.STATUS_DELIVERED.format(
            delivered=format_number(counts.delivered), acknowledged=format_number(counts.acknowledged)
        ),
        msg.STATUS_REPORTED.format(
            progress=msg.share(counts.reported, counts.targeted),
            on_time=format_number(counts.reported_on_time),
            late=format_number(counts.reported_late),
        ),
        msg.STATUS_NOT_REPORTED.format(count=format_number(counts.not_reported)),
        msg.STATUS_UNREACHED.format(
            unregistered=format_number(counts.unregistered), blocked=format_number(counts.blocked)
        ),
    ]
    if view.escalated and escalate_after is not None:
        lines.append(msg.STATUS_ESCALATED.format(days=escalate_after, count=format_number(view.escalated)))
    figures = figure_lines(view.form, view.aggregates)
    if view.aggregates.sessions_held and figures:
        lines += ["", msg.STATUS_FIGURES, *figures]
    if len(view.subtrees) > 1:
        lines += ["", msg.STATUS_BY_SUBTREE]
        for part in view.subtrees[:subtrees_shown]:
            progress = msg.share(part.counts.reported, part.counts.targeted)
            lines.append(msg.SUBTREE_LINE.format(name=part.name, progress=progress))
        if len(view.subtrees) > subtrees_shown:
            lines.append(msg.SUBTREE_MORE.format(count=len(view.subtrees) - subtrees_shown))
    lines += ["", render_missing(view.missing, own=bool(view.reissues))]
    return "\n".join(lines)


def render_missing(page: MissingPage, per_page: int = 10, *, own: bool = False) -> str:
    """One page of the units still missing, numbered across pages; `own`: of a directive handed down, whose
    list is the cells it reached itself (those under a re-issue below are that board's)."""
    if page.total == 0:
        return msg.MISSING_OWN_NONE if own else msg.MISSING_NONE
    title = msg.MISSING_OWN_TITLE if own else msg.MISSING_TITLE
    lines = [title.format(count=format_number(page.total), page=page.page, pages=page.pages)]
    start = (page.page - 1) * per_page
    for index, unit in enumerate(page.units, start=start + 1):
        lines.append(missing_line(index, unit))
    return "\n".join(lines)


def missing_line(index: int, unit: MissingUnit) -> str:
    """ "3. Chi bộ Văn phòng (Đảng bộ Sở Tài chính) – Nguyễn Văn A ☎ 0912… · bí thư chưa kết nối" """
    return msg.MISSING_LINE.format(
        index=index,
        unit=unit.name,
        parent=msg.MISSING_PARENT.format(parent=unit.parent) if unit.parent else "",
        secretary=unit.secretary or msg.MISSING_NO_SECRETARY,
        phone=msg.MISSING_PHONE.format(phone=unit.phone) if unit.phone else "",
        state=msg.MISSING_STATES.get(unit.status, ""),
    )


def figure_lines(form: FormSpec | None, aggregates: Aggregates | None) -> list[str]:
    """The form's figures, one line each: reports (sessions) held, then in the form's order the sums, ratios with
    their rate, attendance with its rate and option counts (the aggregates hold number fields in `sums`, ratio
    fields in `ratios`, attendance in `attendance` and choice fields in `choices`, so the field's kind is read
    from where its figure is)."""
    if aggregates is None:
        return []
    study = form is not None and any(f.key == "ngay_to_chuc" for f in form.fields)
    template = msg.FIGURE_SESSIONS_STUDY if study else msg.FIGURE_SESSIONS
    lines = [template.format(count=format_number(aggregates.sessions_held))]
    for f in form.fields if form is not None else ():
        noun = msg.FIELD_UNITS.get(f.key, "")
        unit = f" {noun}" if noun else ""
        if f.key in aggregates.sums:
            lines.append(
                msg.FIGURE_NUMBER.format(
                    label=f.label, value=format_number(aggregates.sums[f.key]), unit=unit
                )
            )
        elif f.key in aggregates.ratios:
            ratio = aggregates.ratios[f.key]
            lines.append(
                msg.FIGURE_RATIO.format(
                    label=f.label,
                    attended=format_number(ratio.attended),
                    total=format_number(ratio.total),
                    unit=unit,
                    rate=format_percent(ratio.rate),
                )
            )
        elif f.key in aggregates.attendance:
            lines.append(attendance_line(f.label, aggregates.attendance[f.key]))
        elif parts := msg.choice_parts(aggregates.choices.get(f.key, {})):
            lines.append(msg.FIGURE_CHOICE.format(label=f.label, parts=parts))
    return lines


def attendance_line(label: str, attendance: Attendance) -> str:
    """Attendance summed over reports: present of those expected (exempted left out), then the parts."""
    return msg.FIGURE_ATTENDANCE.format(label=label, **attendance_figures(attendance))


def render_list(
    directives: Sequence[Directive],
    counts: Mapping[int, Counts],
    shown: int = 10,
    *,
    hint: str = msg.LIST_HINT,
    more: str = msg.LIST_MORE,
) -> str:
    """The directives followed in the scope with their progress, the first `shown` of them; `hint` and `more` say
    how to see one (the chat's words by default, the shell passes its own)."""
    if not directives:
        return msg.LIST_EMPTY
    lines = [msg.LIST_TITLE.format(count=len(directives))]
    for index, directive in enumerate(directives[:shown], start=1):
        c = counts[directive.id]
        deadline = (
            msg.LIST_DEADLINE.format(date=day(directive.deadline))
            if directive.deadline
            else msg.LIST_NO_DEADLINE
        )
        lines.append(
            msg.LIST_LINE.format(
                index=index,
                number=directive.number or "",
                code=directive_code(directive.id),
                date=day(directive.issued_on),
                deadline=deadline,
                progress=msg.share(c.reported, c.targeted),
            )
        )
    if len(directives) > shown:
        lines.append(more.format(count=len(directives) - shown))
    else:
        lines.append(hint)
    return "\n".join(lines)
