"""Property tests of the importer: one bad line among good ones is found and stops all writes.

Records come from a strategy that follows the spec; a mutation then breaks one of them in a
way the spec forbids (a required field dropped, a date broken, a wrong type, an unknown
event type, text that is not JSON, an unknown unit).
"""

import copy
import datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jiancha.cases.exchange import (
    BOOL,
    COUNT,
    EVENT_FIELDS,
    EVENT_REQUIRED,
    EVENT_TYPES,
    InvalidRecord,
    _fast_case,
    parse_line_reference,
)
from jiancha.cases.exporter import export_cases
from jiancha.cases.importer import ImportFailed, import_lines
from jiancha.cases.models import Case
from jiancha.cases.tests.test_export import normalised
from jiancha.cases.tests.test_import import english, table_counts  # noqa: F401 (fixture)
from jiancha.core.testing import BASIC, OTHER_BASIC, SIBLING

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
UNITS = [BASIC, SIBLING, OTHER_BASIC]
REQUIRED = [
    "case_id",
    "unit_code",
    "business_line",
    "procedure",
    "procurator_id",
    "received_on",
    "events",
]

# --- valid records ---------------------------------------------------------------------------

words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
)
dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31)).map(
    datetime.date.isoformat
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), words)


def _field_value(kind: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, tuple):
        return st.sampled_from(kind)
    if kind == BOOL:
        return st.booleans()
    if kind == COUNT:
        return st.integers(0, 100_000)
    return st.lists(words, max_size=3)


@st.composite
def events(draw: Any, person_ids: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(EVENT_FIELDS)))
    event: dict[str, Any] = {"type": kind, "on": draw(dates)}
    if person_ids and draw(st.booleans()):
        event["person"] = draw(st.sampled_from(person_ids))
    for name, field in EVENT_FIELDS[kind].items():
        if name in EVENT_REQUIRED.get(kind, ()) or draw(st.booleans()):
            event[name] = draw(_field_value(field))
    if draw(st.integers(0, 9)) == 0:
        event["note"] = draw(json_scalars)
    return event


@st.composite
def persons(draw: Any) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(
            st.text(alphabet="ABCDEFGH", min_size=1, max_size=2),
            max_size=3,
            unique=True,
        )
    )
    result = []
    for person_id in ids:
        person: dict[str, Any] = {"person_id": person_id}
        if draw(st.booleans()):
            person["charges"] = draw(st.lists(words, max_size=3))
        if draw(st.booleans()):
            person["articles"] = draw(
                st.lists(st.sampled_from(["264", "133-1", "234"]), max_size=2)
            )
        for flag in ("juvenile", "plea_leniency"):
            if draw(st.booleans()):
                person[flag] = draw(st.booleans())
        if draw(st.integers(0, 4)) == 0:
            person["name"] = draw(words)
        result.append(person)
    return result


@st.composite
def records(draw: Any, number: int) -> dict[str, Any]:
    person_list = draw(persons())
    person_ids = [person["person_id"] for person in person_list]
    record: dict[str, Any] = {
        "case_id": f"{number:04d}-{draw(words)}",
        "unit_code": draw(st.sampled_from(UNITS)),
        "business_line": draw(
            st.sampled_from(["ordinary_crime", "civil", "public_interest", "juvenile"])
        ),
        "procedure": draw(
            st.sampled_from(
                ["arrest_review", "prosecution_review", "civil_supervision", "other"]
            )
        ),
        "procurator_id": draw(words),
        "received_on": draw(dates),
        "events": draw(st.lists(events(person_ids), min_size=1, max_size=6)),
    }
    optional = {
        "closed_on": st.one_of(st.none(), dates),
        "matter_id": words,
        "detained": st.booleans(),
        "fast_track": st.booleans(),
        "complex": st.booleans(),
        "facts": words,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            record[name] = draw(strategy)
    if person_list or draw(st.booleans()):
        record["persons"] = person_list
    if draw(st.integers(0, 4)) == 0:
        record["x_source"] = draw(json_scalars)
    return record


@st.composite
def files(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    return [draw(records(number)) for number in range(count)]


# --- mutations: (line, the field the error must name) ------------------------------------------

BAD_DATES = [
    "2024-02-30",
    "2024-1-01",
    "24-01-01",
    "01/02/2024",
    "",
    "2024-01-01T00:00",
    20240101,
]
WRONG_TYPES = [
    ("case_id", 17),
    ("procurator_id", ["P1"]),
    ("detained", "yes"),
    ("persons", "A"),
    ("events", {"type": "received"}),
    ("business_line", 3),
]


@st.composite
def broken(draw: Any, record: dict[str, Any]) -> tuple[bytes, str]:
    record = copy.deepcopy(record)
    kind = draw(
        st.sampled_from(
            ["drop", "date", "event_date", "type", "event_type", "json", "unit"]
        )
    )
    if kind == "drop":
        field = draw(st.sampled_from(REQUIRED))
        del record[field]
    elif kind == "date":
        field = draw(st.sampled_from(["received_on", "closed_on"]))
        record[field] = draw(st.sampled_from(BAD_DATES))
    elif kind == "event_date":
        index = draw(st.integers(0, len(record["events"]) - 1))
        record["events"][index]["on"] = draw(
            st.sampled_from(["2023-13-01", "2023-00-10", "tomorrow", None, 5])
        )
        field = f"events[{index}].on"
    elif kind == "type":
        field, value = draw(st.sampled_from(WRONG_TYPES))
        record[field] = value
    elif kind == "event_type":
        index = draw(st.integers(0, len(record["events"]) - 1))
        value = draw(words)
        assume(value not in EVENT_TYPES)
        record["events"][index]["type"] = value
        field = f"events[{index}].type"
    elif kind == "json":
        line = orjson.dumps(record)
        return line[: draw(st.integers(1, len(line) - 2))], "json"
    else:
        record["unit_code"] = draw(
            st.sampled_from(["999999", "3301069", "", "330106 "])
        )
        field = "unit_code"
    return orjson.dumps(record), field


@pytest.mark.django_db
@SETTINGS
@given(data=st.data())
def test_one_bad_line_among_good_ones_is_found_and_nothing_is_written(data):
    good = data.draw(files())
    position = data.draw(st.integers(0, len(good)))
    line, field = data.draw(broken(data.draw(records(9999))))
    lines = [orjson.dumps(record) + b"\n" for record in good]
    lines.insert(position, line + b"\n")
    before = table_counts()

    with pytest.raises(ImportFailed) as failure:
        import_lines(lines)

    [error] = failure.value.errors
    assert error.line == position + 1
    assert error.field == field
    assert str(error).startswith(f"line {position + 1}: {field}: ")
    assert table_counts() == before


@pytest.mark.django_db
@SETTINGS
@given(good=files())
def test_valid_files_come_back_from_an_export(good):
    Case.objects.all().delete()
    # A case number repeated in a unit is one case: the last record wins.
    expected = {(record["unit_code"], record["case_id"]): record for record in good}

    import_lines([orjson.dumps(record) for record in good])

    exported = {
        (case["unit_code"], case["case_id"]): case
        for case in map(orjson.loads, export_cases())
    }
    assert exported == {key: normalised(record) for key, record in expected.items()}


# --- the two validators agree ------------------------------------------------------------------

UNIT_IDS = {code: index for index, code in enumerate(UNITS, 1)}
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(words, children, max_size=3)
    ),
    max_leaves=6,
)
EVENT_KEYS = [
    "type",
    "on",
    "person",
    *sorted({name for fields in EVENT_FIELDS.values() for name in fields}),
]
PERSON_KEYS = [
    "person_id",
    "name",
    "juvenile",
    "charges",
    "articles",
    "plea_leniency",
    "other",
]
CASE_KEYS = [
    *REQUIRED,
    "closed_on",
    "matter_id",
    "detained",
    "persons",
    "facts",
    "other",
]


@st.composite
def perturbed(draw: Any) -> dict[str, Any]:
    """A valid record with one value somewhere replaced by an arbitrary JSON value."""
    record = draw(records(1))
    target = draw(st.sampled_from(["case", "person", "event"]))
    if target == "person" and record.get("persons"):
        holder, keys = draw(st.sampled_from(record["persons"])), PERSON_KEYS
    elif target == "event":
        holder, keys = draw(st.sampled_from(record["events"])), EVENT_KEYS
    else:
        holder, keys = record, CASE_KEYS
    holder[draw(st.sampled_from(keys))] = draw(json_values)
    return record


@SETTINGS
@given(record=st.one_of(records(1), perturbed()))
def test_the_fast_validator_accepts_only_what_the_reference_accepts_and_builds_the_same_rows(
    record,
):
    line = orjson.dumps(record)
    fast = _fast_case(line, UNIT_IDS)
    try:
        reference = parse_line_reference(line, UNIT_IDS)
    except InvalidRecord:
        assert fast is None
        return
    if fast is None:
        # The fast validator refuses fields the format does not name; nothing else.
        return
    assert fast[:16] == reference[:16]
    assert fast.charges == reference.charges
    assert [event[:4] for event in fast.events] == [
        event[:4] for event in reference.events
    ]
    assert [orjson.loads(event[4]) for event in fast.events] == [
        orjson.loads(event[4]) for event in reference.events
    ]
