"""Serializers of the indicators API."""

from rest_framework import serializers


class IndicatorValueOutputSerializer(serializers.Serializer):
    """One indicator for one unit and period; ``value`` is numerator / denominator."""

    indicator = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    period = serializers.CharField(help_text="YYYY-MM, YYYY-Qn, YYYY, or FROM/TO for the whole range")
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    sufficient = serializers.BooleanField(help_text="False when the denominator is below the indicator's minimum sample")
    display = serializers.CharField()
    format = serializers.CharField()
    direction = serializers.CharField()
    counting_unit = serializers.CharField()
    set = serializers.CharField()
    definition_version = serializers.CharField()
    own_numerator = serializers.IntegerField()
    own_denominator = serializers.IntegerField()
    previous_year_value = serializers.FloatField(allow_null=True)
    parent_value = serializers.FloatField(allow_null=True)
    national_value = serializers.FloatField(allow_null=True)
    published_value = serializers.FloatField(allow_null=True)
    reference_low = serializers.FloatField(allow_null=True)
    reference_high = serializers.FloatField(allow_null=True)


class IndicatorDefinitionOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    set = serializers.CharField(source="set_name")
    version = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    counting_unit = serializers.CharField()
    format = serializers.CharField()
    direction = serializers.CharField()
    business_lines = serializers.ListField(child=serializers.CharField())
    min_denominator = serializers.IntegerField()
    explanation_en = serializers.CharField()
    explanation_zh = serializers.CharField()
    fingerprint = serializers.CharField()
