"""Compiling rule sets to SQL.

All rules of all rule-set versions become one ``UNION ALL`` statement that fills
``hit_raw(part, rule_id, case_pk, subject, vals)``. Each *part* is one distinct rule
definition; the versions, procedures and business lines it applies to are a table
(``rule_part``), so applicability is one join with ``c`` for all rules together rather than
one per rule. Then ``finding_new`` gets the severity and legal basis of the version in
force for each case, and a fingerprint that identifies the finding across evaluations.
"""

import json
from dataclasses import dataclass

import duckdb

from jiancha.quality.rules.base import typed_literals
from jiancha.quality.rules.registry import ALL_LINES, ALL_PROCEDURES, Rule, RuleSet
from jiancha.quality.rules.sqltext import quote

DEADLINE_VALUES = (
    "{'start': start, 'due': due, 'ended_on': ended_on, 'status': status, "
    "'limit_days': limit_days, 'limit_months': limit_months, 'extra_days': extra_days}"
)


def rule_condition(rule: Rule) -> str:
    """The condition of a select or deadline rule on its table."""
    if rule.kind == "deadline":
        statuses = ", ".join(quote(status) for status in rule.statuses)
        condition = f"key = {quote(rule.deadline)} AND status IN ({statuses})"
        return f"{condition} AND ({rule.where})" if rule.where else condition
    return rule.where


def rule_values(rule: Rule) -> str:
    return DEADLINE_VALUES if rule.kind == "deadline" else rule.values


def rule_subject(rule: Rule) -> str:
    return "subject" if rule.kind == "deadline" else rule.subject


def rule_select(rule: Rule) -> str:
    """The rule on its own: a SELECT of ``case_pk``, ``subject`` and ``vals`` (tests, docs)."""
    if rule.kind == "sql":
        return rule.sql
    return f"SELECT case_pk, {rule_subject(rule)} AS subject, {rule_values(rule)} AS vals FROM {rule.source} WHERE {rule_condition(rule)}"


@dataclass(frozen=True)
class Part:
    index: int
    rule: Rule
    versions: tuple[str, ...]


def rule_parts(sets: tuple[RuleSet, ...]) -> list[Part]:
    """One part per distinct definition of a rule, with the versions that share it (model
    rules too: their hits are added from Python)."""
    grouped: dict[tuple[str, tuple[object, ...]], list[tuple[str, Rule]]] = {}
    for ruleset in sets:
        for rule in ruleset.rules:
            grouped.setdefault((rule.id, rule.definition()), []).append(
                (ruleset.version, rule)
            )
    parts = []
    for index, members in enumerate(grouped.values()):
        parts.append(
            Part(index, members[-1][1], tuple(version for version, _rule in members))
        )
    return parts


def fused_scan(source: str, parts: list[Part], *, prefilter: bool = True) -> str:
    """Every select and deadline rule on ``source`` in one scan of it.

    Each row that breaks at least one rule yields one list entry per rule it breaks; the
    values are turned into JSON text right away because each rule's struct has its own type.
    ``prefilter`` first keeps the rows that break any rule (on millions of rows most break
    none); a few cases skip it, as planning the conditions twice costs more.
    """
    entries = []
    for part in parts:
        rule = part.rule
        entries.append(
            f"CASE WHEN ({rule_condition(rule)}) THEN {{'part': {part.index}, 'rule_id': {quote(rule.id)}, "
            f"'subject': CAST(coalesce({rule_subject(rule)}, '') AS VARCHAR), "
            f"'vals': CAST(to_json({rule_values(rule)}) AS VARCHAR)}} END"
        )
    conditions = " OR ".join(f"({rule_condition(part.rule)})" for part in parts)
    return (
        "SELECT hit.part, hit.rule_id, case_pk, hit.subject, hit.vals FROM ("
        f"SELECT case_pk, unnest([{', '.join(entries)}]) AS hit FROM {source}"
        + (f" WHERE {conditions}" if prefilter else "")
        + ") WHERE hit IS NOT NULL"
    )


def marker_scan(source: str, parts: list[Part]) -> str:
    """Which select and deadline rules on ``source`` are broken, without their values: one
    row per rule broken (``part`` and ``case_pk``; ``rule_id``, ``subject`` and ``vals``
    NULL, the mark of a marker). The values of the rules that are broken are then added by
    :func:`part_hits_statement`.

    For a few cases the cost of a scan is in setting up its expressions, not in its rows:
    building every rule's values (a struct turned into JSON) costs about as much again as
    all the conditions (the persons' rules of a prosecution review: 3.6 against 1.9 ms),
    and it is almost never needed, as most cases break no rule."""
    entries = ", ".join(
        f"CASE WHEN ({rule_condition(part.rule)}) THEN {part.index} END"
        for part in parts
    )
    return (
        "SELECT part, CAST(NULL AS VARCHAR) AS rule_id, case_pk, CAST(NULL AS VARCHAR) AS subject, "
        f"CAST(NULL AS VARCHAR) AS vals FROM (SELECT case_pk, unnest([{entries}]) AS part FROM {source}) "
        "WHERE part IS NOT NULL"
    )


def part_hits_statement(part: Part) -> str:
    """The hits of one select or deadline rule, added to ``hit_raw`` (after its marker)."""
    return typed_literals(
        "INSERT INTO hit_raw " + fused_scan(part.rule.source, [part], prefilter=True)
    )


# What ``hit_raw`` holds after :func:`marker_scan` (a NULL ``rule_id`` is a marker), and
# clearing the markers.
HIT_PARTS = "SELECT part, rule_id FROM hit_raw"
CLEAR_MARKERS = "DELETE FROM hit_raw WHERE rule_id IS NULL"


def hits_statement(
    parts: list[Part], *, prefilter: bool = True, markers: bool = False
) -> str:
    """``hit_raw``: one fused scan per table for select and deadline rules, plus each sql
    rule. ``markers``: the select and deadline rules leave markers (:func:`marker_scan`)
    rather than their hits."""
    selects = []
    by_source: dict[str, list[Part]] = {}
    for part in parts:
        if part.rule.kind in {"select", "deadline"}:
            by_source.setdefault(part.rule.source, []).append(part)
        elif part.rule.kind == "sql":
            selects.append(
                f"SELECT {part.index} AS part, {quote(part.rule.id)} AS rule_id, h.case_pk, "
                f"CAST(coalesce(h.subject, '') AS VARCHAR) AS subject, CAST(to_json(h.vals) AS VARCHAR) AS vals "
                f"FROM ({part.rule.sql}) AS h"
            )
    selects = [
        marker_scan(source, members)
        if markers
        else fused_scan(source, members, prefilter=prefilter)
        for source, members in sorted(by_source.items())
    ] + selects
    if not selects:
        selects = [
            "SELECT 0 AS part, '' AS rule_id, 0::BIGINT AS case_pk, '' AS subject, '' AS vals WHERE false"
        ]
    return typed_literals(
        "CREATE OR REPLACE TEMP TABLE hit_raw AS\n" + "\nUNION ALL\n".join(selects)
    )


def load_rule_tables(
    con: duckdb.DuckDBPyConnection, sets: tuple[RuleSet, ...], parts: list[Part]
) -> None:
    """``rule_part`` (where each part applies) and ``rule_meta`` (severity and legal basis per version)."""
    applies = []
    for part in parts:
        procedures = ", ".join(
            quote(procedure) for procedure in (part.rule.procedures or ALL_PROCEDURES)
        )
        lines = ", ".join(
            quote(line) for line in (part.rule.business_lines or ALL_LINES)
        )
        versions = ", ".join(quote(version) for version in part.versions)
        applies.append(f"({part.index}, [{versions}], [{procedures}], [{lines}])")
    con.execute(
        "CREATE OR REPLACE TABLE rule_part_list (part INTEGER, versions VARCHAR[], procedures VARCHAR[], business_lines VARCHAR[])"
    )
    if applies:
        con.execute(f"INSERT INTO rule_part_list VALUES {', '.join(applies)}")
    con.execute(
        """CREATE OR REPLACE TABLE rule_part AS
           SELECT part, ruleset, procedure, business_line
           FROM (SELECT part, unnest(versions) AS ruleset, procedures, business_lines FROM rule_part_list),
                (SELECT DISTINCT unnest(procedures) AS procedure FROM rule_part_list),
                (SELECT DISTINCT unnest(business_lines) AS business_line FROM rule_part_list)
           WHERE 1 = 0"""
    )
    con.execute(
        """INSERT INTO rule_part
           SELECT part, ruleset, procedure, business_line
           FROM (SELECT part, unnest(versions) AS ruleset, procedures, business_lines FROM rule_part_list) p,
                LATERAL (SELECT unnest(p.procedures) AS procedure),
                LATERAL (SELECT unnest(p.business_lines) AS business_line)"""
    )
    meta = [
        f"({quote(ruleset.version)}, {quote(rule.id)}, {quote(rule.severity)}, {quote(json.dumps(rule.legal_basis_list(), ensure_ascii=False))})"
        for ruleset in sets
        for rule in ruleset.rules
    ]
    con.execute(
        "CREATE OR REPLACE TABLE rule_meta (ruleset VARCHAR, rule_id VARCHAR, severity VARCHAR, legal_basis VARCHAR)"
    )
    if meta:
        con.execute(f"INSERT INTO rule_meta VALUES {', '.join(meta)}")


# Findings: the hits that apply to the case's procedure, line and rule-set version; severity
# and legal basis of that version; a fingerprint over what the finding says.
FINDINGS = """
CREATE OR REPLACE TEMP TABLE finding_new AS
WITH hc AS MATERIALIZED (
    SELECT h.*, c.ruleset, CAST(c.procedure AS VARCHAR) AS procedure, CAST(c.business_line AS VARCHAR) AS business_line,
           c.unit_id, c.procurator_id, c.period
    FROM hit_raw h JOIN c ON c.case_pk = h.case_pk
)
SELECT DISTINCT ON (case_pk, fingerprint) *
FROM (
    SELECT hc.case_pk, hc.rule_id, hc.ruleset, m.severity, hc.subject, hc.vals, m.legal_basis,
           md5(hc.rule_id || '|' || hc.ruleset || '|' || hc.subject || '|' || hc.vals) AS fingerprint,
           hc.unit_id, hc.procurator_id, hc.period
    FROM hc
    JOIN rule_part a ON a.part = hc.part AND a.ruleset = hc.ruleset AND a.procedure = hc.procedure AND a.business_line = hc.business_line
    JOIN rule_meta m ON m.ruleset = hc.ruleset AND m.rule_id = hc.rule_id
)
"""


def grade_case_expression(sets: tuple[RuleSet, ...]) -> str:
    """A CASE expression giving the grade from ``ruleset``, ``failures``, ``defects``, ``notices``."""
    branches = []
    for ruleset in sets:
        steps = []
        for step in ruleset.grades:
            if step.severity:
                column = {
                    "failure": "failures",
                    "defect": "defects",
                    "notice": "notices",
                }[step.severity]
                steps.append(
                    f"WHEN {column} >= {step.at_least} THEN {quote(step.grade)}"
                )
            else:
                steps.append(f"ELSE {quote(step.grade)}")
        branches.append(
            f"WHEN ruleset = {quote(ruleset.version)} THEN (CASE {' '.join(steps)} END)"
        )
    return f"CASE {' '.join(branches)} END"


def grade_statement(sets: tuple[RuleSet, ...], *, every_case: bool = False) -> str:
    """``grade_new``: cases with findings, and cases with a stored evaluation (which may now
    be clean); every other case is clean and needs no row, unless ``every_case``."""
    scope = (
        ""
        if every_case
        else "WHERE c.case_pk IN (SELECT case_pk FROM finding_new UNION SELECT case_pk FROM existing_evaluation)"
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE grade_new AS
    WITH counted AS (
        SELECT c.case_pk, c.ruleset, c.unit_id, c.procurator_id, c.period,
               count(f.fingerprint) FILTER (WHERE f.severity = 'failure') AS failures,
               count(f.fingerprint) FILTER (WHERE f.severity = 'defect') AS defects,
               count(f.fingerprint) FILTER (WHERE f.severity = 'notice') AS notices
        FROM c
        LEFT JOIN finding_new f ON f.case_pk = c.case_pk
        {scope}
        GROUP BY c.case_pk, c.ruleset, c.unit_id, c.procurator_id, c.period
    )
    SELECT counted.*, {grade_case_expression(sets)} AS grade FROM counted
    """


# What has to be written: findings that are new, findings that no longer hold, and grades
# that changed. ``changed_case`` numbers the affected cases into write batches.
# Every case gets its grade written (a single case evaluated on import or change).
EVAL_WRITE_ALL = "CREATE OR REPLACE TEMP TABLE eval_write AS SELECT * FROM grade_new"

DIFF = [
    """
    CREATE OR REPLACE TEMP TABLE to_insert AS
    SELECT n.* FROM finding_new n
    ANTI JOIN existing_finding x ON x.case_pk = n.case_pk AND x.fingerprint = n.fingerprint
    """,
    """
    CREATE OR REPLACE TEMP TABLE to_retire AS
    SELECT x.id, x.case_pk FROM existing_finding x
    SEMI JOIN c ON c.case_pk = x.case_pk
    ANTI JOIN finding_new n ON n.case_pk = x.case_pk AND n.fingerprint = x.fingerprint
    """,
    """
    CREATE OR REPLACE TEMP TABLE eval_write AS
    SELECT g.* FROM grade_new g
    LEFT JOIN existing_evaluation x ON x.case_pk = g.case_pk
    WHERE (x.case_pk IS NULL AND g.failures + g.defects + g.notices > 0)
       OR (x.case_pk IS NOT NULL AND (x.grade IS DISTINCT FROM g.grade OR x.failures IS DISTINCT FROM g.failures
           OR x.defects IS DISTINCT FROM g.defects OR x.notices IS DISTINCT FROM g.notices
           OR x.ruleset_version IS DISTINCT FROM g.ruleset))
    """,
    """
    CREATE OR REPLACE TEMP TABLE changed_case AS
    SELECT DISTINCT case_pk FROM (SELECT case_pk FROM to_insert UNION ALL SELECT case_pk FROM to_retire UNION ALL SELECT case_pk FROM eval_write)
    """,
]
