"""The case importer: validation, all-or-nothing writes, updates, the command."""

import copy
import datetime
import io
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from jiancha.cases import importer
from jiancha.cases.exchange import parse_line, parse_line_reference
from jiancha.cases.importer import (
    ImportFailed,
    import_lines,
    import_records,
    importable_units,
    validate_line,
)
from jiancha.cases.models import Case, CaseCharge, CaseGrant, Event, Person
from jiancha.core.models import AuditEntry
from jiancha.core.testing import BASIC, OTHER_BASIC, SIBLING

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the msgids); the default language is Chinese."""
    with translation.override("en"):
        yield


# --- sample records (also used by test_export and test_import_properties) -----------------


def criminal_case(
    number: int = 1, *, unit_code: str = BASIC, **changes: Any
) -> dict[str, Any]:
    """A prosecution review with two suspects, as a business system would export it."""
    record: dict[str, Any] = {
        "case_id": f"杭西检刑诉受〔2024〕{number:05d}号",
        "unit_code": unit_code,
        "matter_id": f"M-{number}",
        "business_line": "ordinary_crime",
        "procedure": "prosecution_review",
        "procurator_id": "P0007",
        "received_on": "2024-03-01",
        "closed_on": "2024-03-28",
        "detained": True,
        "fast_track": False,
        "complex": False,
        "persons": [
            {
                "person_id": "A",
                "juvenile": False,
                "charges": ["盗窃罪", "诈骗罪"],
                "articles": ["264", "266"],
                "plea_leniency": True,
            },
            {
                "person_id": "B",
                "juvenile": True,
                "charges": ["盗窃罪"],
                "articles": ["264"],
                "plea_leniency": False,
            },
        ],
        "events": [
            {"type": "received", "on": "2024-03-01"},
            {"type": "rights_notified", "on": "2024-03-03", "person": "A"},
            {"type": "plea_agreement_signed", "on": "2024-03-10", "person": "A"},
            {
                "type": "sentencing_recommended",
                "on": "2024-03-10",
                "person": "A",
                "kind": "range",
                "min_months": 6,
                "max_months": 12,
            },
            {
                "type": "prosecution_decided",
                "on": "2024-03-28",
                "person": "A",
                "decision": "prosecute",
            },
            {
                "type": "prosecution_decided",
                "on": "2024-03-28",
                "person": "B",
                "decision": "not_prosecute",
                "kind": "conditional",
            },
            {
                "type": "judgment",
                "on": "2024-06-01",
                "person": "A",
                "instance": 1,
                "verdict": "guilty",
                "months": 8,
                "charges": ["盗窃罪"],
                "recommendation_adopted": True,
            },
        ],
        "facts": "经审查查明：……",
    }
    record.update(changes)
    return record


def civil_case(
    number: int = 1, *, unit_code: str = BASIC, **changes: Any
) -> dict[str, Any]:
    """A civil supervision case: no persons, a recommendation and its reply; still open."""
    record: dict[str, Any] = {
        "case_id": f"杭西检民受〔2024〕{number:05d}号",
        "unit_code": unit_code,
        "business_line": "civil",
        "procedure": "civil_supervision",
        "procurator_id": "P0012",
        "received_on": "2024-02-01",
        "closed_on": None,
        "events": [
            {"type": "received", "on": "2024-02-01"},
            {"type": "recommendation_issued", "on": "2024-04-01", "kind": "retrial"},
            {"type": "reply_received", "on": "2024-05-20", "adopted": True},
        ],
    }
    record.update(changes)
    return record


def public_interest_case(number: int = 1, *, unit_code: str = BASIC) -> dict[str, Any]:
    return {
        "case_id": f"杭西检公益受〔2024〕{number:05d}号",
        "unit_code": unit_code,
        "business_line": "public_interest",
        "procedure": "public_interest",
        "procurator_id": "P0020",
        "received_on": "2024-01-10",
        "closed_on": "2024-09-30",
        "persons": [],
        "events": [
            {"type": "received", "on": "2024-01-10"},
            {"type": "public_notice_started", "on": "2024-02-01"},
            {"type": "public_notice_ended", "on": "2024-03-02"},
            {
                "type": "recommendation_issued",
                "on": "2024-03-10",
                "kind": "pre_litigation",
            },
            {"type": "suit_filed", "on": "2024-05-10"},
            {"type": "judgment", "on": "2024-09-01", "supported": True},
        ],
    }


def jsonl(*records: Any) -> list[bytes]:
    """Lines of an exchange file (records that are already bytes are taken as they are)."""
    return [
        record if isinstance(record, bytes) else orjson.dumps(record) + b"\n"
        for record in records
    ]


def table_counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "persons": Person.objects.count(),
        "events": Event.objects.count(),
        "charges": CaseCharge.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.fixture(params=[None, False], ids=["auto", "incremental"])
def bulk(request: pytest.FixtureRequest) -> bool | None:
    """Both write modes: automatic (bulk on an empty table) and always incremental."""
    return request.param


# --- importing ------------------------------------------------------------------------------


def test_valid_file_creates_cases_persons_events_and_charges(bulk):
    result = import_lines(
        jsonl(criminal_case(1), civil_case(2)), source="a.jsonl", bulk=bulk
    )

    assert (result.created, result.updated, result.lines) == (2, 0, 2)
    case = Case.objects.get(case_id=criminal_case(1)["case_id"])
    assert case.unit.code == BASIC
    assert case.received_on == datetime.date(2024, 3, 1)
    assert case.closed_on == datetime.date(2024, 3, 28)
    assert (case.detained, case.fast_track, case.complex) == (True, False, False)
    assert case.primary_charge == "盗窃罪"
    assert case.person_count == 2
    assert case.matter_id == "M-1"
    assert case.facts == "经审查查明：……"
    assert case.extra == {}
    assert case.created_at.tzinfo is not None
    assert case.created_at == case.updated_at
    assert sorted(case.charge_rows.values_list("charge", flat=True)) == [
        "盗窃罪",
        "诈骗罪",
    ]
    persons = list(case.persons.order_by("position"))
    assert [(p.person_id, p.juvenile, p.plea_leniency, p.charges) for p in persons] == [
        ("A", False, True, ["盗窃罪", "诈骗罪"]),
        ("B", True, False, ["盗窃罪"]),
    ]
    events = list(case.events.order_by("position"))
    assert [event.type for event in events] == [
        e["type"] for e in criminal_case(1)["events"]
    ]
    assert events[3].details == {"kind": "range", "min_months": 6, "max_months": 12}
    assert events[3].person == "A"
    assert events[0].details == {}
    civil = Case.objects.get(business_line="civil")
    assert (civil.closed_on, civil.person_count, civil.primary_charge) == (None, 0, "")


def test_import_is_audited_once():
    import_lines(jsonl(criminal_case(1), criminal_case(2)), source="cases.jsonl")

    entry = AuditEntry.objects.get()
    assert (entry.verb, entry.target_type, entry.target_id) == (
        "cases.import",
        "cases.case",
        "cases.jsonl",
    )
    assert orjson.loads(entry.details) == {"created": 2, "updated": 0, "lines": 2}
    assert entry.actor_username == "system"


def test_reimport_updates_the_case_and_replaces_its_persons_and_events(bulk):
    import_lines(jsonl(criminal_case(1), civil_case(2)), bulk=bulk)
    case = Case.objects.get(business_line="ordinary_crime")
    created_at = case.created_at
    changed = criminal_case(
        1,
        procurator_id="P0099",
        closed_on=None,
        detained=False,
        persons=[{"person_id": "C", "charges": ["故意伤害罪"]}],
        events=[{"type": "received", "on": "2024-03-02"}],
    )

    result = import_lines(jsonl(changed, civil_case(2)), bulk=bulk)

    assert (result.created, result.updated) == (0, 2)
    counts = table_counts()
    assert (
        counts["cases"],
        counts["persons"],
        counts["events"],
        counts["charges"],
    ) == (2, 1, 4, 1)
    case.refresh_from_db()
    assert (case.procurator_id, case.closed_on, case.detained) == ("P0099", None, False)
    assert (case.primary_charge, case.person_count) == ("故意伤害罪", 1)
    assert list(case.persons.values_list("person_id", flat=True)) == ["C"]
    assert list(case.events.values_list("type", "on")) == [
        ("received", datetime.date(2024, 3, 2))
    ]
    assert list(case.charge_rows.values_list("charge", flat=True)) == ["故意伤害罪"]
    assert case.created_at == created_at
    assert case.updated_at >= created_at


def test_same_file_twice_gives_the_same_rows(bulk):
    lines = jsonl(criminal_case(1), civil_case(2), public_interest_case(3))
    import_lines(lines, bulk=bulk)
    before = table_counts()
    ids = sorted(Case.objects.values_list("id", flat=True))

    result = import_lines(lines, bulk=bulk)

    assert (result.created, result.updated) == (0, 3)
    assert table_counts() == before | {"audit": before["audit"] + 1}
    assert sorted(Case.objects.values_list("id", flat=True)) == ids


def test_update_keeps_the_case_row_and_what_refers_to_it(user_factory):
    import_lines(jsonl(criminal_case(1)))
    case = Case.objects.get()
    supervisor = user_factory("supervisor", BASIC)
    CaseGrant.objects.create(case=case, user=supervisor)

    import_lines(jsonl(criminal_case(1, procurator_id="P0100")))

    assert Case.objects.get().pk == case.pk
    assert CaseGrant.objects.filter(case=case).exists()


def test_a_case_repeated_in_a_file_is_written_once_and_the_last_one_wins(
    bulk, monkeypatch
):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    lines = jsonl(
        criminal_case(1, procurator_id="first"),
        criminal_case(1, procurator_id="second"),  # same batch
        civil_case(2),
        criminal_case(3),
        criminal_case(1, procurator_id="third"),  # a later batch
    )

    result = import_lines(lines, bulk=bulk)

    assert (result.created, result.updated, result.lines) == (3, 0, 5)
    case = Case.objects.get(case_id=criminal_case(1)["case_id"])
    assert case.procurator_id == "third"
    assert case.persons.count() == 2
    assert case.events.count() == 7


def test_same_case_number_in_two_units_is_two_cases():
    import_lines(
        jsonl(criminal_case(1, unit_code=BASIC), criminal_case(1, unit_code=SIBLING))
    )

    assert Case.objects.count() == 2


def test_implausible_order_unknown_charges_and_unknown_persons_are_kept():
    record = criminal_case(
        1,
        received_on="2024-03-01",
        persons=[{"person_id": "A", "charges": ["不存在的罪名"]}],
        events=[
            {
                "type": "judgment",
                "on": "2024-01-01",
                "person": "Z",
                "verdict": "guilty",
            },
            {"type": "received", "on": "2024-03-01"},
        ],
    )

    import_lines(jsonl(record))

    case = Case.objects.get()
    assert case.primary_charge == "不存在的罪名"
    assert list(case.events.order_by("position").values_list("type", "person")) == [
        ("judgment", "Z"),
        ("received", ""),
    ]


def test_fields_the_format_does_not_name_are_kept():
    record = criminal_case(1, source_system="统一业务应用系统", review={"score": 3})
    record["persons"][0] |= {"name": "张某", "id_number_hash": "ab12"}
    record["events"][0] |= {"document": "受理通知书", "decision": "whatever"}

    import_lines(jsonl(record))

    case = Case.objects.get()
    assert case.extra == {"source_system": "统一业务应用系统", "review": {"score": 3}}
    person = case.persons.get(person_id="A")
    assert person.name == "张某"
    assert person.extra == {"id_number_hash": "ab12"}
    assert case.events.get(position=0).details == {
        "document": "受理通知书",
        "decision": "whatever",
    }


def test_null_means_absent_for_optional_fields():
    record = criminal_case(1, matter_id=None, detained=None, facts=None, persons=None)
    record["events"] = [{"type": "received", "on": "2024-03-01", "person": None}]

    import_lines(jsonl(record))

    case = Case.objects.get()
    assert (case.matter_id, case.detained, case.facts, case.person_count) == (
        "",
        False,
        "",
        0,
    )
    assert case.events.get().person == ""


def test_blank_lines_are_skipped_but_keep_line_numbers():
    with pytest.raises(ImportFailed) as failure:
        import_lines([b"\n", orjson.dumps(criminal_case(1)) + b"\n", b"   \n", b"{"])

    assert [(error.line, error.field) for error in failure.value.errors] == [
        (4, "json")
    ]
    result = import_lines([b"\n", orjson.dumps(criminal_case(1)) + b"\n", b"   \n"])
    assert (result.created, result.lines) == (1, 3)


def test_text_lines_are_accepted():
    result = import_lines([orjson.dumps(criminal_case(1)).decode()])

    assert result.created == 1


def test_import_records_takes_dicts_with_dates():
    record = criminal_case(1, received_on=datetime.date(2024, 3, 1))

    result = import_records([record, civil_case(2)])

    assert result.created == 2
    assert Case.objects.get(case_id=record["case_id"]).received_on == datetime.date(
        2024, 3, 1
    )


def test_import_records_reports_values_json_cannot_hold():
    with pytest.raises(ImportFailed) as failure:
        import_records([criminal_case(1), criminal_case(2, facts=object())])

    [error] = failure.value.errors
    assert (error.line, error.field) == (2, "json")


# --- bad input --------------------------------------------------------------------------------


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != key}


def _event_change(index: int, **changes: Any) -> Any:
    def change(record: dict[str, Any]) -> dict[str, Any]:
        record = copy.deepcopy(record)
        record["events"][index] |= changes
        return record

    return change


def _person_change(index: int, **changes: Any) -> Any:
    def change(record: dict[str, Any]) -> dict[str, Any]:
        record = copy.deepcopy(record)
        record["persons"][index] |= changes
        return record

    return change


BAD_RECORDS = [
    pytest.param(
        lambda r: _without(r, "case_id"),
        "case_id",
        "required field is missing",
        id="missing-case-id",
    ),
    pytest.param(
        lambda r: r | {"case_id": ""},
        "case_id",
        "must not be empty",
        id="empty-case-id",
    ),
    pytest.param(
        lambda r: r | {"case_id": "x" * 65},
        "case_id",
        "longer than 64",
        id="long-case-id",
    ),
    pytest.param(
        lambda r: r | {"case_id": 12},
        "case_id",
        "expected a string, got a number",
        id="numeric-case-id",
    ),
    pytest.param(
        lambda r: r | {"unit_code": "999999"},
        "unit_code",
        "unknown unit",
        id="unknown-unit",
    ),
    pytest.param(
        lambda r: _without(r, "unit_code"),
        "unit_code",
        "required field is missing",
        id="missing-unit",
    ),
    pytest.param(
        lambda r: r | {"business_line": "traffic"},
        "business_line",
        "unknown value “traffic”",
        id="business-line",
    ),
    pytest.param(
        lambda r: r | {"procedure": None},
        "procedure",
        "required field is missing",
        id="null-procedure",
    ),
    pytest.param(
        lambda r: _without(r, "procurator_id"),
        "procurator_id",
        "required field is missing",
        id="procurator",
    ),
    pytest.param(
        lambda r: r | {"received_on": "2024-02-30"},
        "received_on",
        "not a valid date",
        id="impossible-date",
    ),
    pytest.param(
        lambda r: r | {"received_on": "2024/03/01"},
        "received_on",
        "not a valid date",
        id="slashes",
    ),
    pytest.param(
        lambda r: r | {"received_on": "20240301"},
        "received_on",
        "not a valid date",
        id="compact-date",
    ),
    pytest.param(
        lambda r: r | {"closed_on": "2024-3-1"},
        "closed_on",
        "not a valid date",
        id="short-date",
    ),
    pytest.param(
        lambda r: r | {"detained": "yes"},
        "detained",
        "expected true or false",
        id="bool",
    ),
    pytest.param(
        lambda r: _without(r, "events"),
        "events",
        "required field is missing",
        id="missing-events",
    ),
    pytest.param(
        lambda r: r | {"events": {}},
        "events",
        "expected a list of events",
        id="events-object",
    ),
    pytest.param(
        lambda r: r | {"persons": "A"},
        "persons",
        "expected a list of persons",
        id="persons-string",
    ),
    pytest.param(
        _event_change(2, on="2024-13-01"),
        "events[2].on",
        "not a valid date",
        id="event-date",
    ),
    pytest.param(
        _event_change(2, on=None),
        "events[2].on",
        "required field is missing",
        id="event-no-date",
    ),
    pytest.param(
        _event_change(1, type="indicted"),
        "events[1].type",
        "unknown event type “indicted”",
        id="event-type",
    ),
    pytest.param(
        _event_change(4, decision="maybe"),
        "events[4].decision",
        "unknown value “maybe”",
        id="decision",
    ),
    pytest.param(
        _event_change(4, decision=None),
        "events[4].decision",
        "required field is missing",
        id="no-decision",
    ),
    pytest.param(
        _event_change(3, months="8"),
        "events[3].months",
        "expected a whole number",
        id="months",
    ),
    pytest.param(
        _event_change(6, instance=3),
        "events[6].instance",
        "unknown value “3”",
        id="instance",
    ),
    pytest.param(
        _event_change(6, charges="盗窃罪"),
        "events[6].charges",
        "expected a list of strings",
        id="judgment-charges",
    ),
    pytest.param(
        _event_change(1, person=["A"]),
        "events[1].person",
        "expected a string",
        id="event-person",
    ),
    pytest.param(
        _person_change(0, charges="盗窃罪"),
        "persons[0].charges",
        "expected a list of strings",
        id="charges",
    ),
    pytest.param(
        _person_change(1, charges=["盗窃罪", 7]),
        "persons[1].charges[1]",
        "expected a string",
        id="charge",
    ),
    pytest.param(
        _person_change(1, charges=["罪" * 61]),
        "persons[1].charges[0]",
        "longer than 60",
        id="long-charge",
    ),
    pytest.param(
        _person_change(1, person_id="A"),
        "persons[1].person_id",
        "duplicate person “A”",
        id="duplicate-person",
    ),
    pytest.param(
        _person_change(0, juvenile=1),
        "persons[0].juvenile",
        "expected true or false",
        id="juvenile",
    ),
    pytest.param(lambda r: r | {"facts": "a\u0000b"}, "facts", "NUL", id="nul"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD_RECORDS)
def test_a_bad_record_is_reported_with_its_line_and_field(change, field, reason):
    lines = jsonl(civil_case(1), change(criminal_case(2)), civil_case(3))
    before = table_counts()

    with pytest.raises(ImportFailed) as failure:
        import_lines(lines)

    [error] = failure.value.errors
    assert (error.line, error.field) == (2, field)
    assert reason in error.reason
    assert str(error).startswith(f"line 2: {field}: ")
    assert table_counts() == before


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b'{"case_id": "1",', "not valid JSON", id="truncated"),
        pytest.param(b"[1, 2]", "expected an object, got a list", id="array"),
        pytest.param(b'"case"', "expected an object, got a string", id="string"),
        pytest.param(b"\xff\xfe{}", "not valid JSON", id="not-utf8"),
    ],
)
def test_a_line_that_is_not_a_json_object_is_reported(line, reason):
    with pytest.raises(ImportFailed) as failure:
        import_lines(jsonl(civil_case(1), line))

    [error] = failure.value.errors
    assert (error.line, error.field) == (2, "json")
    assert reason in error.reason


def test_every_bad_line_is_reported_and_nothing_is_written(bulk, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    import_lines(jsonl(civil_case(100)))
    before = table_counts()
    lines = jsonl(
        criminal_case(1),
        criminal_case(2),
        criminal_case(3),
        civil_case(4, received_on="2024-02-31"),
        criminal_case(5),
        b"not json\n",
        criminal_case(7, unit_code="000001"),
    )

    with pytest.raises(ImportFailed) as failure:
        import_lines(lines, bulk=bulk)

    assert [(error.line, error.field) for error in failure.value.errors] == [
        (4, "received_on"),
        (6, "json"),
        (7, "unit_code"),
    ]
    assert not failure.value.truncated
    assert table_counts() == before
    assert not Case.objects.filter(case_id=criminal_case(1)["case_id"]).exists()


def test_the_error_report_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(importer, "MAX_ERRORS", 3)

    with pytest.raises(ImportFailed) as failure:
        import_lines([b"{\n"] * 10)

    assert [error.line for error in failure.value.errors] == [1, 2, 3]
    assert failure.value.truncated


def test_validate_line_names_the_problem():
    units = {BASIC: 1}

    assert validate_line(orjson.dumps(criminal_case(1)), 7, units=units) is None
    assert validate_line(b"  \n", 8, units=units) is None
    error = validate_line(
        orjson.dumps(_event_change(0, on="03/01/2024")(criminal_case(1))),
        9,
        units=units,
    )
    assert error is not None
    assert (error.line, error.field) == (9, "events[0].on")


def test_both_validators_build_the_same_rows():
    units = importable_units()
    for record in (criminal_case(1), civil_case(2), public_interest_case(3)):
        line = orjson.dumps(record)
        fast, reference = parse_line(line, units), parse_line_reference(line, units)
        assert fast[:16] == reference[:16]
        assert fast.charges == reference.charges
        assert [event[:4] for event in fast.events] == [
            event[:4] for event in reference.events
        ]
        assert [orjson.loads(event[4]) for event in fast.events] == [
            orjson.loads(event[4]) for event in reference.events
        ]


# --- scope ------------------------------------------------------------------------------------


def test_a_user_imports_only_into_units_in_scope(user_factory):
    procurator = user_factory("procurator", BASIC)

    with pytest.raises(ImportFailed) as failure:
        import_lines(
            jsonl(criminal_case(1), criminal_case(2, unit_code=OTHER_BASIC)),
            actor=procurator,
        )

    [error] = failure.value.errors
    assert (error.line, error.field) == (2, "unit_code")
    result = import_lines(
        jsonl(criminal_case(1)), actor=procurator, source="mine.jsonl"
    )
    assert result.created == 1
    assert AuditEntry.objects.get().actor_username == procurator.username


def test_a_supervisor_imports_nothing(user_factory):
    supervisor = user_factory("supervisor", BASIC)

    with pytest.raises(ImportFailed):
        import_lines(jsonl(criminal_case(1)), actor=supervisor)


# --- the command ------------------------------------------------------------------------------


def _write(tmp_path: Any, *records: Any) -> str:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"".join(jsonl(*records)))
    return str(path)


def test_command_imports_a_file(tmp_path):
    path = _write(tmp_path, criminal_case(1), civil_case(2))
    out = io.StringIO()

    call_command("import-cases", path, stdout=out)

    assert "2 cases created, 0 updated" in out.getvalue()
    assert Case.objects.count() == 2
    assert AuditEntry.objects.get().target_id == "cases.jsonl"


def test_command_lists_bad_lines_and_fails_without_writing(tmp_path):
    path = _write(
        tmp_path,
        criminal_case(1),
        _event_change(2, on="2024-02-30")(criminal_case(2)),
        civil_case(3),
        _person_change(0, charges="盗窃罪")(criminal_case(4)),
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported: 2 bad lines"):
        call_command("import-cases", path, stderr=err)

    assert err.getvalue().splitlines() == [
        "line 2: events[2].on: “2024-02-30” is not a valid date YYYY-MM-DD",
        "line 4: persons[0].charges: expected a list of strings, got a string",
    ]
    assert table_counts() == {
        "cases": 0,
        "persons": 0,
        "events": 0,
        "charges": 0,
        "audit": 0,
    }


def test_command_exits_non_zero_on_bad_input(tmp_path):
    path = _write(tmp_path, b"{}\n")

    with pytest.raises(CommandError) as failure:
        call_command("import-cases", path, stderr=io.StringIO())

    assert failure.value.returncode == 1


def test_command_runs_as_the_given_user(tmp_path, user_factory):
    user = user_factory("case_manager", "330100")
    path = _write(tmp_path, criminal_case(1), criminal_case(2, unit_code=SIBLING))

    call_command("import-cases", path, "--user", user.username, stdout=io.StringIO())

    assert AuditEntry.objects.get().actor_username == user.username


def test_command_refuses_unknown_user_and_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Unknown user"):
        call_command(
            "import-cases", _write(tmp_path, civil_case(1)), "--user", "nobody"
        )
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import-cases", str(tmp_path / "missing.jsonl"))


# --- parsing in worker processes --------------------------------------------------------------


def test_worker_processes_import_the_same_rows(bulk, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    records = [criminal_case(n) for n in range(1, 6)] + [
        civil_case(n) for n in range(6, 11)
    ]
    records.append(criminal_case(3, procurator_id="last"))  # a repeat, in a later chunk

    result = import_lines(jsonl(*records), bulk=bulk, workers=1)

    assert (result.created, result.updated, result.lines) == (10, 0, 11)
    assert Case.objects.get(case_id=criminal_case(3)["case_id"]).procurator_id == "last"
    counts = table_counts()
    assert (
        counts["cases"],
        counts["persons"],
        counts["events"],
        counts["charges"],
    ) == (
        10,
        10,
        50,
        10,
    )
    again = import_lines(jsonl(*records), bulk=bulk, workers=1)
    assert (again.created, again.updated) == (0, 10)
    assert Event.objects.count() == 50


def test_worker_processes_report_bad_lines(monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    records: list[Any] = [civil_case(n) for n in range(1, 10)]
    records[6] = civil_case(7, procedure="appeal")
    records[8] = b"[]\n"

    with pytest.raises(ImportFailed) as failure:
        import_lines(jsonl(*records), workers=1)

    assert [(error.line, error.field) for error in failure.value.errors] == [
        (7, "procedure"),
        (9, "json"),
    ]
    assert Case.objects.count() == 0


def _schema() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        return {
            table: connection.introspection.get_constraints(cursor, table)
            for table in importer.TABLES
        }


def test_bulk_mode_puts_every_index_and_constraint_back():
    before = _schema()

    import_lines(jsonl(criminal_case(1), civil_case(2)), bulk=True)
    import_lines(jsonl(criminal_case(1), civil_case(3)), bulk=True)

    assert _schema() == before
    assert Case.objects.count() == 3


def test_a_dead_worker_fails_the_import_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 1)
    monkeypatch.setattr(importer, "_worker", lambda *args: None)  # exits at once

    with pytest.raises(RuntimeError, match="died"):
        import_lines(jsonl(*[civil_case(n) for n in range(1, 6)]), workers=1)

    assert Case.objects.count() == 0
