"""Serializers of the accounts API: tokens, units, and the shared error shape."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from jiancha.accounts.choices import Level
from jiancha.accounts.models import Unit


class ErrorOutputSerializer(serializers.Serializer):
    """The one error shape of the API (``jiancha.core.api.exception_handler``)."""

    code = serializers.CharField(
        help_text=_("A stable error code, e.g. invalid, not_found, not_authenticated.")
    )
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field, for invalid input."),
    )


class TokenCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128,
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )


class TokenCreateOutputSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send it as the header “Authorization: Token <token>”.")
    )


class UnitOutputSerializer(serializers.ModelSerializer[Unit]):
    level = serializers.ChoiceField(choices=Level.choices)
    parent_code = serializers.CharField(
        source="parent.code", default=None, allow_null=True
    )

    class Meta:
        model = Unit
        fields = ["code", "name", "full_name", "level", "kind", "parent_code"]
        read_only_fields = fields
