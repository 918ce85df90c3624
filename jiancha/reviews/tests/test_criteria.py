"""Key-case review picks exactly the cases meeting its criteria (issue 3 item 7)."""

import datetime

import pytest
from django.utils import timezone

from jiancha.accounts.choices import Role
from jiancha.accounts.models import Unit
from jiancha.cases.tests.factories import CaseFactory
from jiancha.core.testing import BASIC, CITY, SIBLING, make_user
from jiancha.quality.models import Finding
from jiancha.reviews.choices import PlanKind
from jiancha.reviews.criteria import CRITERION_IDS
from jiancha.reviews.models import PlanCase
from jiancha.reviews.services import plan_create, plan_draw
from jiancha.reviews.tests.factories import EVENT, closed_case, key_event

pytestmark = pytest.mark.django_db


def finding(case, severity, *, current=True, rule_id="R001"):
    return Finding.objects.create(
        case=case,
        unit=case.unit,
        procurator_id=case.procurator_id,
        period=case.closed_on or case.received_on,
        rule_id=rule_id,
        ruleset_version="2024",
        severity=severity,
        subject="",
        values={},
        legal_basis=[],
        fingerprint=f"{rule_id}-{case.pk}-{severity}-{current}",
        current=current,
        raised_at=timezone.now(),
        retired_at=None if current else timezone.now(),
    )


@pytest.fixture
def manager(db):
    return make_user(Role.CASE_MANAGER, CITY, username="key-manager")


@pytest.fixture
def cases(db):
    """One case per situation; the key ones are named by the criterion they meet."""
    made = {}
    made["arrest_not_approved"] = key_event(
        closed_case(BASIC),
        EVENT.ARREST_DECIDED,
        decision="not_approved",
        reason="no_necessity",
    )
    made["arrest_approved"] = key_event(
        closed_case(BASIC), EVENT.ARREST_DECIDED, decision="approved"
    )
    made["not_prosecuted"] = key_event(
        closed_case(SIBLING),
        EVENT.PROSECUTION_DECIDED,
        decision="not_prosecute",
        kind="discretionary",
    )
    made["prosecuted"] = key_event(
        closed_case(SIBLING), EVENT.PROSECUTION_DECIDED, decision="prosecute"
    )
    made["withdrawn"] = key_event(closed_case(BASIC), EVENT.WITHDRAWN)
    made["acquitted"] = key_event(
        closed_case(BASIC), EVENT.JUDGMENT, verdict="acquitted", instance=1
    )
    made["convicted"] = key_event(
        closed_case(BASIC), EVENT.JUDGMENT, verdict="guilty", instance=1
    )
    made = {name: event.case for name, event in made.items()}
    made["failure_findings"] = closed_case(SIBLING)
    finding(made["failure_findings"], "failure")
    made["defect_only"] = closed_case(SIBLING)
    finding(made["defect_only"], "defect")
    made["retired_failure"] = closed_case(SIBLING)
    finding(made["retired_failure"], "failure", current=False)
    made["plain"] = closed_case(BASIC)
    # Key events, but outside what the plan covers: still open, or closed before the period.
    open_case = CaseFactory(unit_code=BASIC, closed_on=None)
    key_event_open = open_case.events.create(
        type=EVENT.WITHDRAWN, on=datetime.date(2024, 3, 1), position=0
    )
    made["open_withdrawn"] = key_event_open.case
    made["old_withdrawn"] = key_event(
        closed_case(BASIC, closed_on=datetime.date(2023, 6, 1)), EVENT.WITHDRAWN
    ).case
    return made


def key_plan(manager, criteria):
    return plan_create(
        actor=manager,
        unit=Unit.objects.get(code=CITY),
        name="重点评查",
        kind=PlanKind.KEY,
        period_from=datetime.date(2024, 1, 1),
        period_to=datetime.date(2024, 12, 31),
        criteria=criteria,
        seed=3,
    )


def test_all_criteria_pick_exactly_the_key_cases(manager, cases):
    plan = key_plan(manager, list(CRITERION_IDS))

    plan_draw(plan=plan, actor=manager)

    drawn = {row.case_id: row.reasons for row in PlanCase.objects.filter(plan=plan)}
    expected = {name: cases[name].pk for name in CRITERION_IDS}
    assert set(drawn) == set(expected.values())
    for name, pk in expected.items():
        assert drawn[pk] == [name]


@pytest.mark.parametrize("criterion", CRITERION_IDS)
def test_each_criterion_alone_picks_its_case(manager, cases, criterion):
    plan = key_plan(manager, [criterion])

    plan_draw(plan=plan, actor=manager)

    assert set(
        PlanCase.objects.filter(plan=plan).values_list("case_id", flat=True)
    ) == {cases[criterion].pk}


def test_a_case_meeting_two_criteria_is_drawn_once_with_both(manager, cases):
    withdrawn = cases["withdrawn"]
    finding(withdrawn, "failure", rule_id="R002")
    plan = key_plan(manager, ["withdrawn", "failure_findings"])

    plan_draw(plan=plan, actor=manager)

    rows = PlanCase.objects.filter(plan=plan, case=withdrawn)
    assert rows.count() == 1
    assert rows.get().reasons == ["withdrawn", "failure_findings"]
