"""Rule sets as versioned data: loading and validating ``rules/data/ruleset-*.toml``.

A rule set has a version, the date it comes into force, the statutory limits it counts
with, the mapping from findings to a suggested grade, and its rules. A later rule set may
``extend`` an earlier one: it inherits the rules, limits and grades, replaces rules that
have the same id, adds new ones and drops those listed in ``remove``.

A case is evaluated with the rule set in force on the day it closed (today while it is
open); a case closed before the first rule set came into force is evaluated with the first.

Each rule is either

* ``kind = "deadline"``: a statutory time limit, checked against the deadlines the engine
  computes for every case (the same limits as :mod:`jiancha.cases.deadlines`),
* a *select* rule (``from``, ``where``, ``values``, ``subject``): a condition on one of the
  engine's tables (``pf`` persons, ``cf`` cases, ``c``, ``dl`` deadlines); all such rules of
  one table are checked in one scan of it,
* ``kind = "sql"``: a SELECT over the engine's tables (``cf``, ``pf``, ``dl``, ``ev`` ...,
  see :mod:`jiancha.quality.rules.base`) that returns ``case_pk``, ``subject`` and a
  ``vals`` struct of the values that broke the rule, or
* ``kind = "model"``: a learned model (charge versus facts, sentencing), skipped when no
  trained model file is present.
"""

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

DATA_DIR = Path(__file__).resolve().parent / "data"

SEVERITIES = ("notice", "defect", "failure")
GRADES = ("excellent", "acceptable", "flawed", "failed")
KINDS = ("select", "deadline", "sql", "model")
SOURCES = ("c", "cf", "pf", "dl")
CRIMINAL_LINES = (
    "ordinary_crime",
    "major_crime",
    "duty_crime",
    "economic_crime",
    "juvenile",
)
ALL_LINES = (
    *CRIMINAL_LINES,
    "execution",
    "civil",
    "administrative",
    "public_interest",
    "complaint",
)
ALL_PROCEDURES = (
    "arrest_review",
    "prosecution_review",
    "civil_supervision",
    "administrative_supervision",
    "public_interest",
    "criminal_complaint",
    "other",
)
LINE_ALIASES = {"@criminal": CRIMINAL_LINES, "@all": ALL_LINES}
RULE_ID = re.compile(r"^[A-Z]{2}-[A-Z]?\d{2}$")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class RuleSetError(ValueError):
    """The rule data is inconsistent; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    """One quality rule of one rule-set version."""

    id: str
    name_zh: str
    name_en: str
    severity: str
    category: str
    business_lines: tuple[str, ...]
    procedures: tuple[str, ...]
    legal_basis: tuple[dict[str, str], ...]
    explanation_zh: str
    explanation_en: str
    kind: str
    source: str = ""  # select and deadline rules: the table scanned
    where: str = ""  # select and deadline rules: the condition (deadline: an extra one)
    values: str = ""  # select rules: a struct of the values shown
    subject: str = "''"  # select rules: what the finding concerns (a person, a period)
    sql: str = ""
    deadline: str = ""  # a limit key
    statuses: tuple[str, ...] = ("missed", "overdue")
    model: str = ""  # "charge" | "sentencing"
    params: dict[str, Any] = field(default_factory=dict)
    # sql rules that read another record of the case's matter: its procedures. Without a
    # case of one of them among the cases evaluated together the rule cannot be broken,
    # and a few cases are evaluated without it (Engine.hits_for).
    matter_procedures: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.name_zh if _chinese() else self.name_en

    @property
    def explanation(self) -> str:
        return self.explanation_zh if _chinese() else self.explanation_en

    def definition(self) -> tuple[Any, ...]:
        """What decides the rule's SQL: rules with equal definitions compile once."""
        return (
            self.kind,
            self.source,
            self.where,
            self.values,
            self.subject,
            self.sql,
            self.deadline,
            self.statuses,
            self.business_lines,
            self.procedures,
            self.model,
            self.matter_procedures,
        )

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.explanation_en)) | set(
            PLACEHOLDER.findall(self.explanation_zh)
        )

    def legal_basis_list(self) -> list[dict[str, str]]:
        return [dict(item) for item in self.legal_basis]


@dataclass(frozen=True)
class Limit:
    days: int = 0
    months: int = 0


@dataclass(frozen=True)
class GradeStep:
    grade: str
    severity: str = ""  # "" for the final (default) step
    at_least: int = 1


@dataclass(frozen=True)
class RuleSet:
    """A version of the rules with the date it comes into force."""

    version: str
    effective: datetime.date
    title_zh: str
    title_en: str
    limits: dict[str, Limit]
    grades: tuple[GradeStep, ...]
    rules: tuple[Rule, ...]
    source: str

    @property
    def title(self) -> str:
        return self.title_zh if _chinese() else self.title_en

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def grade_for(self, failures: int, defects: int, notices: int) -> str:
        counts = {"failure": failures, "defect": defects, "notice": notices}
        for step in self.grades:
            if not step.severity or counts[step.severity] >= step.at_least:
                return step.grade
        return self.grades[
            -1
        ].grade  # pragma: no cover - the loader requires a default step


def _chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def _lines(values: list[str], where: str) -> tuple[str, ...]:
    lines: list[str] = []
    for value in values:
        for line in LINE_ALIASES.get(value, (value,)):
            if line not in ALL_LINES:
                raise RuleSetError(f"{where}: unknown business line {line!r}")
            if line not in lines:
                lines.append(line)
    return tuple(lines)


def _rule(data: dict[str, Any], where: str) -> Rule:
    rule_id = data.get("id", "")
    where = f"{where} rule {rule_id or '?'}"
    if not RULE_ID.match(rule_id):
        raise RuleSetError(f"{where}: an id looks like CR-T01")
    kind = data.get("kind", "select" if "from" in data else "sql")
    if kind not in KINDS:
        raise RuleSetError(f"{where}: unknown kind {kind!r}")
    severity = data.get("severity", "")
    if severity not in SEVERITIES:
        raise RuleSetError(f"{where}: severity must be one of {SEVERITIES}")
    procedures = tuple(data.get("procedures", ALL_PROCEDURES))
    for procedure in procedures:
        if procedure not in ALL_PROCEDURES:
            raise RuleSetError(f"{where}: unknown procedure {procedure!r}")
    matter_procedures = tuple(data.get("matter_procedures", ()))
    for procedure in matter_procedures:
        if procedure not in ALL_PROCEDURES:
            raise RuleSetError(f"{where}: unknown matter procedure {procedure!r}")
    if matter_procedures and kind != "sql":
        raise RuleSetError(f"{where}: only an sql rule reads other records of a matter")
    basis = tuple(
        {"law": str(item["law"]), "article": str(item["article"])}
        for item in data.get("legal_basis", [])
    )
    if not basis:
        raise RuleSetError(f"{where}: a rule needs its legal basis")
    name = data.get("name", {})
    explanation = data.get("explanation", {})
    if not (
        name.get("zh")
        and name.get("en")
        and explanation.get("zh")
        and explanation.get("en")
    ):
        raise RuleSetError(f"{where}: name and explanation are needed in zh and en")
    if kind == "sql" and not data.get("sql"):
        raise RuleSetError(f"{where}: an sql rule needs its sql")
    if kind == "select" and (
        data.get("from") not in SOURCES
        or not data.get("where")
        or not data.get("values")
    ):
        raise RuleSetError(
            f"{where}: a select rule needs from (one of {SOURCES}), where and values"
        )
    if kind == "deadline" and not data.get("deadline"):
        raise RuleSetError(f"{where}: a deadline rule names its limit in deadline")
    if kind == "model" and data.get("model") not in {"charge", "sentencing"}:
        raise RuleSetError(f"{where}: model must be charge or sentencing")
    return Rule(
        id=rule_id,
        name_zh=name["zh"],
        name_en=name["en"],
        severity=severity,
        category=data.get("category", "other"),
        business_lines=_lines(data.get("business_lines", ["@all"]), where),
        procedures=procedures,
        legal_basis=basis,
        explanation_zh=explanation["zh"],
        explanation_en=explanation["en"],
        kind=kind,
        source="dl" if kind == "deadline" else data.get("from", ""),
        where=data.get("where", "").strip(),
        values=data.get("values", "").strip(),
        subject=data.get("subject", "''").strip(),
        sql=data.get("sql", "").strip(),
        deadline=data.get("deadline", ""),
        statuses=tuple(data.get("statuses", ("missed", "overdue"))),
        model=data.get("model", ""),
        params=dict(data.get("params", {})),
        matter_procedures=matter_procedures,
    )


def _read(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _build(path: Path, raw: dict[str, Any], parents: dict[str, RuleSet]) -> RuleSet:
    where = path.name
    version = str(raw.get("version", ""))
    if not version:
        raise RuleSetError(f"{where}: version is missing")
    effective = raw.get("effective")
    if not isinstance(effective, datetime.date):
        raise RuleSetError(f"{where}: effective must be a date")
    parent = None
    if raw.get("extends"):
        parent = parents.get(str(raw["extends"]))
        if parent is None:
            raise RuleSetError(f"{where}: extends unknown version {raw['extends']!r}")
    limits = dict(parent.limits) if parent else {}
    for key, value in raw.get("limits", {}).items():
        limits[key] = Limit(
            days=int(value.get("days", 0)), months=int(value.get("months", 0))
        )
    grades = parent.grades if parent else ()
    if "grade" in raw:
        grades = tuple(
            GradeStep(
                step["grade"], step.get("severity", ""), int(step.get("at_least", 1))
            )
            for step in raw["grade"]
        )
    if not grades or grades[-1].severity:
        raise RuleSetError(
            f"{where}: the grade mapping must end with a default step (no severity)"
        )
    for step in grades:
        if step.grade not in GRADES or (
            step.severity and step.severity not in SEVERITIES
        ):
            raise RuleSetError(f"{where}: bad grade step {step}")
    removed = set(raw.get("remove", {}).get("rules", []))
    rules: dict[str, Rule] = (
        {rule.id: rule for rule in parent.rules if rule.id not in removed}
        if parent
        else {}
    )
    seen: set[str] = set()
    for data in raw.get("rule", []):
        rule = _rule(data, where)
        if rule.id in seen:
            raise RuleSetError(f"{where}: rule {rule.id} is defined twice")
        seen.add(rule.id)
        if rule.kind == "deadline" and rule.deadline not in limits:
            raise RuleSetError(
                f"{where}: rule {rule.id} uses unknown limit {rule.deadline!r}"
            )
        rules[rule.id] = rule
    title = raw.get("title", {})
    return RuleSet(
        version=version,
        effective=effective,
        title_zh=title.get("zh", version),
        title_en=title.get("en", version),
        limits=limits,
        grades=grades,
        rules=tuple(sorted(rules.values(), key=lambda rule: rule.id)),
        source=path.name,
    )


def load_rulesets(directory: Path = DATA_DIR) -> tuple[RuleSet, ...]:
    """Every rule set in ``directory``, oldest first (parents before the sets extending them)."""
    raws = [(path, _read(path)) for path in sorted(directory.glob("ruleset-*.toml"))]
    raws.sort(key=lambda item: item[1].get("effective") or datetime.date.min)
    built: dict[str, RuleSet] = {}
    for path, raw in raws:
        ruleset = _build(path, raw, built)
        if ruleset.version in built:
            raise RuleSetError(
                f"{path.name}: version {ruleset.version} is defined twice"
            )
        built[ruleset.version] = ruleset
    if not built:
        raise RuleSetError(f"no rule set in {directory}")
    effective = [ruleset.effective for ruleset in built.values()]
    if len(set(effective)) != len(effective):
        raise RuleSetError("two rule sets come into force on the same day")
    return tuple(built.values())


@cache
def rulesets() -> tuple[RuleSet, ...]:
    """The packaged rule sets (cached)."""
    return load_rulesets()


def ruleset(version: str) -> RuleSet | None:
    return next((item for item in rulesets() if item.version == version), None)


def ruleset_in_force(
    day: datetime.date, sets: tuple[RuleSet, ...] | None = None
) -> RuleSet:
    """The rule set a case closed on ``day`` is evaluated with."""
    sets = sets or rulesets()
    chosen = sets[0]
    for item in sets:
        if item.effective <= day:
            chosen = item
    return chosen


def rule_versions(rule_id: str) -> list[tuple[RuleSet, Rule]]:
    return [
        (item, rule) for item in rulesets() if (rule := item.rule(rule_id)) is not None
    ]


def latest_rules() -> dict[str, Rule]:
    """Every rule id of any version, with its latest definition (for names and filters)."""
    rules: dict[str, Rule] = {}
    for item in rulesets():
        for rule in item.rules:
            rules[rule.id] = rule
    return dict(sorted(rules.items()))
