"""The OpenAPI schema is generated without a single warning and validates (STYLE.md §9)."""

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def test_schema_generation_emits_no_warnings_or_errors():
    GENERATOR_STATS.reset()

    schema = SchemaGenerator().get_schema(request=None, public=True)

    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not problems, "\n".join(problems)
    assert {
        "/api/v1/auth/token/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/units/",
    } <= set(schema["paths"])


def test_spectacular_command_validates_and_fails_on_warnings(tmp_path):
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/cases/" in target.read_text(encoding="utf-8")


def test_schema_documents_the_error_shape_and_the_token_auth():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert set(schema["components"]["schemas"]["ErrorOutput"]["properties"]) == {
        "code",
        "message",
        "fields",
    }
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert not schema["paths"]["/api/v1/auth/token/"]["post"].get("security")
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/cases/"]["get"]["security"]


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
