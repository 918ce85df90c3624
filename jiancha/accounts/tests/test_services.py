"""user_create: the one way to create users (the create-user command and, later, forms)."""

import orjson
import pytest

from jiancha.accounts.models import Staff, Unit, User
from jiancha.accounts.services import token_obtain, user_create
from jiancha.core.errors import BusinessError
from jiancha.core.models import AuditEntry
from jiancha.core.testing import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "long-enough-1"


@pytest.fixture
def staff():
    return Staff.objects.create(
        unit=Unit.objects.get(code="330106"), staff_number="S-7", name="周检察官"
    )


def test_creates_a_user_of_a_unit_with_a_role():
    actor = make_user("admin", "000000")

    user = user_create(
        username="zhou",
        password=PASSWORD,
        unit_code="330106",
        role="procurator",
        actor=actor,
    )

    user.refresh_from_db()
    assert user.unit.code == "330106"
    assert user.role == "procurator"
    assert user.check_password(PASSWORD)
    assert user.is_active
    assert not user.is_staff
    assert not user.is_superuser
    entry = AuditEntry.objects.get(verb="accounts.user_create")
    assert entry.actor_id == actor.pk
    assert entry.target_type == "accounts.user"
    assert entry.target_id == str(user.pk)
    assert orjson.loads(entry.details) == {
        "username": "zhou",
        "unit": "330106",
        "role": "procurator",
        "staff": "",
        "superuser": False,
    }


def test_the_password_never_reaches_the_audit_log():
    user_create(
        username="zhou", password=PASSWORD, unit_code="330106", role="procurator"
    )

    entry = AuditEntry.objects.get(verb="accounts.user_create")
    assert PASSWORD not in entry.details
    assert entry.actor_username == "system"


def test_links_the_staff_member(staff):
    user = user_create(
        username="zhou",
        password=PASSWORD,
        unit_code="330106",
        role="procurator",
        staff_number="S-7",
    )

    assert user.staff == staff


def test_a_superuser_may_use_the_admin_site():
    user = user_create(
        username="root2",
        password=PASSWORD,
        unit_code="000000",
        role="admin",
        is_superuser=True,
    )

    assert user.is_superuser
    assert user.is_staff


@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        ({"unit_code": "999999"}, "unknown_unit", "999999"),
        ({"role": "janitor"}, "unknown_role", "janitor"),
        ({"username": "taken"}, "duplicate_username", "taken"),
        ({"username": "TAKEN"}, "duplicate_username", "TAKEN"),
        ({"password": "short"}, "weak_password", ""),
        ({"username": "has space"}, "invalid_username", ""),
        ({"username": "  "}, "invalid_username", ""),
        ({"staff_number": "S-404"}, "unknown_staff", "S-404"),
    ],
    ids=[
        "unknown unit",
        "unknown role",
        "duplicate username",
        "duplicate username, other case",
        "weak password",
        "invalid username",
        "blank username",
        "unknown staff",
    ],
)
def test_refusals_write_nothing(overrides, code, fragment):
    make_user("procurator", "330106", username="taken")
    users, entries = User.objects.count(), AuditEntry.objects.count()
    arguments = {
        "username": "zhou",
        "password": PASSWORD,
        "unit_code": "330106",
        "role": "procurator",
    } | overrides

    with pytest.raises(BusinessError) as refusal:
        user_create(**arguments)

    assert refusal.value.code == code
    assert fragment in refusal.value.message
    assert refusal.value.message
    assert User.objects.count() == users
    assert AuditEntry.objects.count() == entries


def test_a_staff_member_gets_one_account(staff):
    user_create(
        username="zhou",
        password=PASSWORD,
        unit_code="330106",
        role="procurator",
        staff_number="S-7",
    )
    users, entries = User.objects.count(), AuditEntry.objects.count()

    with pytest.raises(BusinessError) as refusal:
        user_create(
            username="zhou2",
            password=PASSWORD,
            unit_code="330106",
            role="procurator",
            staff_number="S-7",
        )

    assert refusal.value.code == "duplicate_staff"
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, entries)


def test_staff_of_another_unit_is_not_found(staff):
    with pytest.raises(BusinessError) as refusal:
        user_create(
            username="zhou",
            password=PASSWORD,
            unit_code="330102",
            role="procurator",
            staff_number="S-7",
        )

    assert refusal.value.code == "unknown_staff"


def test_a_password_like_the_username_is_checked_by_the_validators(settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        },
    ]

    with pytest.raises(BusinessError) as refusal:
        user_create(
            username="zhouzhouzhou",
            password="zhouzhouzhou",
            unit_code="330106",
            role="procurator",
        )

    assert refusal.value.code == "weak_password"
    assert not User.objects.filter(username="zhouzhouzhou").exists()


def test_token_obtain_audits_and_reuses_the_token():
    user = make_user("procurator", "330106", username="li", password=PASSWORD)

    first = token_obtain(username="li", password=PASSWORD)
    second = token_obtain(username="li", password=PASSWORD)

    assert first.key == second.key
    assert first.user == user
    assert (
        AuditEntry.objects.filter(verb="accounts.token", actor_id=user.pk).count() == 2
    )


def test_token_obtain_refuses_bad_credentials():
    make_user("procurator", "330106", username="li", password=PASSWORD)

    with pytest.raises(BusinessError) as refusal:
        token_obtain(username="li", password="nope")

    assert refusal.value.code == "invalid_credentials"
    assert not AuditEntry.objects.exists()
