"""Serializers of the cases API: the list row and the full case (STYLE.md §9)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jiancha.cases.access import mask_names, masked_name
from jiancha.cases.choices import CaseStatus, EventType
from jiancha.cases.models import Case, Event, Person

CASE_LIST_FIELDS = [
    "id",
    "unit_code",
    "case_id",
    "matter_id",
    "business_line",
    "procedure",
    "procurator_id",
    "received_on",
    "closed_on",
    "status",
    "detained",
    "fast_track",
    "complex",
    "primary_charge",
    "url",
]

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A procedural event as in the case exchange format: type, on, person, "
    "plus the fields its type adds (decision, kind, days, months, ...).",
    "properties": {
        "type": {"type": "string", "enum": EventType.values},
        "on": {"type": "string", "format": "date"},
        "person": {
            "type": "string",
            "description": "person_id of the person concerned, or empty",
        },
    },
    "required": ["type", "on", "person"],
    "additionalProperties": True,
}


def event_as_exchange(event: Event) -> dict[str, Any]:
    """The event flattened as in the exchange format; ``details`` never overrides the core fields."""
    data: dict[str, Any] = dict(event.details or {})
    data.update(
        {"type": event.type, "on": event.on.isoformat(), "person": event.person}
    )
    return data


class CaseListOutputSerializer(serializers.ModelSerializer[Case]):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    url = serializers.HyperlinkedIdentityField(
        view_name="api-case-detail", read_only=True
    )

    class Meta:
        model = Case
        fields = CASE_LIST_FIELDS
        read_only_fields = fields


class PersonOutputSerializer(serializers.ModelSerializer[Person]):
    name = serializers.SerializerMethodField(
        help_text=_("masked for people's supervisors: 张三丰 → 张**")
    )
    charges = serializers.ListField(child=serializers.CharField(), read_only=True)
    articles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Person
        fields = [
            "person_id",
            "name",
            "juvenile",
            "charges",
            "articles",
            "plea_leniency",
        ]
        read_only_fields = fields

    def get_name(self, person: Person) -> str:
        if self.context.get("hide_names"):
            return masked_name(person.name)
        return person.name


class CaseDetailOutputSerializer(CaseListOutputSerializer):
    """The full case; expects ``persons``, ``events`` and ``hide_names`` in the context."""

    facts = serializers.SerializerMethodField()
    persons = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(CaseListOutputSerializer.Meta):
        fields = [*CASE_LIST_FIELDS, "facts", "persons", "events"]
        read_only_fields = fields

    def get_facts(self, case: Case) -> str:
        if self.context.get("hide_names"):
            return mask_names(
                case.facts, [person.name for person in self.context["persons"]]
            )
        return case.facts

    @extend_schema_field(PersonOutputSerializer(many=True))
    def get_persons(self, case: Case) -> list[dict[str, Any]]:
        return PersonOutputSerializer(
            self.context["persons"], many=True, context=self.context
        ).data  # type: ignore[return-value]

    @extend_schema_field({"type": "array", "items": EVENT_SCHEMA})
    def get_events(self, case: Case) -> list[dict[str, Any]]:
        return [event_as_exchange(event) for event in self.context["events"]]
