"""Where the board's directives stand, aggregated in SQL so it scales to a province.

- `scope`: the units a board member oversees, and `in_scope`, the one filter every query below goes through
  (a scope covering every top unit skips it entirely);
- `lookup`: the directive a typed number or a button names, and the directives still followed;
- `counts`: progress counts per directive and per part of the scope, new reports since a moment;
- `missing`: the units still missing (paged, with their secretary), overdue and escalated ones;
- `family`: a directive handed down and its re-issues below, whose targets together are every cell under it;
- `figures`: the report form's figures (sums, ratios, option counts);
- `quotes`: notable free-text answers, sorted into the report's sections;
- `snapshot`: the assembled status of one directive (`StatusView`) and the per-unit `ReportData` the Excel
  export and the Word draft are built from;
- `sql`: SQL pieces the modules share.

The texts are rendered by `messages.status`; its renderers are re-exported here for existing callers.
"""

from bot.services.status.counts import (
    Subtree,
    counts_by_directive,
    counts_by_subtree,
    counts_from,
    counts_outside,
    new_reports_since,
)
from bot.services.status.family import (
    FamilyProgress,
    families,
    families_of_period,
    family,
    family_of_period,
    family_periods,
    family_progress,
    reissues_reaching,
)
from bot.services.status.figures import form_aggregates
from bot.services.status.lookup import (
    OPEN_DAYS_AFTER_DEADLINE,
    SENT_STATES,
    Lookup,
    directive_in_scope,
    find_directive,
    open_directives,
    repeats_of,
)
from bot.services.status.missing import (
    ESCALATE_RULE,
    MissingPage,
    MissingUnit,
    OverdueUnit,
    all_missing_units,
    escalated_counts,
    escalation_rule,
    missing_units,
    overdue_units,
)
from bot.services.status.quotes import (
    QUOTE_LIMIT,
    QUOTE_SCAN,
    Said,
    of_kind,
    quotes,
    sort_answer,
    text_field_roles,
)
from bot.services.status.scope import Scope, ScopeRoot, in_scope, scope_of, whole_scope
from bot.services.status.snapshot import (
    StatusView,
    count_units,
    directive_summary,
    file_slug,
    form_fields,
    merged_reports,
    report_data,
    status_view,
    unit_rows,
)
from bot.services.status.sql import secretary_id_of_unit
from messages.status import figure_lines, missing_line, render_list, render_missing, render_status

__all__ = [
    "ESCALATE_RULE",
    "OPEN_DAYS_AFTER_DEADLINE",
    "QUOTE_LIMIT",
    "QUOTE_SCAN",
    "SENT_STATES",
    "FamilyProgress",
    "Lookup",
    "MissingPage",
    "MissingUnit",
    "OverdueUnit",
    "Said",
    "Scope",
    "ScopeRoot",
    "StatusView",
    "Subtree",
    "all_missing_units",
    "count_units",
    "counts_by_directive",
    "counts_by_subtree",
    "counts_from",
    "counts_outside",
    "directive_in_scope",
    "directive_summary",
    "escalated_counts",
    "escalation_rule",
    "families",
    "families_of_period",
    "family",
    "family_of_period",
    "family_periods",
    "family_progress",
    "figure_lines",
    "file_slug",
    "find_directive",
    "form_aggregates",
    "form_fields",
    "in_scope",
    "merged_reports",
    "missing_line",
    "missing_units",
    "new_reports_since",
    "of_kind",
    "open_directives",
    "overdue_units",
    "quotes",
    "reissues_reaching",
    "render_list",
    "render_missing",
    "render_status",
    "repeats_of",
    "report_data",
    "scope_of",
    "secretary_id_of_unit",
    "sort_answer",
    "status_view",
    "text_field_roles",
    "unit_rows",
    "whole_scope",
]
