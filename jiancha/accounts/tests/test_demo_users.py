"""The ``demo-users`` command and the demo staff rosters."""

import datetime
import io

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from jiancha.accounts.choices import Role, StaffKind
from jiancha.accounts.demo import (
    DEMO_USERS,
    SUPERVISOR_CASES,
    staff_create_for_units,
    unit_procurators,
    unit_staff,
)
from jiancha.accounts.models import Staff, Unit, User
from jiancha.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def make_cases(unit_code: str, count: int) -> None:
    """Closed cases of a unit, written through the app registry (accounts sits below cases)."""
    case_model = apps.get_model("cases", "Case")
    unit = Unit.objects.get(code=unit_code)
    now = timezone.now()
    case_model.objects.bulk_create(
        case_model(
            unit=unit,
            case_id=f"demo-{number}",
            business_line="ordinary_crime",
            procedure="prosecution_review",
            procurator_id="P0001",
            received_on=datetime.date(2025, 3, 1),
            closed_on=datetime.date(2025, 3, 20),
            created_at=now,
            updated_at=now,
        )
        for number in range(count)
    )


def test_every_role_gets_an_account_that_can_log_in() -> None:
    out = io.StringIO()
    call_command("demo-users", stdout=out)
    users = {user.username: user for user in User.objects.select_related("unit")}
    assert {username for username, *_rest in DEMO_USERS} <= set(users)
    assert {user.role for user in users.values()} == set(Role.values)
    admin = users["admin"]
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.unit.code == "000000"
    assert admin.role == Role.ADMIN
    assert (users["zhejiang"].unit.code, users["zhejiang"].role) == (
        "330000",
        Role.CASE_MANAGER,
    )
    assert (users["hangzhou"].unit.code, users["hangzhou"].role) == (
        "330100",
        Role.CHIEF,
    )
    assert not users["xihu"].is_superuser
    for username, *_rest in DEMO_USERS:
        assert authenticate(username=username, password="jiancha-demo") is not None
    table = out.getvalue()
    assert "xihu-supervisor" in table
    assert "jiancha-demo" in table
    assert "330106" in table


def test_each_creation_is_audited() -> None:
    call_command("demo-users", stdout=io.StringIO())
    created = AuditEntry.objects.filter(verb="accounts.user_create")
    assert created.count() == len(DEMO_USERS)


def test_running_again_resets_instead_of_duplicating() -> None:
    call_command("demo-users", stdout=io.StringIO())
    user = User.objects.get(username="xihu-chief")
    user.role = Role.PROCURATOR
    user.is_active = False
    user.save(update_fields=["role", "is_active"])
    out = io.StringIO()
    call_command("demo-users", "--password", "another-secret", stdout=out)
    assert User.objects.filter(
        username__in=[u for u, *_rest in DEMO_USERS]
    ).count() == len(DEMO_USERS)
    user.refresh_from_db()
    assert user.role == Role.CHIEF
    assert user.is_active
    assert authenticate(username="xihu-chief", password="another-secret") is not None
    assert authenticate(username="xihu-chief", password="jiancha-demo") is None
    assert AuditEntry.objects.filter(verb="accounts.user_create").count() == len(
        DEMO_USERS
    )
    assert "another-secret" in out.getvalue()


def test_weak_password_is_refused_and_nothing_is_created() -> None:
    with pytest.raises(CommandError):
        call_command("demo-users", "--password", "short", stdout=io.StringIO())
    assert not User.objects.filter(username="admin").exists()


def test_procurator_is_linked_to_a_procurator_of_its_unit() -> None:
    staff_create_for_units({"330106"})
    call_command("demo-users", stdout=io.StringIO())
    procurator = User.objects.select_related("staff__unit").get(
        username="xihu-procurator"
    )
    assert procurator.staff is not None
    assert procurator.staff.unit.code == "330106"
    assert procurator.staff.kind == StaffKind.PROCURATOR
    call_command("demo-users", stdout=io.StringIO())
    procurator.refresh_from_db()
    assert procurator.staff is not None


def test_procurator_without_staff_rows_is_still_created() -> None:
    call_command("demo-users", stdout=io.StringIO())
    assert User.objects.get(username="xihu-procurator").staff is None


def test_supervisor_gets_a_few_cases_of_its_unit() -> None:
    make_cases("330106", 8)
    make_cases("330102", 3)
    call_command("demo-users", stdout=io.StringIO())
    supervisor = User.objects.get(username="xihu-supervisor")
    assignment_model = apps.get_model("cases", "CaseGrant")
    assigned = assignment_model.objects.filter(user=supervisor).select_related(
        "case__unit"
    )
    assert assigned.count() == SUPERVISOR_CASES
    assert {a.case.unit.code for a in assigned} == {"330106"}
    call_command("demo-users", stdout=io.StringIO())
    assert assignment_model.objects.filter(user=supervisor).count() == SUPERVISOR_CASES


def test_staff_rows_follow_the_roster() -> None:
    created = staff_create_for_units(["330106", "330100"])
    roster = unit_staff("330106")
    assert created == len(roster) + len(unit_staff("330100"))
    rows = {
        s.staff_number: s
        for s in Staff.objects.filter(unit__code="330106").select_related("department")
    }
    assert set(rows) == {member.staff_number for member in roster}
    for member in roster:
        row = rows[member.staff_number]
        assert (row.name, row.kind, row.quota) == (
            member.name,
            member.kind,
            member.quota,
        )
        assert row.department.name == member.department
        assert 2 <= len(row.name) <= 4
    numbers = {
        number for numbers in unit_procurators("330106").values() for number in numbers
    }
    assert numbers == {m.staff_number for m in roster if m.kind == StaffKind.PROCURATOR}
    assert staff_create_for_units(["330106"]) == 0
