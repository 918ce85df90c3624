"""user_scope, unit_visible_to and Case.objects.visible_to against hand-written expectations."""

import pytest
from django.contrib.auth.models import AnonymousUser

from jiancha.accounts.access import access_unit, unit_visible_to, user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.models import Case
from jiancha.cases.tests.api_factories import assign_supervisor, make_case
from jiancha.core.testing import ALL_ROLES

pytestmark = pytest.mark.django_db

CASE_UNITS = ["000000", "330000", "330100", "330106", "330102", "110000", "110105"]

# Written out by hand from the unit tree: which units' cases a subtree role at a unit sees.
SUBTREE_SEES = {
    "000000": {"000000", "330000", "330100", "330106", "330102", "110000", "110105"},
    "330000": {"330000", "330100", "330106", "330102"},
    "330100": {"330100", "330106", "330102"},
    "330106": {"330106"},
    "110000": {"110000", "110105"},
}
SUBTREE_ROLES = ["case_manager", "chief", "department_head", "admin"]
UNIT_ROLES = ["procurator", "political", "discipline"]


@pytest.fixture
def cases_by_unit():
    return {code: make_case(code) for code in CASE_UNITS}


def visible_units(user) -> set[str]:
    return set(Case.objects.visible_to(user).values_list("unit__code", flat=True))


def test_every_role_is_covered_by_the_expectations():
    assert sorted([*SUBTREE_ROLES, *UNIT_ROLES, "supervisor"]) == sorted(ALL_ROLES)


@pytest.mark.parametrize("role", SUBTREE_ROLES)
@pytest.mark.parametrize("unit", sorted(SUBTREE_SEES))
def test_subtree_roles_see_their_units_subtree(user_factory, cases_by_unit, role, unit):
    user = user_factory(role, unit)

    scope = user_scope(user)

    assert scope.kind == "subtree"
    assert scope.unit.code == unit
    assert scope.is_everything is (unit == "000000")
    assert visible_units(user) == SUBTREE_SEES[unit]


@pytest.mark.parametrize("role", UNIT_ROLES)
@pytest.mark.parametrize("unit", sorted(SUBTREE_SEES))
def test_unit_roles_see_their_own_unit_only(user_factory, cases_by_unit, role, unit):
    user = user_factory(role, unit)

    scope = user_scope(user)

    assert scope.kind == "unit"
    assert scope.unit_ids() == [Unit.objects.get(code=unit).pk]
    assert visible_units(user) == {unit}


@pytest.mark.parametrize("unit", sorted(SUBTREE_SEES))
def test_supervisors_see_only_assigned_cases(user_factory, cases_by_unit, unit):
    supervisor = user_factory("supervisor", unit)
    assert user_scope(supervisor).kind == "assigned"
    assert visible_units(supervisor) == set()

    assign_supervisor(cases_by_unit["110105"], supervisor)

    assert list(Case.objects.visible_to(supervisor)) == [cases_by_unit["110105"]]


def test_root_scope_is_everything_without_a_unit_list(user_factory):
    scope = user_scope(user_factory("admin", "000000"))

    assert scope.is_everything
    assert scope.unit_ids() is None


def test_scope_contains_follows_the_tree(user_factory):
    city = Unit.objects.get(code="330100")
    subtree = user_scope(user_factory("chief", "330100"))
    own = user_scope(user_factory("procurator", "330100"))
    basic = Unit.objects.get(code="330106")
    other = Unit.objects.get(code="110105")

    assert subtree.contains(city)
    assert subtree.contains(basic)
    assert not subtree.contains(other)
    assert own.contains(city)
    assert not own.contains(basic)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inactive_users_see_nothing(user_factory, cases_by_unit, role):
    user = user_factory(role, "000000")
    assign_supervisor(cases_by_unit["330106"], user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert user_scope(user).kind == "none"
    assert not Case.objects.visible_to(user).exists()
    assert not unit_visible_to(user).exists()


def test_anonymous_and_missing_users_see_nothing(cases_by_unit):
    for user in (AnonymousUser(), None):
        assert user_scope(user).kind == "none"
        assert not Case.objects.visible_to(user).exists()
        assert not unit_visible_to(user).exists()


def test_an_unknown_role_sees_nothing(user_factory, cases_by_unit):
    user = user_factory("admin", "000000")
    user.role = "janitor"

    assert user_scope(user).kind == "none"
    assert not Case.objects.visible_to(user).exists()


@pytest.mark.parametrize(
    ("role", "unit", "expected"),
    [
        ("case_manager", "330100", {"330100", "330106", "330102"}),
        ("procurator", "330100", {"330100"}),
        ("supervisor", "330100", {"330100"}),
    ],
)
def test_units_visible_to(user_factory, role, unit, expected):
    user = user_factory(role, unit)

    codes = set(unit_visible_to(user).values_list("code", flat=True))

    assert expected <= codes
    if role == "case_manager":
        assert codes == {
            u.code
            for u in Unit.objects.all()
            if u.path.startswith(Unit.objects.get(code=unit).path)
        }
    else:
        assert codes == expected


def test_access_unit_is_404_outside_the_scope(user_factory):
    from django.http import Http404

    user = user_factory("chief", "330100")

    assert access_unit(user, "330106").code == "330106"
    with pytest.raises(Http404):
        access_unit(user, "330000")
    with pytest.raises(Http404):
        access_unit(user, "110105")
