"""Cases are evaluated again when they are imported or changed (issue 3 §3): the importer
calls ``quality.services.cases_changed`` through ``CASES_CHANGED_HOOKS`` once its
transaction has committed, with no ``jiancha evaluate`` in between."""

import logging
from typing import Any

import pytest

from jiancha.cases import importer
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.quality.choices import RunKind
from jiancha.quality.models import CaseEvaluation, EvaluationRun, Finding
from jiancha.quality.tests.test_rules_cases import prosecution, with_events

# Real commits, so that the hooks run as they do outside tests.
pytestmark = pytest.mark.django_db(transaction=True)


def late(case_id: str) -> dict[str, Any]:
    """Detained, decided after the one-month limit (CR-T04), no rights notice (CR-T10)."""
    record = with_events(
        prosecution(detained=True, decided="2024-04-10", closed="2024-04-10"),
        drop=("rights_notified",),
    )
    record["case_id"] = case_id
    return record


def in_time(case_id: str) -> dict[str, Any]:
    return prosecution(detained=True, case_id=case_id)


def current_rules(case: Case) -> set[str]:
    return set(
        Finding.objects.filter(case=case, current=True).values_list(
            "rule_id", flat=True
        )
    )


def failing_hook(**kwargs: Any) -> None:
    raise RuntimeError("hook broke")


def test_an_imported_case_that_breaks_a_rule_has_its_finding_at_once() -> None:
    import_records([late("HOOK-1")])
    case = Case.objects.get(case_id="HOOK-1")
    assert current_rules(case) == {"CR-T04", "CR-T10"}
    assert CaseEvaluation.objects.get(case=case).grade == "failed"
    assert not EvaluationRun.objects.exists()  # the single-case path, no run


def test_reimporting_the_fixed_case_retires_its_findings() -> None:
    import_records([late("HOOK-2")])
    case = Case.objects.get(case_id="HOOK-2")
    assert current_rules(case) == {"CR-T04", "CR-T10"}
    import_records([in_time("HOOK-2")])
    assert Case.objects.get(case_id="HOOK-2").pk == case.pk
    assert current_rules(case) == set()
    retired = Finding.objects.filter(case=case, current=False)
    assert {finding.rule_id for finding in retired} == {"CR-T04", "CR-T10"}
    assert all(finding.retired_at is not None for finding in retired)


def test_a_failing_hook_leaves_the_import_whole_and_the_case_pending(
    settings: Any, caplog: Any
) -> None:
    settings.CASES_CHANGED_HOOKS = [
        "jiancha.quality.tests.test_cases_changed.failing_hook"
    ]
    with caplog.at_level(logging.ERROR, logger="jiancha.cases.services"):
        result = import_records([late("HOOK-3")])
    assert result.created == 1
    case = Case.objects.get(case_id="HOOK-3")
    assert case.events.count() == len(late("HOOK-3")["events"])
    assert not Finding.objects.exists()
    assert any("hook broke" in record.exc_text for record in caplog.records)
    # The next evaluation picks it up.
    settings.CASES_CHANGED_HOOKS = ["jiancha.quality.services.cases_changed"]
    import_records([late("HOOK-3")])
    assert current_rules(case) == {"CR-T04", "CR-T10"}


def test_a_large_import_is_evaluated_in_a_run(monkeypatch: Any) -> None:
    # Listing no ids: the hook finds the cases by the time they were written.
    monkeypatch.setattr(importer, "LISTED_IDS_LIMIT", 0)
    import_records([late("HOOK-4"), in_time("HOOK-5")])
    run = EvaluationRun.objects.get()
    assert run.kind == RunKind.FULL  # every case is new: a full run
    assert current_rules(Case.objects.get(case_id="HOOK-4")) == {"CR-T04", "CR-T10"}


def test_a_large_import_into_a_loaded_table_evaluates_only_its_cases(
    monkeypatch: Any,
) -> None:
    import_records([late(f"OLD-{number}") for number in range(3)], notify=False)
    monkeypatch.setattr(importer, "LISTED_IDS_LIMIT", 0)
    import_records([late("HOOK-6")])
    assert current_rules(Case.objects.get(case_id="HOOK-6")) == {"CR-T04", "CR-T10"}
    assert set(Finding.objects.values_list("case__case_id", flat=True).distinct()) == {
        "HOOK-6"
    }
    assert not EvaluationRun.objects.exists()  # one case: the single-case path
