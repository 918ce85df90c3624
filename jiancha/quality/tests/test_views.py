"""The quality pages over HTTP: role matrices, the case fragment, HTMX, query budgets."""

import datetime
import io
import json
from typing import Any

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from jiancha.accounts.choices import Role
from jiancha.cases.choices import GrantReason
from jiancha.cases.importer import import_records
from jiancha.cases.models import Case, CaseGrant
from jiancha.cases.services import case_grants_create
from jiancha.core.models import AuditEntry
from jiancha.core.testing import (
    ALL_ROLES,
    BASIC,
    CITY,
    SIBLING,
    make_user,
    may_see,
    role_matrix,
)
from jiancha.quality.access import evaluation_visible_to, finding_visible_to
from jiancha.quality.models import CaseEvaluation, Finding
from jiancha.quality.services import case_evaluate
from jiancha.quality.tests.test_rules_cases import (
    PLEA,
    changed,
    prosecution,
    with_events,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 12, 31)


def late_review(**fields: Any) -> dict[str, Any]:
    return with_events(
        prosecution(detained=True, decided="2024-04-10", closed="2024-04-10", **fields),
        drop=("rights_notified",),
    )


@pytest.fixture
def case() -> Case:
    """A case of the basic unit with two findings (CR-T04, CR-T10)."""
    record = late_review()
    import_records([record])
    case = Case.objects.get(case_id=record["case_id"])
    case_evaluate(case, today=TODAY)
    return case


@pytest.fixture
def other_case() -> Case:
    record = changed(late_review(), unit_code="110105")
    import_records([record])
    case = Case.objects.get(case_id=record["case_id"])
    case_evaluate(case, today=TODAY)
    return case


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_case_findings_fragment_is_found_exactly_for_the_roles_that_may_see_the_case(
    client_for, case, role, unit
) -> None:
    client = client_for(role, unit)
    response = client.get(
        f"/quality/cases/{case.pk}/findings/", headers={"HX-Request": "true"}
    )
    if may_see(role, unit, BASIC):
        assert response.status_code == 200
        body = response.content.decode()
        assert "CR-T04" in body
        assert "CR-T10" in body
        assert "<html" not in body  # a fragment for the case page
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_review_queue_lists_a_finding_exactly_to_the_roles_that_may_see_it(
    client_for, case, role, unit
) -> None:
    response = client_for(role, unit).get("/quality/findings/")
    assert response.status_code == 200
    shown = {row.view.finding.case_id for row in response.context["rows"]}
    assert (case.pk in shown) is may_see(role, unit, BASIC)


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_dashboard_counts_only_findings_the_user_may_see(
    client_for, case, role, unit
) -> None:
    response = client_for(role, unit).get("/quality/")
    assert response.status_code == 200
    assert response.context["data"].total == (2 if may_see(role, unit, BASIC) else 0)


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_evaluating_again_is_allowed_exactly_to_roles_that_may_see_the_case(
    client_for, case, role, unit
) -> None:
    before = CaseEvaluation.objects.get(case=case).evaluated_at
    response = client_for(role, unit).post(
        f"/quality/cases/{case.pk}/evaluate/", headers={"HX-Request": "true"}
    )
    allowed = may_see(role, unit, BASIC) and role != Role.SUPERVISOR
    if allowed:
        assert response.status_code == 200
        assert CaseEvaluation.objects.get(case=case).evaluated_at > before
        assert (
            AuditEntry.objects.filter(
                verb="quality.case.evaluate", target_id=str(case.pk)
            ).count()
            == 1
        )
    else:
        assert response.status_code == 404
        assert CaseEvaluation.objects.get(case=case).evaluated_at == before
        assert not AuditEntry.objects.filter(verb="quality.case.evaluate").exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_rule_catalogue_is_open_to_every_role(client_for, role) -> None:
    response = client_for(role, BASIC).get("/quality/rules/")
    assert response.status_code == 200
    assert "CR-T01" in response.content.decode()


def test_rule_catalogue_names_the_procedures_in_words(client_for) -> None:
    response = client_for(Role.PROCURATOR, BASIC).get(
        "/quality/rules/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    rows = {
        row["rule"].id: row["procedures"]
        for item in response.context["sets"]
        for row in item["rules"]
    }
    assert rows["CR-T01"] == "审查逮捕"
    assert rows["CR-L01"] == "审查逮捕、审查起诉"
    assert "prosecution_review" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/quality/",
        "/quality/findings/",
        "/quality/rules/",
        "/quality/cases/1/findings/",
    ],
)
def test_pages_need_a_login(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_assigned_supervisor_sees_the_findings_of_its_case_only(
    user_factory, client, case, other_case
) -> None:
    supervisor = user_factory(Role.SUPERVISOR, BASIC)
    CaseGrant.objects.create(case=case, user=supervisor)
    client.force_login(supervisor)
    assert client.get(f"/quality/cases/{case.pk}/findings/").status_code == 200
    assert client.get(f"/quality/cases/{other_case.pk}/findings/").status_code == 404
    shown = {
        row.view.finding.case_id
        for row in client.get("/quality/findings/").context["rows"]
    }
    assert shown == {case.pk}


@pytest.mark.parametrize("granted", [False, True], ids=["no grant", "under a grant"])
@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_finding_access_agrees_with_case_access(
    case, other_case, role, unit, granted
) -> None:
    user = make_user(role, unit, username=f"{role}-{unit}-agree")
    if granted:
        case_grants_create(
            grants=[(case, user)], reason=GrantReason.REVIEW, reference="reviews.plan:1"
        )
    cases = set(Case.objects.visible_to(user).values_list("id", flat=True))
    if granted:
        assert case.pk in cases
    assert set(finding_visible_to(user).values_list("case_id", flat=True)) == cases & {
        case.pk,
        other_case.pk,
    }
    assert set(
        evaluation_visible_to(user).values_list("case_id", flat=True)
    ) == cases & {case.pk, other_case.pk}


def test_the_full_page_without_javascript_is_audited(client_for, case) -> None:
    client = client_for(Role.CASE_MANAGER, CITY)
    response = client.get(f"/quality/cases/{case.pk}/findings/")
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert (
        AuditEntry.objects.filter(
            verb="quality.case_findings.view", target_id=str(case.pk)
        ).count()
        == 1
    )


def test_fragment_explains_each_finding_with_its_legal_basis_and_dates(
    client_for, case
) -> None:
    with translation.override("en"):
        response = client_for(Role.PROCURATOR, BASIC).get(
            f"/quality/cases/{case.pk}/findings/",
            headers={"HX-Request": "true"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    body = response.content.decode()
    assert "刑事诉讼法" in body
    assert "2024-04-04" in body  # the due date
    assert "2024-04-10" in body  # the decision
    assert response.context["grade"].grade == "failed"


def test_a_case_never_evaluated_is_marked_pending(client_for) -> None:
    record = PLEA | {"case_id": "PENDING-1"}
    import_records([record])
    case = Case.objects.get(case_id="PENDING-1")
    response = client_for(Role.PROCURATOR, BASIC).get(
        f"/quality/cases/{case.pk}/findings/", headers={"HX-Request": "true"}
    )
    assert response.context["grade"].state == "pending"


def test_review_queue_filters_and_htmx(client_for, case, other_case) -> None:
    client = client_for(Role.ADMIN, "000000")
    assert {
        row.view.finding.case_id
        for row in client.get("/quality/findings/?unit=330106").context["rows"]
    } == {case.pk}
    assert {
        row.view.finding.rule_id
        for row in client.get("/quality/findings/?severity=failure").context["rows"]
    } == {"CR-T04", "CR-T10"}
    assert {
        row.view.finding.rule_id
        for row in client.get("/quality/findings/?rule=CR-T04").context["rows"]
    } == {"CR-T04"}
    assert client.get("/quality/findings/?period=2023").context["rows"] == []
    assert len(client.get("/quality/findings/?period=2024-Q2").context["rows"]) == 4
    response = client.get("/quality/findings/?rule=XX-99")
    assert "rule" in response.context["errors"]
    partial = client.get(
        "/quality/findings/?unit=330106", headers={"HX-Request": "true"}
    )
    assert partial["HX-Push-Url"] == "/quality/findings/?unit=330106"
    assert "<html" not in partial.content.decode()


def test_review_queue_query_budget(
    client_for, case, other_case, django_assert_max_num_queries
) -> None:
    client = client_for(Role.ADMIN, "000000")
    client.get("/quality/findings/")
    with django_assert_max_num_queries(8):
        response = client.get("/quality/findings/")
    assert len(response.context["rows"]) == 4


def test_dashboard_groups_findings_by_unit_procurator_month_and_grade(
    client_for, case, other_case
) -> None:
    response = client_for(Role.ADMIN, "000000").get("/quality/")
    data = response.context["data"]
    assert data.total == 4
    assert data.cases_with_findings == 2
    assert {row["code"] for row in data.by_unit} == {"330000", "110000"}
    assert data.by_month == [
        {"month": "2024-04", "failure": 4, "defect": 0, "notice": 0}
    ]
    assert data.by_grade == {"failed": 2}
    # A clean case evaluated on its own has a stored grade, but no finding: not counted
    # among the grades of cases with findings.
    clean = prosecution(decided="2024-04-01", closed="2024-04-01")
    import_records([clean])
    case_evaluate(Case.objects.get(case_id=clean["case_id"]), today=TODAY)
    assert CaseEvaluation.objects.filter(case__case_id=clean["case_id"]).exists()
    again = client_for(Role.ADMIN, "000000").get("/quality/").context["data"]
    assert again.by_grade == {"failed": 2}
    assert again.cases_with_findings == 2
    city = client_for(Role.CASE_MANAGER, CITY).get("/quality/").context["data"]
    assert [row["code"] for row in city.by_unit] == [BASIC]
    assert (
        client_for(Role.CASE_MANAGER, SIBLING).get("/quality/").context["data"].total
        == 0
    )
    partial = client_for(Role.ADMIN, "000000").get(
        "/quality/?severity=failure", headers={"HX-Request": "true"}
    )
    assert 'id="dashboard-body"' in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_retired_findings_show_as_history(client_for, case) -> None:
    Finding.objects.filter(case=case, rule_id="CR-T10").update(
        current=False, retired_at=timezone.now()
    )
    response = client_for(Role.PROCURATOR, BASIC).get(
        f"/quality/cases/{case.pk}/findings/", headers={"HX-Request": "true"}
    )
    assert [row.view.finding.rule_id for row in response.context["history"]] == [
        "CR-T10"
    ]
    assert [row.view.finding.rule_id for row in response.context["rows"]] == ["CR-T04"]


def test_fragment_labels_the_values_in_the_readers_language(client_for, case) -> None:
    """The values that broke a rule are listed under labels, codes in words: 应办结日,
    not ``due``; 超期, not ``missed``."""
    response = client_for(Role.PROCURATOR, BASIC).get(
        f"/quality/cases/{case.pk}/findings/",
        headers={"HX-Request": "true"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    body = response.content.decode()
    labels = {
        label for row in response.context["rows"] for label, _text in row.view.values
    }
    assert {"起算日", "届满日", "状态"} <= labels
    assert not labels & {"start", "due", "status", "ended_on", "limit_days"}
    texts = [
        text for row in response.context["rows"] for _label, text in row.view.values
    ]
    assert "超期" in texts
    assert "missed" not in texts
    assert "<dt>届满日</dt><dd>2024-04-04</dd>" in body.replace("\n", "")


def test_fragment_brings_its_styles_to_the_case_page(client_for, case) -> None:
    """The case page loads the findings as a fragment: its list and value styles come
    with it, once, on the fragment as on the full page."""
    client = client_for(Role.PROCURATOR, BASIC)
    fragment = client.get(
        f"/quality/cases/{case.pk}/findings/", headers={"HX-Request": "true"}
    ).content.decode()
    page = client.get(f"/quality/cases/{case.pk}/findings/").content.decode()
    for body in (fragment, page):
        assert body.count(".finding__meta {") == 1
        assert body.index(".finding-list {") < body.index('class="finding-list"')


def _sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.mark.parametrize(("role", "unit"), role_matrix())
def test_finding_export_holds_exactly_the_findings_the_role_may_see(
    client_for, case, role, unit
) -> None:
    response = client_for(role, unit).get("/quality/findings/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet_rows(response)[1:]
    exported = {(row[1], row[3]) for row in rows}
    expected = (
        {("CR-T04", case.case_id), ("CR-T10", case.case_id)}
        if may_see(role, unit, BASIC)
        else set()
    )
    assert exported == expected
    entry = AuditEntry.objects.get(verb="quality.findings.export")
    assert json.loads(entry.details)["rows"] == len(rows)


def test_finding_export_follows_the_filters_and_explains_each_finding(
    client_for, case, other_case
) -> None:
    client = client_for(Role.ADMIN, "000000")
    listed = client.get("/quality/findings/?rule=CR-T04&unit=330000")
    response = client.get(
        "/quality/findings/export.xlsx?rule=CR-T04&unit=330000",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    header, *rows = _sheet_rows(response)
    assert header[:4] == ("严重程度", "评查规则", "规则名称", "受案号")
    assert len(rows) == listed.context["page"].paginator.count == 1
    (row,) = rows
    (shown,) = listed.context["rows"]
    assert row[1] == "CR-T04"
    assert row[3] == case.case_id
    assert row[5] == case.unit.code
    assert "2024-04-04" in row[9]  # the explanation names the due date
    assert "刑事诉讼法" in row[10]
    assert 'href="/quality/findings/export.xlsx?' in listed.content.decode()


def test_finding_export_with_a_bad_filter_shows_the_list_instead(
    client_for, case
) -> None:
    response = client_for(Role.ADMIN, "000000").get(
        "/quality/findings/export.xlsx?rule=NOPE"
    )
    assert response.status_code == 302
    assert response["Location"] == "/quality/findings/?rule=NOPE"
    assert not AuditEntry.objects.filter(verb="quality.findings.export").exists()


def test_finding_export_needs_a_login(client) -> None:
    response = client.get("/quality/findings/export.xlsx")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
