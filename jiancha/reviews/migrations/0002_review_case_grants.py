"""Reviewers hold case grants (cases.CaseGrant, reason ``review``, reference
``reviews.plan:<id>``) for the cases assigned to them, until the plan is closed.

* A supervisor assignment that review assignment made (same case and user as a review) is
  turned into that review's grant, revoked at the plan's closing time if it is closed.
  (Such rows cannot be told from an assignment an administrator also made by hand for
  the same case and supervisor; those end with the plan too.)
* Every other review of a plan that is not closed gets its grant, so that reviewers from
  another unit can open the case page.
"""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Review = apps.get_model("reviews", "Review")
    CaseGrant = apps.get_model("cases", "CaseGrant")
    now = timezone.now()
    reviews = Review.objects.select_related("plan").order_by("pk")
    for review in reviews.iterator(chunk_size=2000):
        reference = f"reviews.plan:{review.plan_id}"
        closed = review.plan.status == "closed"
        revoked_at = (review.plan.closed_at or now) if closed else None
        converted = (
            CaseGrant.objects.filter(
                case_id=review.case_id,
                user_id=review.reviewer_id,
                reason="supervisor",
                reference="",
                revoked_at__isnull=True,
            )
            .order_by("pk")
            .first()
        )
        if converted is not None:
            converted.reason = "review"
            converted.reference = reference
            converted.revoked_at = revoked_at
            converted.save(update_fields=["reason", "reference", "revoked_at"])
        elif (
            not closed
            and not CaseGrant.objects.filter(
                case_id=review.case_id,
                user_id=review.reviewer_id,
                reason="review",
                reference=reference,
                revoked_at__isnull=True,
            ).exists()
        ):
            CaseGrant.objects.create(
                case_id=review.case_id,
                user_id=review.reviewer_id,
                reason="review",
                reference=reference,
                granted_by_id=review.assigned_by_id,
                granted_at=review.created_at or now,
            )


def backwards(apps, schema_editor):
    """Before this migration only people's supervisors held a row, one per case."""
    CaseGrant = apps.get_model("cases", "CaseGrant")
    grants = CaseGrant.objects.filter(reason="review")
    kept = set(
        CaseGrant.objects.filter(reason="supervisor").values_list("case_id", "user_id")
    )
    for grant in grants.select_related("user").order_by("pk"):
        key = (grant.case_id, grant.user_id)
        if (
            grant.user.role == "supervisor"
            and grant.revoked_at is None
            and key not in kept
        ):
            grant.reason, grant.reference = "supervisor", ""
            grant.save(update_fields=["reason", "reference"])
            kept.add(key)
        else:
            grant.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_review_plans_reviews_objections"),
        ("cases", "0004_case_grant"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
