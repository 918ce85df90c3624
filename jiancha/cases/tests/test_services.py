"""Telling the apps above that cases changed: the importer and the demo-data command call
the ``CASES_CHANGED_HOOKS`` after their transaction commits, with the cases they wrote."""

import datetime
import io
import logging
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import transaction

from jiancha.cases import importer
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case
from jiancha.cases.services import notify_cases_changed
from jiancha.cases.tests.test_import import criminal_case

pytestmark = pytest.mark.django_db

CALLS: list[dict[str, Any]] = []
HERE = "jiancha.cases.tests.test_services"


def recording_hook(**kwargs: Any) -> None:
    CALLS.append(kwargs)


def failing_hook(**kwargs: Any) -> None:
    raise RuntimeError("hook broke")


@pytest.fixture(autouse=True)
def recorded(settings: Any) -> list[dict[str, Any]]:
    settings.CASES_CHANGED_HOOKS = [f"{HERE}.recording_hook"]
    CALLS.clear()
    return CALLS


def test_hooks_run_after_commit_with_the_case_ids(
    recorded: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify_cases_changed([3, 1, 2], actor=None)
        assert recorded == []  # not before the commit
    assert len(callbacks) == 1
    assert recorded == [
        {"case_ids": (3, 1, 2), "changed_since": None, "count": 3, "actor": None}
    ]


def test_hooks_do_not_run_when_the_write_rolls_back(
    recorded: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    def failing_write() -> None:
        with transaction.atomic():
            notify_cases_changed([1])
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            failing_write()
    assert callbacks == []
    assert recorded == []


def test_an_empty_write_notifies_no_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        notify_cases_changed([])
        notify_cases_changed(
            changed_since=datetime.datetime.now(tz=datetime.UTC), count=0
        )
    assert callbacks == []
    with pytest.raises(ValueError, match="case_ids or changed_since"):
        notify_cases_changed()


def test_a_failing_hook_is_logged_and_the_next_one_still_runs(
    settings: Any,
    recorded: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    caplog: Any,
) -> None:
    settings.CASES_CHANGED_HOOKS = [
        f"{HERE}.failing_hook",
        f"{HERE}.no_such_hook",
        f"{HERE}.recording_hook",
    ]
    with (
        caplog.at_level(logging.ERROR, logger="jiancha.cases.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = import_records([criminal_case(1)])
    assert result.created == 1
    assert Case.objects.get().events.count() == len(criminal_case(1)["events"])
    assert [call["case_ids"] for call in recorded] == [result.case_ids]
    failures = [record for record in caplog.records if "failed" in record.message]
    assert len(failures) == 2
    assert "failing_hook" in failures[0].message
    assert failures[0].exc_info is not None


def test_an_import_passes_the_cases_it_created_and_updated(
    recorded: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        import_records([criminal_case(1), criminal_case(2)], notify=False)
    assert recorded == []
    untouched = Case.objects.get(case_id=criminal_case(1)["case_id"])
    updated = Case.objects.get(case_id=criminal_case(2)["case_id"])
    with django_capture_on_commit_callbacks(execute=True):
        result = import_records(
            [
                criminal_case(2, procurator_id="P0009"),
                criminal_case(3),
                criminal_case(3),
            ]
        )
    created = Case.objects.get(case_id=criminal_case(3)["case_id"])
    assert (result.created, result.updated) == (1, 1)
    assert result.case_ids == tuple(sorted([updated.pk, created.pk]))
    assert untouched.pk not in result.case_ids
    assert recorded == [
        {
            "case_ids": result.case_ids,
            "changed_since": None,
            "count": 2,
            "actor": None,
        }
    ]


def test_a_large_import_passes_the_time_its_cases_were_written(
    monkeypatch: Any,
    recorded: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    import_records([criminal_case(1)], notify=False)
    monkeypatch.setattr(importer, "LISTED_IDS_LIMIT", 1)
    with django_capture_on_commit_callbacks(execute=True):
        result = import_records(
            [criminal_case(1, procurator_id="P1"), criminal_case(2)]
        )
    assert result.case_ids is None
    assert result.written_at is not None
    (call,) = recorded
    assert call["case_ids"] is None
    assert call["count"] == 2
    assert call["changed_since"] == result.written_at
    written = Case.objects.filter(updated_at__gte=call["changed_since"])
    assert written.count() == 2


def test_the_commands_skip_the_hooks_when_asked(
    tmp_path: Any,
    recorded: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(orjson.dumps(criminal_case(1)) + b"\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import-cases", str(path), "--no-evaluate", stdout=io.StringIO())
        call_command(
            "demo-data", "--cases", "20", "--no-evaluate", stdout=io.StringIO()
        )
    assert recorded == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import-cases", str(path), stdout=io.StringIO())
    assert [call["case_ids"] for call in recorded] == [
        (Case.objects.get(case_id=criminal_case(1)["case_id"]).pk,)
    ]
    recorded.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo-data", "--cases", "20", "--seed", "2", stdout=io.StringIO())
    (call,) = recorded
    assert call["count"] == 20
    assert len(call["case_ids"]) == 20
