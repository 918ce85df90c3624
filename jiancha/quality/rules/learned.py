"""Rules backed by learned models (issue 3 items 5–6), wired in as ordinary rules.

``jiancha.quality.charge_model.ChargeChecker`` says whether the charges fit the facts;
``jiancha.quality.sentencing_model.SentencingModel`` how far a sentence is from similar
cases. Both are trained separately; when a model module or its trained file is missing,
its rule is skipped (and the run records it as skipped) rather than failing the
evaluation.
"""

import importlib
import logging
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings

from jiancha.quality.rules.compiler import Part
from jiancha.quality.rules.sqltext import quote

logger = logging.getLogger(__name__)

MODELS = {
    "charge": ("jiancha.quality.charge_model", "ChargeChecker"),
    "sentencing": ("jiancha.quality.sentencing_model", "SentencingModel"),
}
# The files the models are loaded from by default (``MODEL_DIR``); without one, the model
# module (and scikit-learn, about a second to import) is not imported at all.
MODEL_FILES = {"charge": "charge_model.pkl", "sentencing": "sentencing_model.pkl"}


def missing_model(name: str) -> str:
    """Why the model cannot run here without loading it (its trained file is not there),
    or ``""``."""
    path = Path(settings.MODEL_DIR) / MODEL_FILES[name]
    return "" if path.is_file() else f"ModelMissingError: {path}"


@cache
def load_model(name: str) -> tuple[Any, str]:
    """The loaded model, or ``(None, reason)`` when it cannot be used here."""
    module_name, class_name = MODELS[name]
    missing = missing_model(name)
    if missing:
        return None, missing
    try:
        module = importlib.import_module(module_name)
        model = getattr(module, class_name).load()
    except Exception as error:  # noqa: BLE001 - any failure means "no usable model"
        reason = f"{type(error).__name__}: {error}"
        logger.info("quality model %s unavailable: %s", name, reason)
        return None, reason
    if model is None:
        return None, "no trained model"
    return model, ""


def _applies(part: Part) -> str:
    versions = ", ".join(quote(version) for version in part.versions)
    procedures = ", ".join(quote(procedure) for procedure in part.rule.procedures)
    lines = ", ".join(quote(line) for line in part.rule.business_lines)
    return f"c.ruleset IN ({versions}) AND c.procedure IN ({procedures}) AND c.business_line IN ({lines})"


def _charge_results(
    model: Any, items: list[tuple[str, list[str]]]
) -> list[tuple[Any, Any, Any]]:
    many = getattr(model, "check_many", None)
    if many is not None:
        return [tuple(result) for result in many(items)]
    return [tuple(model.check(facts, charges)) for facts, charges in items]


def charge_hits(
    con: duckdb.DuckDBPyConnection, part: Part, model: Any
) -> Iterable[tuple[int, str, dict[str, Any]]]:
    """``ChargeChecker.check_many([(facts, charges)]) -> [(flag, suggested, confidence)]``."""
    rows = con.execute(
        f"""
        SELECT c.case_pk, f.facts, list_distinct(flatten(list(p.charges))) AS charges
        FROM c JOIN case_facts f ON f.case_pk = c.case_pk JOIN person p ON p.case_id = c.case_pk
        WHERE {_applies(part)}
        GROUP BY c.case_pk, f.facts
        """
    ).fetchall()
    if not rows:
        return []
    minimum = float(part.rule.params.get("min_confidence", 0.0))
    results = _charge_results(
        model, [(facts, list(charges or [])) for _pk, facts, charges in rows]
    )
    hits = []
    for (case_pk, _facts, charges), (flag, suggested, confidence) in zip(
        rows, results, strict=True
    ):
        if flag and float(confidence or 0) >= minimum:
            suggested_list = (
                list(suggested) if isinstance(suggested, list | tuple) else [suggested]
            )
            hits.append(
                (
                    case_pk,
                    "",
                    {
                        "suggested": suggested_list,
                        "confidence": round(float(confidence or 0), 2),
                        "charges": list(charges or []),
                    },
                )
            )
    return hits


def sentencing_hits(
    con: duckdb.DuckDBPyConnection, part: Part, model: Any
) -> Iterable[tuple[int, str, dict[str, Any]]]:
    """``SentencingModel.deviation(facts, charges, months) -> (flag, expected, ratio)`` for each
    sentencing recommendation (a range counts as its middle)."""
    rows = con.execute(
        f"""
        SELECT c.case_pk, p.person_id, f.facts, q.charges,
               CASE WHEN p.recommendation_kind = 'range' THEN (p.recommendation_min_months + p.recommendation_max_months) / 2
                    ELSE p.recommendation_months END AS months
        FROM c JOIN case_facts f ON f.case_pk = c.case_pk JOIN pf p ON p.case_pk = c.case_pk
        JOIN person q ON q.case_id = p.case_pk AND q.person_id = p.person_id
        WHERE {_applies(part)} AND p.recommendation_on IS NOT NULL
        """
    ).fetchall()
    hits = []
    for case_pk, person_id, facts, charges, months in rows:
        if months is None:
            continue
        flag, expected, ratio = tuple(
            model.deviation(facts, list(charges or []), float(months))
        )[:3]
        if flag:
            hits.append(
                (
                    case_pk,
                    person_id,
                    {
                        "months": months,
                        "expected": round(float(expected), 1),
                        "ratio": ratio,
                    },
                )
            )
    return hits


HIT_FUNCTIONS: dict[
    str,
    Callable[
        [duckdb.DuckDBPyConnection, Part, Any],
        Iterable[tuple[int, str, dict[str, Any]]],
    ],
] = {
    "charge": charge_hits,
    "sentencing": sentencing_hits,
}


def model_hits(
    con: duckdb.DuckDBPyConnection,
    parts: list[Part],
    *,
    facts_loaded: bool,
    facts_present: bool | None = None,
) -> tuple[list[tuple[int, str, int, str, dict[str, Any]]], list[str]]:
    """Hits of the model rules as ``(part, rule_id, case_pk, subject, values)``, and the ids
    of the rules skipped (with the reason). ``facts_present``: whether any loaded case has
    facts, when the caller knows it from the rows it loaded (else a query tells)."""
    hits: list[tuple[int, str, int, str, dict[str, Any]]] = []
    skipped: list[str] = []
    # No case with facts (the demo data, or a run of cases without them): nothing to check,
    # so no model is loaded (unpickling the charge model takes about 0.8 s) and no query
    # runs (the sentencing rule's query joins the persons' view); a missing file still counts.
    nothing_to_check = False
    if facts_loaded:
        if facts_present is None:
            row = con.execute("SELECT EXISTS (SELECT 1 FROM case_facts)").fetchone()
            facts_present = bool(row and row[0])
        nothing_to_check = not facts_present
    for part in parts:
        if part.rule.kind != "model":
            continue
        if nothing_to_check:
            missing = missing_model(part.rule.model)
            if missing:
                skipped.append(f"{part.rule.id}: {missing}")
            continue
        model, reason = load_model(part.rule.model)
        if model is None:
            skipped.append(f"{part.rule.id}: {reason}")
            continue
        if not facts_loaded:
            skipped.append(f"{part.rule.id}: facts not loaded")
            continue
        try:
            for case_pk, subject, values in HIT_FUNCTIONS[part.rule.model](
                con, part, model
            ):
                hits.append((part.index, part.rule.id, case_pk, subject, values))
        except Exception as error:  # noqa: BLE001 - a broken model must not stop the other rules
            logger.exception("quality model rule %s failed", part.rule.id)
            skipped.append(f"{part.rule.id}: {type(error).__name__}: {error}")
    return hits, skipped
