"""Data migrations of the quality app."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.quality.choices import Grade
from jiancha.quality.models import CaseEvaluation
from jiancha.quality.tests.test_rules_cases import prosecution
from jiancha.reviews.choices import ReviewGrade

pytestmark = pytest.mark.django_db

grade_values = importlib.import_module(
    "jiancha.quality.migrations.0003_grade_glossary_values"
)


def evaluations(*grades: str) -> list[CaseEvaluation]:
    records = [prosecution() for _grade in grades]
    import_records(records, notify=False)
    rows = []
    for record, grade in zip(records, grades, strict=True):
        case = Case.objects.get(case_id=record["case_id"])
        rows.append(
            CaseEvaluation.objects.create(
                case=case,
                unit_id=case.unit_id,
                period=datetime.date(2024, 3, 20),
                ruleset_version="2021.1",
                grade=grade,
                evaluated_at=timezone.now(),
            )
        )
    return rows


def test_grades_are_the_glossary_identifiers_shared_with_reviews() -> None:
    assert Grade.values == ["excellent", "acceptable", "flawed", "failed"]
    assert Grade.values == ReviewGrade.values


def test_stored_grades_are_rewritten_to_the_glossary_identifiers_and_back() -> None:
    rows = evaluations("excellent", "qualified", "flawed", "unqualified")
    grade_values.forwards(apps, None)
    assert [CaseEvaluation.objects.get(pk=row.pk).grade for row in rows] == [
        "excellent",
        "acceptable",
        "flawed",
        "failed",
    ]
    grade_values.forwards(apps, None)  # again: nothing left to rename
    assert CaseEvaluation.objects.filter(grade="acceptable").count() == 1
    grade_values.backwards(apps, None)
    assert [CaseEvaluation.objects.get(pk=row.pk).grade for row in rows] == [
        "excellent",
        "qualified",
        "flawed",
        "unqualified",
    ]
