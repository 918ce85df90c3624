"""The case exchange format, version 1: vocabularies and the validation of one record.

One JSON object per line, one case per object (docs/exchange-format.md,
``jiancha/cases/data/case-exchange.schema.json``). :func:`validate_case` checks a decoded
record and turns it into the rows the importer writes; the first problem it meets is
raised as :class:`InvalidRecord` naming the field as a path (``events[2].on``,
``persons[0].charges``).

There are two validators. The fast one decodes a line straight into msgspec structs (the
checks run in C, tens of thousands of cases per second); a line it refuses, or one
carrying fields the format does not name, goes to the reference validator written in
Python (:func:`validate_case`), which keeps unknown fields and says precisely what is
wrong, in the user's language. The fast one accepts nothing the reference refuses, and
both build the same rows (a property test checks both).

Choices the format leaves open, decided here (and documented in docs/exchange-format.md):

* ``null`` is accepted for an optional field and means "absent".
* An event's ``person`` that names no person of the case is kept (a quality finding, like
  an implausible order of events).
* ``person_id`` is required for a person and unique within the case, so that events can
  refer to it.
* ``decision`` is required on ``arrest_decided`` and ``prosecution_decided``; the other
  type-specific fields are optional, but checked when present.
* Unknown top-level keys go to ``Case.extra``, unknown person keys to ``Person.extra``,
  and every event key other than ``type``, ``on`` and ``person`` to ``Event.details``, so
  that the fields a project adds survive an import followed by an export.
"""

import datetime
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, NamedTuple, Union

import msgspec
import orjson
from django.utils.translation import gettext as _
from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

from jiancha.cases.choices import BusinessLine, EventType, Procedure

FORMAT_VERSION = 1

# Column sizes of the case tables (jiancha/cases/models.py); longer values are import errors
# rather than database errors halfway through a file.
CASE_ID_LENGTH = 64
MATTER_ID_LENGTH = 64
PROCURATOR_ID_LENGTH = 32
PERSON_ID_LENGTH = 32
PERSON_NAME_LENGTH = 50
CHARGE_LENGTH = 60
ARTICLE_LENGTH = 16
# Positions are small integers in the database.
MAX_ITEMS = 32767

BUSINESS_LINES = frozenset(BusinessLine.values)
PROCEDURES = frozenset(Procedure.values)
EVENT_TYPES = frozenset(EventType.values)

CASE_KEYS = frozenset(
    {
        "case_id",
        "unit_code",
        "matter_id",
        "business_line",
        "procedure",
        "procurator_id",
        "received_on",
        "closed_on",
        "detained",
        "fast_track",
        "complex",
        "persons",
        "events",
        "facts",
    }
)
PERSON_KEYS = frozenset(
    {"person_id", "name", "juvenile", "charges", "articles", "plea_leniency"}
)
EVENT_KEYS = frozenset({"type", "on", "person"})

# Values of the type-specific event fields (the spec's event tables).
ARREST_DECISIONS = ("approved", "not_approved")
NON_ARREST_REASONS = ("no_crime", "insufficient_evidence", "no_necessity")
PROSECUTION_DECISIONS = ("prosecute", "not_prosecute")
NON_PROSECUTION_KINDS = ("statutory", "discretionary", "evidentiary", "conditional")
SENTENCING_KINDS = ("fixed", "range")
RECOMMENDATION_KINDS = ("retrial", "violation", "pre_litigation", "social_governance")
VERDICTS = ("guilty", "acquitted", "exempted")
INSTANCES = (1, 2)


class InvalidRecord(Exception):  # noqa: N818 (a validation outcome, not a program error)
    """The first problem of a record: ``field`` is a path such as ``events[2].on``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class LineError(NamedTuple):
    """A bad line of an exchange file, reported as ``line N: field: reason``."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return _("line %(line)s: %(field)s: %(reason)s") % {
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
        }


# Rows are plain tuples (a NamedTuple costs a Python-level call per row):
# a person is (position, person_id, name, juvenile, plea_leniency, charges JSON,
# articles JSON, extra JSON); an event is (position, type, on, person, details JSON).
PersonRow = tuple[int, str, str, bool, bool, str, str, str]
EventRow = tuple[int, str, str, str, str]


class CaseRecord(NamedTuple):
    """A valid case, ready to be written: strings for dates, JSON text for JSON columns."""

    unit_id: int
    case_id: str
    matter_id: str
    business_line: str
    procedure: str
    procurator_id: str
    received_on: str
    closed_on: str | None
    detained: bool
    fast_track: bool
    complex: bool
    facts: str
    primary_charge: str
    person_count: int
    extra: str
    persons: list[PersonRow]
    events: list[EventRow]
    charges: list[str]  # distinct, over all persons


# --- type-specific event fields ----------------------------------------------------------

# The spec's event tables: type -> field -> kind, where a kind is a tuple of allowed values,
# BOOL, COUNT (a whole number from 0 to MAX_COUNT) or STRINGS (a list of charge names). A
# field the table does not name is kept unchecked in Event.details. Both validators are
# built from this table.
BOOL = "bool"
COUNT = "count"
STRINGS = "strings"
MAX_COUNT = 100_000

_CHANGED: dict[str, Any] = {"changed": BOOL}
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "received": {},
    "rights_notified": {},
    "arrest_decided": {"decision": ARREST_DECISIONS, "reason": NON_ARREST_REASONS},
    "arrest_reconsideration": _CHANGED,
    "detention_extended": {},
    "returned_for_investigation": {},
    "resubmitted": {},
    "review_extended": {"days": COUNT},
    "plea_agreement_signed": {},
    "sentencing_recommended": {
        "kind": SENTENCING_KINDS,
        "months": COUNT,
        "min_months": COUNT,
        "max_months": COUNT,
    },
    "prosecution_decided": {
        "decision": PROSECUTION_DECISIONS,
        "kind": NON_PROSECUTION_KINDS,
    },
    "non_prosecution_reconsideration": _CHANGED,
    "withdrawn": {},
    "judgment": {
        "instance": INSTANCES,
        "verdict": VERDICTS,
        "months": COUNT,
        "charges": STRINGS,
        "recommendation_adopted": BOOL,
        "supported": BOOL,
    },
    "appeal": {},
    "protest": {},
    "protest_result": _CHANGED,
    "complaint": {},
    "state_compensation": {},
    "recommendation_issued": {"kind": RECOMMENDATION_KINDS},
    "reply_received": {"adopted": BOOL},
    "public_notice_started": {},
    "public_notice_ended": {},
    "suit_filed": {},
    "terminated": {},
}
if set(EVENT_FIELDS) != EVENT_TYPES:  # pragma: no cover
    raise ImportError("EVENT_FIELDS must list every EventType")

# Fields an event of the type must carry besides ``type`` and ``on``.
EVENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "arrest_decided": ("decision",),
    "prosecution_decided": ("decision",),
}


# --- messages (built only when a check fails) --------------------------------------------


def json_kind(value: Any) -> str:
    """How a decoded JSON value is named in messages (``a string``, ``null``, ...)."""
    kinds = {
        str: _("a string"),
        int: _("a number"),
        float: _("a number"),
        bool: _("true/false"),
        type(None): _("null"),
        list: _("a list"),
        dict: _("an object"),
    }
    return str(kinds.get(type(value), type(value).__name__))


def shown(value: Any, limit: int = 40) -> str:
    """A value as quoted in a message, cut to ``limit`` characters."""
    if isinstance(value, str):
        text = value
    else:
        text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _missing(field: str) -> "InvalidRecord":
    return InvalidRecord(field, _("required field is missing"))


def _expected(field: str, what: str, value: Any) -> "InvalidRecord":
    if value is None:
        return _missing(field)
    return InvalidRecord(
        field,
        _("expected %(expected)s, got %(got)s")
        % {"expected": what, "got": json_kind(value)},
    )


def _too_long(field: str, limit: int) -> "InvalidRecord":
    return InvalidRecord(
        field, _("longer than %(limit)s characters") % {"limit": limit}
    )


def _bad_string(field: str, value: Any, limit: int) -> "InvalidRecord":
    if type(value) is not str:
        return _expected(field, _("a string"), value)
    if not value:
        return InvalidRecord(field, _("must not be empty"))
    return _too_long(field, limit)


def _bad_choice(field: str, value: Any, choices: tuple[Any, ...]) -> "InvalidRecord":
    numeric = all(type(choice) is int for choice in choices)
    if type(value) is not (int if numeric else str):
        return _expected(field, _("a number") if numeric else _("a string"), value)
    return InvalidRecord(
        field,
        _("unknown value “%(value)s” (expected one of: %(choices)s)")
        % {
            "value": shown(value),
            "choices": ", ".join(str(choice) for choice in choices),
        },
    )


def _bad_date(field: str, value: Any) -> "InvalidRecord":
    if type(value) is not str:
        return _expected(field, _("a date YYYY-MM-DD"), value)
    return InvalidRecord(
        field,
        _("“%(value)s” is not a valid date YYYY-MM-DD") % {"value": shown(value)},
    )


def _bad_bool(field: str, value: Any) -> "InvalidRecord":
    return InvalidRecord(
        field, _("expected true or false, got %(got)s") % {"got": json_kind(value)}
    )


def _too_many(field: str) -> "InvalidRecord":
    return InvalidRecord(field, _("more than %(limit)s items") % {"limit": MAX_ITEMS})


# --- the reference validator -------------------------------------------------------------

# Valid date strings seen so far: dates repeat a lot in a file, and a set lookup is cheaper
# than parsing. Cleared when it grows large.
_valid_dates: set[str] = set()


def _date(value: Any, field: str) -> str:
    if (
        type(value) is not str
        or len(value) != 10
        or value[4] != "-"
        or value[7] != "-"
        or not value.isascii()
    ):
        raise _bad_date(field, value)
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise _bad_date(field, value) from None
    if len(_valid_dates) > 100_000:
        _valid_dates.clear()
    _valid_dates.add(value)
    return value


def _optional_bool(value: Any, field: str) -> bool:
    if value is None:
        return False
    if type(value) is not bool:
        raise _bad_bool(field, value)
    return value


def _optional_string(value: Any, field: str, limit: int) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise _expected(field, _("a string"), value)
    if len(value) > limit:
        raise _too_long(field, limit)
    return value


def _string_list_json(value: Any, field: str, limit: int) -> str:
    """A list of non-empty strings as JSON text (``[]`` for null)."""
    if value is None or value == []:
        return "[]"
    if type(value) is not list:
        raise _expected(field, _("a list of strings"), value)
    if len(value) > MAX_ITEMS:
        raise _too_many(field)
    for index, item in enumerate(value):
        if type(item) is not str or not item or len(item) > limit:
            raise _bad_string(f"{field}[{index}]", item, limit)
    return orjson.dumps(value).decode()


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_COUNT


def _is_string_list(value: Any) -> bool:
    return (
        type(value) is list
        and len(value) <= MAX_ITEMS
        and all(type(item) is str and 0 < len(item) <= CHARGE_LENGTH for item in value)
    )


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], bool]:
    allowed = frozenset(choices)

    def check(value: Any) -> bool:
        return type(value) in (str, int) and value in allowed

    check.choices = choices  # type: ignore[attr-defined]
    return check


def _checker(kind: Any) -> Callable[[Any], bool]:
    if isinstance(kind, tuple):
        return _one_of(kind)
    checks: dict[str, Callable[[Any], bool]] = {
        BOOL: _is_bool,
        COUNT: _is_count,
        STRINGS: _is_string_list,
    }
    return checks[kind]


_EVENT_CHECKS: dict[str, dict[str, Callable[[Any], bool]]] = {
    kind: {name: _checker(field) for name, field in fields.items()}
    for kind, fields in EVENT_FIELDS.items()
}


def _bad_event_field(
    path: str, value: Any, check: Callable[[Any], bool]
) -> "InvalidRecord":
    choices = getattr(check, "choices", None)
    if choices is not None:
        return _bad_choice(path, value, choices)
    if check is _is_bool:
        return _bad_bool(path, value)
    if check is _is_count:
        if type(value) is int:
            return InvalidRecord(
                path,
                _("expected a number from 0 to %(limit)s") % {"limit": MAX_COUNT},
            )
        return _expected(path, _("a whole number"), value)
    try:
        _string_list_json(value, path, CHARGE_LENGTH)
    except InvalidRecord as error:
        return error
    return InvalidRecord(path, _("invalid value"))  # pragma: no cover


def _events(events: Any) -> list[EventRow]:
    if type(events) is not list:
        raise _expected("events", _("a list of events"), events)
    if len(events) > MAX_ITEMS:
        raise _too_many("events")
    rows: list[EventRow] = []
    append = rows.append
    checks_of = _EVENT_CHECKS.get
    for position, event in enumerate(events):
        if type(event) is not dict:
            raise _expected(f"events[{position}]", _("an object"), event)
        kind = event.get("type")
        checks = checks_of(kind) if type(kind) is str else None
        if checks is None:
            if type(kind) is not str:
                raise _expected(f"events[{position}].type", _("a string"), kind)
            raise InvalidRecord(
                f"events[{position}].type",
                _("unknown event type “%(value)s”") % {"value": shown(kind)},
            )
        on = event.get("on")
        if type(on) is not str or on not in _valid_dates:
            _date(on, f"events[{position}].on")
        person = event.get("person")
        if person is None:
            person = ""
        elif type(person) is not str or len(person) > PERSON_ID_LENGTH:
            if type(person) is not str:
                raise _expected(f"events[{position}].person", _("a string"), person)
            raise _too_long(f"events[{position}].person", PERSON_ID_LENGTH)
        details = {key: value for key, value in event.items() if key not in EVENT_KEYS}
        for name, value in details.items():
            check = checks.get(name)
            if check is not None and value is not None and not check(value):
                raise _bad_event_field(f"events[{position}].{name}", value, check)
        for name in EVENT_REQUIRED.get(kind, ()):
            if details.get(name) is None:
                raise _missing(f"events[{position}].{name}")
        append(
            (position, kind, on, person, _dumps(details).decode() if details else "{}")
        )
    return rows


def _persons(persons: Any) -> tuple[list[PersonRow], list[str]]:
    """The person rows and the distinct charges over all persons, in order."""
    if persons is None:
        return [], []
    if type(persons) is not list:
        raise _expected("persons", _("a list of persons"), persons)
    if len(persons) > MAX_ITEMS:
        raise _too_many("persons")
    rows: list[PersonRow] = []
    all_charges: list[str] = []
    seen: set[str] = set()
    for position, person in enumerate(persons):
        field = f"persons[{position}]"
        if type(person) is not dict:
            raise _expected(field, _("an object"), person)
        get = person.get
        person_id = get("person_id")
        if (
            type(person_id) is not str
            or not person_id
            or len(person_id) > PERSON_ID_LENGTH
        ):
            raise _bad_string(f"{field}.person_id", person_id, PERSON_ID_LENGTH)
        if person_id in seen:
            raise InvalidRecord(
                f"{field}.person_id",
                _("duplicate person “%(value)s”") % {"value": shown(person_id)},
            )
        seen.add(person_id)
        charges = get("charges")
        charges_json = _string_list_json(charges, f"{field}.charges", CHARGE_LENGTH)
        if charges:
            for charge in charges:
                if charge not in all_charges:
                    all_charges.append(charge)
        articles_json = _string_list_json(
            get("articles"), f"{field}.articles", ARTICLE_LENGTH
        )
        juvenile = _optional_bool(get("juvenile"), f"{field}.juvenile")
        plea_leniency = _optional_bool(get("plea_leniency"), f"{field}.plea_leniency")
        name = _optional_string(get("name"), f"{field}.name", PERSON_NAME_LENGTH)
        extra = {key: value for key, value in person.items() if key not in PERSON_KEYS}
        rows.append(
            (
                position,
                person_id,
                name,
                juvenile,
                plea_leniency,
                charges_json,
                articles_json,
                _dumps(extra).decode() if extra else "{}",
            )
        )
    return rows, all_charges


def _primary_charge(persons: list[PersonRow], charges: list[str]) -> str:
    """The first person's first charge (empty if that person has none)."""
    return charges[0] if charges and persons[0][5] != "[]" else ""


def validate_case(data: Any, units: Mapping[str, int]) -> CaseRecord:
    """Check one decoded record and return it as rows; raise :class:`InvalidRecord`.

    This is the reference validator: it keeps fields the format does not name and says
    what is wrong with a bad record. ``units`` maps the org codes the import may write to
    (the caller's scope) to unit ids; any other ``unit_code`` is reported as unknown.
    """
    if type(data) is not dict:
        raise InvalidRecord(
            "json", _("expected an object, got %(got)s") % {"got": json_kind(data)}
        )
    get = data.get
    case_id = get("case_id")
    if type(case_id) is not str or not case_id or len(case_id) > CASE_ID_LENGTH:
        raise _bad_string("case_id", case_id, CASE_ID_LENGTH)
    unit_code = get("unit_code")
    if type(unit_code) is not str:
        raise _expected("unit_code", _("a string"), unit_code)
    unit_id = units.get(unit_code)
    if unit_id is None:
        raise InvalidRecord(
            "unit_code", _("unknown unit “%(value)s”") % {"value": shown(unit_code)}
        )
    business_line = get("business_line")
    if type(business_line) is not str or business_line not in BUSINESS_LINES:
        raise _bad_choice("business_line", business_line, tuple(BusinessLine.values))
    procedure = get("procedure")
    if type(procedure) is not str or procedure not in PROCEDURES:
        raise _bad_choice("procedure", procedure, tuple(Procedure.values))
    procurator_id = get("procurator_id")
    if (
        type(procurator_id) is not str
        or not procurator_id
        or len(procurator_id) > PROCURATOR_ID_LENGTH
    ):
        raise _bad_string("procurator_id", procurator_id, PROCURATOR_ID_LENGTH)
    received_on = _date(get("received_on"), "received_on")
    closed_on = get("closed_on")
    if closed_on is not None:
        _date(closed_on, "closed_on")
    detained = _optional_bool(get("detained"), "detained")
    fast_track = _optional_bool(get("fast_track"), "fast_track")
    complex_ = _optional_bool(get("complex"), "complex")
    matter_id = _optional_string(get("matter_id"), "matter_id", MATTER_ID_LENGTH)
    facts = get("facts")
    if facts is not None and type(facts) is not str:
        raise _expected("facts", _("a string"), facts)
    persons, charges = _persons(get("persons"))
    events = _events(get("events"))
    extra = {key: value for key, value in data.items() if key not in CASE_KEYS}
    return CaseRecord(
        unit_id,
        case_id,
        matter_id,
        business_line,
        procedure,
        procurator_id,
        received_on,
        closed_on,
        detained,
        fast_track,
        complex_,
        facts or "",
        _primary_charge(persons, charges),
        len(persons),
        _dumps(extra).decode() if extra else "{}",
        persons,
        events,
        charges,
    )


# --- the fast validator ------------------------------------------------------------------

# The same rules as msgspec types. Unknown fields are refused here (the reference validator
# keeps them), and type-specific event fields default to UNSET so that an explicit null is
# kept in Event.details as the reference validator keeps it.


def _text(minimum: int, maximum: int) -> Any:
    return Annotated[str, Meta(min_length=minimum, max_length=maximum)]


def _bounded(item: Any) -> Any:
    return Annotated[list[item], Meta(max_length=MAX_ITEMS)]  # type: ignore[valid-type]


_Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
_Charges = _bounded(_text(1, CHARGE_LENGTH))


class _Person(Struct, forbid_unknown_fields=True):
    person_id: _text(1, PERSON_ID_LENGTH)  # type: ignore[valid-type]
    name: _text(0, PERSON_NAME_LENGTH) | None = None  # type: ignore[valid-type]
    juvenile: bool | None = None
    charges: _Charges | None = None  # type: ignore[valid-type]
    articles: _bounded(_text(1, ARTICLE_LENGTH)) | None = None  # type: ignore[valid-type]
    plea_leniency: bool | None = None


class _Event(Struct, tag_field="type", forbid_unknown_fields=True):
    on: datetime.date
    person: _text(0, PERSON_ID_LENGTH) | None = None  # type: ignore[valid-type]


def _field_type(kind: Any) -> Any:
    if isinstance(kind, tuple):
        return Literal[kind]
    return {BOOL: bool, COUNT: _Count, STRINGS: _Charges}[kind]


def _event_struct(kind: str, fields: dict[str, Any]) -> type[_Event]:
    required = EVENT_REQUIRED.get(kind, ())
    definitions: list[Any] = []
    for name, field in fields.items():
        if name in required:
            definitions.append((name, _field_type(field)))
        else:
            definitions.append((name, _field_type(field) | None | UnsetType, UNSET))
    return defstruct(
        f"_{kind.title().replace('_', '')}Event",
        definitions,
        bases=(_Event,),
        tag=kind,
        kw_only=True,
        forbid_unknown_fields=True,
    )


_EVENT_STRUCTS = tuple(
    _event_struct(kind, fields) for kind, fields in EVENT_FIELDS.items()
)


class _Case(Struct, forbid_unknown_fields=True):
    case_id: _text(1, CASE_ID_LENGTH)  # type: ignore[valid-type]
    unit_code: str
    business_line: Literal[tuple(BusinessLine.values)]  # type: ignore[valid-type]
    procedure: Literal[tuple(Procedure.values)]  # type: ignore[valid-type]
    procurator_id: _text(1, PROCURATOR_ID_LENGTH)  # type: ignore[valid-type]
    received_on: datetime.date
    events: _bounded(Union[tuple(_EVENT_STRUCTS)])  # type: ignore[valid-type]  # noqa: UP007
    matter_id: _text(0, MATTER_ID_LENGTH) | None = None  # type: ignore[valid-type]
    closed_on: datetime.date | None = None
    detained: bool | None = None
    fast_track: bool | None = None
    complex: bool | None = None
    persons: _bounded(_Person) | None = None  # type: ignore[valid-type]
    facts: str | None = None


_decode_case = msgspec.json.Decoder(_Case).decode
_to_builtins = msgspec.to_builtins


def _fast_case(raw: bytes | str, units: Mapping[str, int]) -> CaseRecord | None:
    """The case if the fast validator accepts the line, ``None`` if it has a doubt."""
    try:
        case = _decode_case(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    unit_id = units.get(case.unit_code)
    if unit_id is None:
        return None
    persons: list[PersonRow] = []
    charges: list[str] = []
    if case.persons:
        seen = set()
        for position, person in enumerate(case.persons):
            if person.person_id in seen:
                return None
            seen.add(person.person_id)
            person_charges = person.charges
            if person_charges:
                charges_json = _dumps(person_charges).decode()
                for charge in person_charges:
                    if charge not in charges:
                        charges.append(charge)
            else:
                charges_json = "[]"
            persons.append(
                (
                    position,
                    person.person_id,
                    person.name or "",
                    person.juvenile or False,
                    person.plea_leniency or False,
                    charges_json,
                    _dumps(person.articles).decode() if person.articles else "[]",
                    "{}",
                )
            )
    events: list[EventRow] = []
    append = events.append
    for position, event in enumerate(case.events):
        # to_builtins gives the type, the date as YYYY-MM-DD and the set fields, in C.
        fields = _to_builtins(event)
        kind = fields.pop("type")
        on = fields.pop("on")
        person = fields.pop("person", None) or ""
        append(
            (position, kind, on, person, _dumps(fields).decode() if fields else "{}")
        )
    closed_on = case.closed_on
    return CaseRecord(
        unit_id,
        case.case_id,
        case.matter_id or "",
        case.business_line,
        case.procedure,
        case.procurator_id,
        case.received_on.isoformat(),
        None if closed_on is None else closed_on.isoformat(),
        case.detained or False,
        case.fast_track or False,
        case.complex or False,
        case.facts or "",
        _primary_charge(persons, charges),
        len(persons),
        "{}",
        persons,
        events,
        charges,
    )


# --- lines -------------------------------------------------------------------------------


def decode_line(raw: bytes | str) -> Any:
    """Decode one line; raise :class:`InvalidRecord` for text that is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidRecord(
            "json", _("not valid JSON: %(error)s") % {"error": str(error)}
        ) from None


def find_nul(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a NUL character, which no database
    column can store; ``None`` if there is none."""
    if type(value) is str:
        return path if "\x00" in value else None
    if type(value) is list:
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif type(value) is dict:
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return child
            found = find_nul(item, child)
            if found is not None:
                return found
    return None


def parse_line(raw: bytes | str, units: Mapping[str, int]) -> CaseRecord:
    """Decode and check one line of an exchange file; raise :class:`InvalidRecord`."""
    # A NUL character can only arrive escaped; such lines take the careful path.
    escaped_nul = (b"\\u0000" if type(raw) is bytes else "\\u0000") in raw  # type: ignore[operator]
    if not escaped_nul:
        record = _fast_case(raw, units)
        if record is not None:
            return record
    data = decode_line(raw)
    if escaped_nul:
        path = find_nul(data)
        if path is not None:
            raise InvalidRecord(path or "json", _("contains a NUL character (\\u0000)"))
    return validate_case(data, units)


def parse_line_reference(raw: bytes | str, units: Mapping[str, int]) -> CaseRecord:
    """:func:`parse_line` with the reference validator only (tests compare the two)."""
    data = decode_line(raw)
    path = find_nul(data)
    if path is not None:
        raise InvalidRecord(path or "json", _("contains a NUL character (\\u0000)"))
    return validate_case(data, units)


_dumps = orjson.dumps


# --- JSON Schema -------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one line, built from the same tables as the validators.

    ``jiancha/cases/data/case-exchange.schema.json`` is this, written out (a test keeps
    them equal). The schema cannot say that an org code must exist, that person ids are
    unique within a case or that a date is a real calendar date; the importer checks those.
    """

    def text(minimum: int, maximum: int, *, nullable: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
        if minimum:
            schema["minLength"] = minimum
        schema["maxLength"] = maximum
        return schema

    def nullable(schema: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [schema, {"type": "null"}]}

    def strings(maximum: int) -> dict[str, Any]:
        return {
            "type": ["array", "null"],
            "maxItems": MAX_ITEMS,
            "items": text(1, maximum),
        }

    def field(kind: Any) -> dict[str, Any]:
        if isinstance(kind, tuple):
            return {"enum": list(kind)}
        return {
            BOOL: {"type": "boolean"},
            COUNT: {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
            STRINGS: strings(CHARGE_LENGTH),
        }[kind]

    date = {"$ref": "#/$defs/date"}
    boolean = {"type": ["boolean", "null"]}
    typed_events = []
    for kind, fields in EVENT_FIELDS.items():
        if not fields:
            continue
        then: dict[str, Any] = {
            "properties": {
                name: field(value)
                if name in EVENT_REQUIRED.get(kind, ())
                else nullable(field(value))
                for name, value in fields.items()
            }
        }
        if kind in EVENT_REQUIRED:
            then["required"] = list(EVENT_REQUIRED[kind])
        typed_events.append(
            {"if": {"properties": {"type": {"const": kind}}}, "then": then}
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:jiancha:case-exchange:1",
        "title": "Case exchange format, version 1 (one line of a JSON Lines file)",
        "description": (
            "One case (件) of a procuratorate. See docs/exchange-format.md. Fields not "
            "named here are allowed and kept."
        ),
        "type": "object",
        "required": [
            "case_id",
            "unit_code",
            "business_line",
            "procedure",
            "procurator_id",
            "received_on",
            "events",
        ],
        "properties": {
            "case_id": text(1, CASE_ID_LENGTH),
            "unit_code": {"type": "string", "description": "org code of a unit"},
            "matter_id": text(0, MATTER_ID_LENGTH, nullable=True),
            "business_line": {"enum": list(BusinessLine.values)},
            "procedure": {"enum": list(Procedure.values)},
            "procurator_id": text(1, PROCURATOR_ID_LENGTH),
            "received_on": date,
            "closed_on": nullable(date),
            "detained": boolean,
            "fast_track": boolean,
            "complex": boolean,
            "persons": {
                "type": ["array", "null"],
                "maxItems": MAX_ITEMS,
                "items": {"$ref": "#/$defs/person"},
            },
            "events": {
                "type": "array",
                "maxItems": MAX_ITEMS,
                "items": {"$ref": "#/$defs/event"},
            },
            "facts": {"type": ["string", "null"]},
        },
        "$defs": {
            "date": {
                "type": "string",
                "format": "date",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            },
            "person": {
                "type": "object",
                "required": ["person_id"],
                "properties": {
                    "person_id": text(1, PERSON_ID_LENGTH),
                    "name": text(0, PERSON_NAME_LENGTH, nullable=True),
                    "juvenile": boolean,
                    "charges": strings(CHARGE_LENGTH),
                    "articles": strings(ARTICLE_LENGTH),
                    "plea_leniency": boolean,
                },
            },
            "event": {
                "type": "object",
                "required": ["type", "on"],
                "properties": {
                    "type": {"enum": list(EVENT_FIELDS)},
                    "on": date,
                    "person": text(0, PERSON_ID_LENGTH, nullable=True),
                },
                "allOf": typed_events,
            },
        },
    }
