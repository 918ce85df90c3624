"""Case grants (ADR 0002): a user may open exactly the cases granted to it beyond its unit
scope, until the grant is revoked or expires; the case page, the API and the list follow
(quality's findings: quality/tests/test_views.py)."""

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from jiancha.accounts.choices import Role
from jiancha.cases.choices import GrantReason
from jiancha.cases.models import Case, CaseGrant
from jiancha.cases.services import case_grants_create, case_grants_revoke
from jiancha.cases.tests.factories import CaseFactory, PersonFactory
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, OTHER_PROVINCE, SIBLING, role_matrix

pytestmark = pytest.mark.django_db

REFERENCE = "reviews.plan:1"


@pytest.fixture
def granted(db: Any) -> Case:
    case = CaseFactory(case_id="杭西检刑诉受〔2024〕00077号", unit_code=BASIC)
    PersonFactory(case=case, person_id="A", name="王五")
    return case


@pytest.fixture
def other(db: Any) -> Case:
    """Another case of the same unit, never granted."""
    return CaseFactory(case_id="杭西检刑诉受〔2024〕00078号", unit_code=BASIC)


def page(client: Any, case: Case) -> int:
    return client.get(reverse("cases:case_detail", args=[case.pk])).status_code


def api(client: Any, case: Case) -> int:
    return client.get(f"/api/v1/cases/{case.pk}/").status_code


def grant(case: Case, user: Any, **kwargs: Any) -> list[CaseGrant]:
    return case_grants_create(
        grants=[(case, user)], reason=GrantReason.REVIEW, reference=REFERENCE, **kwargs
    )


@pytest.mark.parametrize(("role", "unit"), role_matrix(BASIC))
def test_a_grant_opens_exactly_the_granted_case(
    client_for: Any, granted: Case, other: Case, role: str, unit: str
) -> None:
    client = client_for(role, unit)
    before = set(Case.objects.visible_to(client.user).values_list("pk", flat=True)) & {
        granted.pk,
        other.pk,
    }
    grant(granted, client.user)
    visible = set(Case.objects.visible_to(client.user).values_list("pk", flat=True))
    assert granted.pk in visible
    assert (other.pk in visible) is (other.pk in before)
    assert page(client, granted) == 200
    assert page(client, other) == (200 if other.pk in before else 404)

    case_grants_revoke(reason=GrantReason.REVIEW, reference=REFERENCE, user=client.user)
    assert page(client, granted) == (200 if granted.pk in before else 404)


@pytest.mark.parametrize("unit", [SIBLING, OTHER_PROVINCE])
def test_a_cross_unit_reviewer_sees_the_case_and_nothing_else_of_that_unit(
    client_for: Any, granted: Case, other: Case, unit: str
) -> None:
    client = client_for(Role.PROCURATOR, unit)
    assert (page(client, granted), api(client, granted)) == (404, 404)
    grant(granted, client.user)
    assert (page(client, granted), api(client, granted)) == (200, 200)
    assert (page(client, other), api(client, other)) == (404, 404)
    listing = client.get("/cases/").content.decode()
    assert granted.case_id in listing
    assert other.case_id not in listing
    # A staff member reads names; masking stays the supervisors' (by role).
    assert (
        "王五"
        in client.get(reverse("cases:case_detail", args=[granted.pk])).content.decode()
    )

    assert (
        case_grants_revoke(reason=GrantReason.REVIEW, reference=REFERENCE, case=granted)
        == 1
    )
    assert (page(client, granted), api(client, granted)) == (404, 404)
    assert granted.case_id not in client.get("/cases/").content.decode()
    revoked = CaseGrant.objects.get(case=granted)
    assert revoked.revoked_at is not None  # kept on record


def test_an_expired_grant_opens_nothing(client_for: Any, granted: Case) -> None:
    client = client_for(Role.PROCURATOR, SIBLING)
    grant(
        granted, client.user, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert page(client, granted) == 404
    assert not Case.objects.visible_to(client.user).filter(pk=granted.pk).exists()


def test_a_supervisor_sees_a_granted_case_with_names_masked(
    client_for: Any, granted: Case, other: Case
) -> None:
    client = client_for(Role.SUPERVISOR, CITY)
    grant(granted, client.user)
    response = client.get(reverse("cases:case_detail", args=[granted.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "王*" in body
    assert "王五" not in body
    assert page(client, other) == 404


def test_granting_is_idempotent_audited_and_revoking_keeps_the_row(
    user_factory: Any, granted: Case, other: Case
) -> None:
    reviewer = user_factory(Role.PROCURATOR, SIBLING)
    manager = user_factory(Role.CASE_MANAGER, CITY)
    first = case_grants_create(
        grants=[(granted, reviewer), (other, reviewer)],
        reason=GrantReason.REVIEW,
        reference=REFERENCE,
        granted_by=manager,
    )
    assert len(first) == 2
    again = grant(granted, reviewer, granted_by=manager)
    assert again == []
    assert CaseGrant.objects.active().filter(user=reviewer).count() == 2
    entry = AuditEntry.objects.get(verb="cases.grant.create")
    assert json.loads(entry.details)["count"] == 2
    assert json.loads(entry.details)["reference"] == REFERENCE

    # Another reference (another plan) is another grant, revoked separately.
    case_grants_create(
        grants=[(granted, reviewer)],
        reason=GrantReason.REVIEW,
        reference="reviews.plan:2",
    )
    assert (
        case_grants_revoke(
            reason=GrantReason.REVIEW, reference=REFERENCE, revoked_by=manager
        )
        == 2
    )
    assert set(Case.objects.visible_to(reviewer).filter(unit__code=BASIC)) == {granted}
    assert (
        json.loads(AuditEntry.objects.get(verb="cases.grant.revoke").details)["count"]
        == 2
    )
    assert CaseGrant.objects.filter(user=reviewer).count() == 3
    assert case_grants_revoke(reason=GrantReason.REVIEW, reference=REFERENCE) == 0
    # Granting again after a revocation makes a new row.
    assert len(grant(granted, reviewer)) == 1


def test_the_admin_assigns_supervisors_only_and_revokes_without_deleting(
    client: Any, user_factory: Any, granted: Case
) -> None:
    admin_user = user_factory(Role.ADMIN, "000000")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    supervisor = user_factory(Role.SUPERVISOR, CITY)
    procurator = user_factory(Role.PROCURATOR, SIBLING)
    client.force_login(admin_user)
    url = "/admin/cases/casegrant/add/"
    form = {"case": granted.pk, "reason": GrantReason.SUPERVISOR, "reference": ""}
    refused = client.post(url, {**form, "user": procurator.pk})
    assert refused.status_code == 200  # the form again, with the error
    assert not CaseGrant.objects.exists()
    assert client.post(url, {**form, "user": supervisor.pk}).status_code == 302
    grant = CaseGrant.objects.get()
    assert (grant.user, grant.granted_by) == (supervisor, admin_user)
    assert client.get("/admin/cases/casegrant/").status_code == 200

    client.post(
        "/admin/cases/casegrant/",
        {"action": "revoke", "_selected_action": [grant.pk]},
    )
    grant.refresh_from_db()
    assert grant.revoked_by == admin_user
    assert grant.revoked_at is not None
    assert not Case.objects.visible_to(supervisor).exists()
    assert client.get(f"/admin/cases/casegrant/{grant.pk}/delete/").status_code == 403
