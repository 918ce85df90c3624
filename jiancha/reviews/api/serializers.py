"""Serializers of the reviews API: a review with its plan, case, ratings and objection.

No person's name is part of a review's output, so people's supervisors get the same shape.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jiancha.reviews.choices import (
    DimensionRating,
    ObjectionDecision,
    PlanKind,
    PlanStatus,
    ReviewGrade,
    ReviewStatus,
)
from jiancha.reviews.models import Objection, Review, ReviewPlan

SCORES_SCHEMA = {
    "type": "object",
    "description": "rating and comment per dimension id (see docs/apps/reviews.md)",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "rating": {
                "type": "string",
                "description": " | ".join(DimensionRating.values),
            },
            "comment": {"type": "string"},
        },
        "required": ["rating", "comment"],
    },
}


def _values(choices: type[Any]) -> str:
    return " | ".join(choices.values)


# Choice fields are documented as strings listing their values: named enums would collide
# with the quality API's ``status`` and ``grade`` enums unless settings.ENUM_NAME_OVERRIDES
# names them (docs/apps/reviews.md).


class PlanBriefOutputSerializer(serializers.ModelSerializer[ReviewPlan]):
    kind = serializers.CharField(help_text=_values(PlanKind))
    status = serializers.CharField(help_text=_values(PlanStatus))
    unit_code = serializers.CharField(source="unit.code")

    class Meta:
        model = ReviewPlan
        fields = [
            "id",
            "name",
            "kind",
            "unit_code",
            "period_from",
            "period_to",
            "status",
        ]
        read_only_fields = fields


class ObjectionOutputSerializer(serializers.ModelSerializer[Objection]):
    decision = serializers.CharField(
        help_text=_values(ObjectionDecision) + " | (empty while pending)"
    )
    decided_grade = serializers.CharField(
        help_text=_values(ReviewGrade) + " | (empty while pending)"
    )

    class Meta:
        model = Objection
        fields = [
            "reason",
            "filed_at",
            "decision",
            "decided_grade",
            "decision_reason",
            "decided_at",
        ]
        read_only_fields = fields


class ReviewOutputSerializer(serializers.ModelSerializer[Review]):
    plan = PlanBriefOutputSerializer(read_only=True)
    case = serializers.IntegerField(source="case.pk", read_only=True)
    case_id = serializers.CharField(
        source="case.case_id", read_only=True, help_text=_("the unit's case number")
    )
    unit_code = serializers.CharField(source="case_unit.code", read_only=True)
    reviewer = serializers.CharField(source="reviewer.__str__", read_only=True)
    status = serializers.CharField(read_only=True, help_text=_values(ReviewStatus))
    grade = serializers.CharField(
        read_only=True, help_text=_values(ReviewGrade) + " | (empty until submitted)"
    )
    final_grade = serializers.CharField(
        read_only=True,
        help_text=_values(ReviewGrade)
        + " | (empty until submitted and while an objection is pending; what appraisal reads)",
    )
    scores = serializers.SerializerMethodField()
    objection = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "plan",
            "case",
            "case_id",
            "unit_code",
            "procurator_id",
            "reviewer",
            "status",
            "scores",
            "findings",
            "grade",
            "final_grade",
            "submitted_at",
            "objection",
        ]
        read_only_fields = fields

    @extend_schema_field(SCORES_SCHEMA)
    def get_scores(self, review: Review) -> dict[str, Any]:
        return dict(review.scores or {})

    @extend_schema_field(ObjectionOutputSerializer(allow_null=True))
    def get_objection(self, review: Review) -> dict[str, Any] | None:
        if not hasattr(review, "objection"):
            return None
        return dict(ObjectionOutputSerializer(review.objection).data)
