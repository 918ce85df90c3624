"""The case exporter: the exchange format back out, scoped like every other list."""

import copy
import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from jiancha.cases.exchange import json_schema
from jiancha.cases.exporter import UnknownUnit, export_cases
from jiancha.cases.importer import import_lines, import_records
from jiancha.cases.models import Case
from jiancha.cases.tests.test_import import (
    civil_case,
    criminal_case,
    jsonl,
    public_interest_case,
)
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, CITY, OTHER_BASIC, SIBLING

pytestmark = pytest.mark.django_db

SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "case-exchange.schema.json"
)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the msgids); the default language is Chinese."""
    with translation.override("en"):
        yield


def normalised(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the exporter writes it: defaults spelled out, empty optional text left out."""
    record = copy.deepcopy(record)
    for key in ("detained", "fast_track", "complex"):
        record[key] = bool(record.get(key))
    record.setdefault("closed_on", None)
    for key in ("matter_id", "facts"):
        if not record.get(key):
            record.pop(key, None)
    persons = []
    for person in record.get("persons") or []:
        person = {
            "juvenile": False,
            "plea_leniency": False,
            "charges": [],
            "articles": [],
        } | person
        if not person.get("name"):
            person.pop("name", None)
        persons.append(person)
    record["persons"] = persons
    for event in record["events"]:
        if not event.get("person"):
            event.pop("person", None)
    return record


def exported(**kwargs: Any) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in export_cases(**kwargs)]


def test_import_then_export_gives_back_the_same_cases():
    with_extras = criminal_case(
        4, source_system="统一业务应用系统", review={"score": 3}
    )
    with_extras["persons"][0] |= {"name": "张某", "id_number_hash": "ab12"}
    with_extras["events"][1] |= {"document": "权利义务告知书"}
    minimal = {
        "case_id": "最少字段",
        "unit_code": BASIC,
        "business_line": "complaint",
        "procedure": "criminal_complaint",
        "procurator_id": "P1",
        "received_on": "2024-01-02",
        "events": [{"type": "complaint", "on": "2024-01-02"}],
    }
    records = [
        criminal_case(1),
        civil_case(2),
        public_interest_case(3),
        with_extras,
        minimal,
    ]
    import_lines(jsonl(*records))

    assert exported() == [normalised(record) for record in records]


def test_export_then_import_then_export_is_stable():
    import_lines(jsonl(criminal_case(1), civil_case(2), public_interest_case(3)))
    first = b"".join(export_cases())

    result = import_lines(first.splitlines(keepends=True))

    assert (result.created, result.updated) == (0, 3)
    assert b"".join(export_cases()) == first


def test_events_and_persons_keep_their_order():
    record = criminal_case(1)
    record["events"].reverse()
    record["persons"].reverse()
    import_lines(jsonl(record))

    [case] = exported()

    assert [event["type"] for event in case["events"]] == [
        event["type"] for event in record["events"]
    ]
    assert [person["person_id"] for person in case["persons"]] == ["B", "A"]


def test_export_reads_in_chunks_in_id_order():
    import_records([civil_case(number) for number in range(1, 8)])

    cases = exported(chunk_size=3)

    assert [case["case_id"] for case in cases] == [
        civil_case(n)["case_id"] for n in range(1, 8)
    ]


def test_export_lines_follow_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import_lines(jsonl(criminal_case(1), civil_case(2), public_interest_case(3)))
    validator = jsonschema.Draft202012Validator(
        json.loads(SCHEMA_FILE.read_text(encoding="utf-8")),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )

    for case in exported():
        assert list(validator.iter_errors(case)) == []


def test_schema_file_is_the_generated_schema():
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()


def test_export_is_audited(user_factory):
    user = user_factory("case_manager", CITY)

    list(export_cases(user=user, unit_code=BASIC))

    entry = AuditEntry.objects.get()
    assert (entry.verb, entry.target_type, entry.target_id) == (
        "cases.export",
        "cases.case",
        BASIC,
    )
    assert entry.actor_username == user.username


# --- which cases ------------------------------------------------------------------------------


@pytest.fixture
def cases_in_units():
    import_lines(
        jsonl(
            criminal_case(1, unit_code=BASIC),
            civil_case(2, unit_code=BASIC),
            criminal_case(3, unit_code=SIBLING),
            criminal_case(4, unit_code=CITY),
            criminal_case(5, unit_code=OTHER_BASIC),
        )
    )


def _units(**kwargs: Any) -> list[str]:
    return [case["unit_code"] for case in exported(**kwargs)]


def test_unit_option_limits_the_export_to_the_unit_subtree(cases_in_units):
    assert _units(unit_code=BASIC) == [BASIC, BASIC]
    assert _units(unit_code=CITY) == [BASIC, BASIC, SIBLING, CITY]
    assert _units(unit_code="000000") == [BASIC, BASIC, SIBLING, CITY, OTHER_BASIC]
    assert _units() == [BASIC, BASIC, SIBLING, CITY, OTHER_BASIC]


def test_unknown_unit_is_refused_before_anything_is_written(cases_in_units):
    with pytest.raises(UnknownUnit):
        export_cases(unit_code="999999")

    assert not AuditEntry.objects.filter(verb="cases.export").exists()


@pytest.mark.parametrize(
    ("role", "user_unit", "expected"),
    [
        pytest.param("procurator", BASIC, [BASIC, BASIC], id="procurator-own-unit"),
        pytest.param("procurator", CITY, [CITY], id="procurator-city"),
        pytest.param(
            "case_manager", CITY, [BASIC, BASIC, SIBLING, CITY], id="manager-subtree"
        ),
        pytest.param(
            "chief", "000000", [BASIC, BASIC, SIBLING, CITY, OTHER_BASIC], id="root"
        ),
        pytest.param("supervisor", BASIC, [], id="supervisor"),
    ],
)
def test_user_sees_only_the_cases_in_scope(
    cases_in_units, user_factory, role, user_unit, expected
):
    user = user_factory(role, user_unit)

    assert _units(user=user) == expected


def test_unit_outside_the_users_scope_gives_nothing(cases_in_units, user_factory):
    procurator = user_factory("procurator", BASIC)

    assert _units(user=procurator, unit_code=SIBLING) == []
    assert _units(user=procurator, unit_code=CITY) == [BASIC, BASIC]


# --- the command ------------------------------------------------------------------------------


def test_command_writes_json_lines_to_stdout(cases_in_units):
    out = io.StringIO()

    call_command("export-cases", "--unit", CITY, stdout=out)

    lines = out.getvalue().splitlines()
    assert [json.loads(line)["unit_code"] for line in lines] == [
        BASIC,
        BASIC,
        SIBLING,
        CITY,
    ]


def test_command_applies_the_users_scope(cases_in_units, user_factory):
    procurator = user_factory("procurator", BASIC)
    out = io.StringIO()

    call_command("export-cases", "--user", procurator.username, stdout=out)

    assert {json.loads(line)["unit_code"] for line in out.getvalue().splitlines()} == {
        BASIC
    }
    assert (
        AuditEntry.objects.filter(verb="cases.export").get().actor_username
        == procurator.username
    )


def test_command_output_imports_back(cases_in_units, tmp_path):
    out = io.StringIO()
    call_command("export-cases", stdout=out)
    path = tmp_path / "export.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    before = Case.objects.count()

    call_command("import-cases", str(path), stdout=io.StringIO())

    assert Case.objects.count() == before


def test_command_refuses_unknown_unit_and_user():
    with pytest.raises(CommandError, match="Unknown unit “999999”"):
        call_command("export-cases", "--unit", "999999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown user"):
        call_command("export-cases", "--user", "nobody", stdout=io.StringIO())


def test_text_with_tabs_line_breaks_quotes_and_backslashes_comes_back_unchanged(
    monkeypatch,
):
    from jiancha.cases import importer

    monkeypatch.setattr(importer, "BATCH_SIZE", 1)
    awkward = '第一行\n第二行\t制表 \\N \\t 反斜杠\\ “引号” "quoted" \r end'
    record = criminal_case(1, facts=awkward, matter_id="M\t1", note={"text": awkward})
    record["persons"][0] |= {"name": "张\\三\t", "alias": awkward}
    record["events"][0] |= {"document": awkward}
    plain = [civil_case(n) for n in range(2, 6)]

    # In the first chunk (parsed here) and in the last (parsed by a worker process).
    import_lines(jsonl(record, *plain, record | {"case_id": "末件"}), workers=1)

    assert exported() == [
        normalised(case) for case in (record, *plain, record | {"case_id": "末件"})
    ]
