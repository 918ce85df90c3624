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
            "rating": {"type": "string", "enum": DimensionRating.values},
            "comment": {"type": "string"},
        },
        "required": ["rating", "comment"],
    },
}


class PlanBriefOutputSerializer(serializers.ModelSerializer[ReviewPlan]):
    kind = serializers.ChoiceField(choices=PlanKind.choices)
    unit_code = serializers.CharField(source="unit.code")

    class Meta:
        model = ReviewPlan
        fields = ["id", "name", "kind", "unit_code", "period_from", "period_to", "status"]
        read_only_fields = fields


class ObjectionOutputSerializer(serializers.ModelSerializer[Objection]):
    decision = serializers.ChoiceField(choices=ObjectionDecision.choices, allow_blank=True)
    decided_grade = serializers.ChoiceField(choices=ReviewGrade.choices, allow_blank=True)

    class Meta:
        model = Objection
        fields = ["reason", "filed_at", "decision", "decided_grade", "decision_reason", "decided_at"]
        read_only_fields = fields


class ReviewOutputSerializer(serializers.ModelSerializer[Review]):
    plan = PlanBriefOutputSerializer(read_only=True)
    case = serializers.IntegerField(source="case.pk", read_only=True)
    case_id = serializers.CharField(source="case.case_id", read_only=True, help_text=_("the unit's case number"))
    unit_code = serializers.CharField(source="case_unit.code", read_only=True)
    reviewer = serializers.CharField(source="reviewer.__str__", read_only=True)
    status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    grade = serializers.ChoiceField(choices=ReviewGrade.choices, allow_blank=True, read_only=True)
    final_grade = serializers.ChoiceField(
        choices=ReviewGrade.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("what appraisal reads; empty until submitted and while an objection is pending"),
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
