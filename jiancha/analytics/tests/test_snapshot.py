import datetime

import pytest
from django.utils import timezone

from jiancha.accounts.models import Unit
from jiancha.analytics.runner import run_sql
from jiancha.analytics.snapshot import build_snapshot, open_snapshot, snapshot_info
from jiancha.cases.models import Case, Event, Person

pytestmark = pytest.mark.django_db(transaction=True)


def make_case(case_id: str, *, unit_code: str = "330106", matter_id: str = "") -> Case:
    now = timezone.now()
    case = Case.objects.create(
        unit=Unit.objects.get(code=unit_code), case_id=case_id, matter_id=matter_id, business_line="ordinary_crime",
        procedure="prosecution_review", procurator_id="P1", received_on=datetime.date(2024, 3, 4),
        closed_on=datetime.date(2024, 3, 20), detained=True, primary_charge="盗窃罪", person_count=1, created_at=now, updated_at=now,
    )
    Person.objects.create(case=case, person_id="A", charges=["盗窃罪"], articles=["264"], plea_leniency=True)
    Event.objects.create(case=case, position=0, type="received", on=datetime.date(2024, 3, 4))
    Event.objects.create(case=case, position=1, type="sentencing_recommended", on=datetime.date(2024, 3, 15), person="A", details={"kind": "fixed", "months": 8})
    Event.objects.create(case=case, position=2, type="judgment", on=datetime.date(2024, 5, 1), person="A", details={"instance": 1, "verdict": "guilty", "months": 8, "charges": ["盗窃罪"], "recommendation_adopted": True})
    return case


def test_snapshot_copies_cases_with_typed_event_columns(tmp_path):
    make_case("A-1")
    make_case("A-2", matter_id="M-9")
    info = build_snapshot(tmp_path / "snap.duckdb")
    assert (info.cases, info.persons, info.events) == (2, 2, 6)
    con = open_snapshot(tmp_path / "snap.duckdb")
    rows = run_sql(con, 'SELECT c.case_id, c.matter_key, e.months, e.recommendation_adopted, e.instance, e.charges FROM "case" c JOIN event e ON e.case_id = c.id WHERE e.type = $type ORDER BY c.case_id', {"type": "judgment"})
    assert [r["case_id"] for r in rows] == ["A-1", "A-2"]
    assert rows[0]["matter_key"].endswith(":A-1") and rows[1]["matter_key"] == "M-9"
    assert rows[0]["months"] == 8 and rows[0]["recommendation_adopted"] is True and rows[0]["instance"] == 1
    assert rows[0]["charges"] == ["盗窃罪"]
    person = run_sql(con, "SELECT charges, articles, plea_leniency FROM person LIMIT 1")[0]
    assert person == {"charges": ["盗窃罪"], "articles": ["264"], "plea_leniency": True}
    assert snapshot_info(con)["data_hash"] == info.data_hash


def test_data_hash_changes_when_data_changes(tmp_path):
    case = make_case("A-1")
    first = build_snapshot(tmp_path / "a.duckdb").data_hash
    assert build_snapshot(tmp_path / "b.duckdb").data_hash == first
    Case.objects.filter(pk=case.pk).update(closed_on=datetime.date(2024, 3, 21))
    assert build_snapshot(tmp_path / "c.duckdb").data_hash != first


def test_build_snapshot_command_prints_a_digest_of_the_whole_data_hash(tmp_path):
    import io
    import re

    from django.core.management import call_command

    def printed_hash(name: str) -> str:
        out = io.StringIO()
        call_command("build-snapshot", "--path", str(tmp_path / name), stdout=out)
        return re.findall(r"[0-9a-f]{16}", out.getvalue())[-1]

    case = make_case("A-1")
    first = printed_hash("a.duckdb")
    assert printed_hash("b.duckdb") == first
    # The units are unchanged, so the hash's first digest is too: the printed one must not be.
    Case.objects.filter(pk=case.pk).update(closed_on=datetime.date(2024, 3, 21))
    assert printed_hash("c.duckdb") != first
