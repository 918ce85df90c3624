"""Serializers of the quality API: findings, a case's findings with its grade, rules."""

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jiancha.quality.choices import Grade, Severity
from jiancha.quality.models import Finding
from jiancha.quality.selectors import finding_view

LEGAL_BASIS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "law": {"type": "string", "example": "刑事诉讼法"},
            "article": {"type": "string", "example": "172"},
        },
        "required": ["law", "article"],
    },
}


class FindingOutputSerializer(serializers.ModelSerializer[Finding]):
    case_id = serializers.CharField(
        source="case.case_id", read_only=True, help_text=_("the unit's case number")
    )
    case = serializers.IntegerField(source="case.pk", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    rule_name = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(
        help_text=_("the explanation in the request's language")
    )
    legal_basis = serializers.SerializerMethodField()
    values = serializers.DictField(
        read_only=True,
        help_text=_(
            "the dates and values that broke the rule, and the limit that applied"
        ),
    )
    url = serializers.HyperlinkedRelatedField(
        source="case", view_name="api-case-detail", read_only=True
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "case",
            "case_id",
            "unit_code",
            "procurator_id",
            "period",
            "rule_id",
            "rule_name",
            "ruleset_version",
            "severity",
            "subject",
            "message",
            "legal_basis",
            "values",
            "raised_at",
            "url",
        ]
        read_only_fields = fields

    def _view(self, finding: Finding) -> Any:
        cache = self.context.setdefault("finding_views", {})
        if finding.pk not in cache:
            cache[finding.pk] = finding_view(finding, language=get_language())
        return cache[finding.pk]

    def get_rule_name(self, finding: Finding) -> str:
        return str(self._view(finding).rule_name)

    def get_message(self, finding: Finding) -> str:
        return str(self._view(finding).message)

    @extend_schema_field(LEGAL_BASIS_SCHEMA)
    def get_legal_basis(self, finding: Finding) -> list[dict[str, str]]:
        return list(finding.legal_basis or [])


class GradeOutputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["evaluated", "clean", "pending"],
        help_text=_("pending: not evaluated since the case last changed"),
    )
    grade = serializers.ChoiceField(choices=Grade.choices, allow_blank=True)
    failures = serializers.IntegerField()
    defects = serializers.IntegerField()
    notices = serializers.IntegerField()
    ruleset_version = serializers.CharField(allow_blank=True)
    evaluated_at = serializers.DateTimeField(allow_null=True)


class CaseFindingsOutputSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    case_id = serializers.CharField()
    unit_code = serializers.CharField()
    grade = GradeOutputSerializer()
    findings = FindingOutputSerializer(many=True)


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    category = serializers.CharField()
    business_lines = serializers.ListField(child=serializers.CharField())
    procedures = serializers.ListField(child=serializers.CharField())
    legal_basis = serializers.SerializerMethodField()
    explanation_zh = serializers.CharField()
    explanation_en = serializers.CharField()
    kind = serializers.CharField()

    @extend_schema_field(LEGAL_BASIS_SCHEMA)
    def get_legal_basis(self, rule: Any) -> list[dict[str, str]]:
        return rule.legal_basis_list()


class RuleSetOutputSerializer(serializers.Serializer):
    version = serializers.CharField()
    effective = serializers.DateField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    rules = RuleOutputSerializer(many=True)
