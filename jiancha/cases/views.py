"""The case pages: the filtered case list, one case with its timeline, and the Excel export.

Every page reads cases through ``case_list`` / ``access_case`` (STYLE.md §4); the templates
get ready-made rows, links and labels and run no queries (STYLE.md §11).
"""

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views import View

from jiancha.accounts.access import unit_visible_to, user_scope
from jiancha.accounts.models import Unit
from jiancha.cases.access import access_case, mask_names, masked_name, names_hidden_for
from jiancha.cases.choices import BusinessLine, CaseStatus, EventType, Procedure
from jiancha.cases.deadlines import Deadline, case_deadlines
from jiancha.cases.exports import EXPORT_LIMIT, case_export_workbook, xlsx_response
from jiancha.cases.models import Case, Event, Person
from jiancha.cases.selectors import (
    DEFAULT_SORT,
    CaseFilters,
    CaseListPaginator,
    case_count,
    case_list_for_paging,
    case_events,
    case_list,
    case_persons,
)
from jiancha.core.audit import audit_record

PAGE_SIZE = 50

# The columns the list shows; everything else stays in the database (1M rows must page fast).
LIST_FIELDS = (
    "id",
    "case_id",
    "unit",
    "unit__name",
    "unit__code",
    "business_line",
    "procedure",
    "procurator_id",
    "primary_charge",
    "received_on",
    "closed_on",
)

# Filters shown in the form, in order; used for the per-field error slots.
FILTER_FIELDS = (
    "unit",
    "business_line",
    "procedure",
    "status",
    "received_from",
    "received_to",
    "procurator",
    "charge",
    "q",
)


# Filters ---------------------------------------------------------------------------------


def filter_params(query: QueryDict) -> QueryDict:
    """The query with the free-text org code (``unit_code``) folded into ``unit``.

    The form offers both a select of nearby units and a text box for any org code; the
    text box wins when filled, so that a unit deep in the tree can be reached directly.
    """
    params = query.copy()
    unit_code = (params.get("unit_code") or "").strip()
    if unit_code:
        params["unit"] = unit_code
    params.pop("unit_code", None)
    return params


@dataclass(frozen=True)
class UnitOption:
    code: str
    label: str
    selected: bool


def unit_options(user: Any, selected: Unit | None) -> list[UnitOption]:
    """The units offered in the filter's select: the user's unit and its children.

    When a unit below the user's unit is selected, the path down to it and its children
    are offered too, so the tree can be walked one level at a time. One query.
    """
    scope = user_scope(user)
    base = scope.unit
    if base is None or scope.kind not in {"subtree", "unit"}:
        return []
    condition = Q(pk=base.pk) | Q(parent_id=base.pk)
    if selected is not None and scope.kind == "subtree" and selected.is_within(base):
        chain = [code for code in selected.path.strip("/").split("/") if code]
        condition |= Q(code__in=chain, path__startswith=base.path) | Q(
            parent_id=selected.pk
        )
    units = (
        unit_visible_to(user)
        .filter(condition)
        .only("code", "name", "level", "path")
        .order_by("path")
    )
    selected_code = selected.code if selected is not None else ""
    return [
        UnitOption(
            code=unit.code,
            label="\u3000" * max(unit.level - base.level, 0) + unit.name,
            selected=unit.code == selected_code,
        )
        for unit in units
    ]


def list_url(params: dict[str, str]) -> str:
    """The case list URL with these filters (an empty query keeps the bare path)."""
    url = reverse("cases:case_list")
    return url + "?" + urlencode(params) if params else url


@dataclass(frozen=True)
class Column:
    label: str
    sort_url: str = ""
    aria_sort: str = ""  # "ascending" | "descending" | ""
    css: str = ""


def _sortable(
    label: str, key: str, filters: CaseFilters, *, first: str, css: str = ""
) -> Column:
    """A header that sorts by ``key``; a second click reverses the order."""
    if filters.sort == key:
        aria, target = "ascending", "-" + key
    elif filters.sort == "-" + key:
        aria, target = "descending", key
    else:
        aria, target = "", first
    params = filters.as_params()
    params.pop("sort", None)
    if target != DEFAULT_SORT:
        params["sort"] = target
    return Column(label=label, sort_url=list_url(params), aria_sort=aria, css=css)


def list_columns(filters: CaseFilters) -> list[Column]:
    return [
        _sortable(
            _("Case number"), "case_id", filters, first="case_id", css="col-number"
        ),
        Column(_("Unit"), css="col-unit"),
        Column(_("Business line")),
        Column(_("Procedure")),
        Column(_("Procurator")),
        Column(_("Charge")),
        _sortable(
            _("Received"), "received_on", filters, first="-received_on", css="col-date"
        ),
        _sortable(
            _("Closed"), "closed_on", filters, first="-closed_on", css="col-date"
        ),
        Column(_("Status")),
    ]


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str
    rel: str = ""


def page_links(page: Any, filters: CaseFilters) -> dict[str, PageLink | None]:
    params = filters.as_params()

    def link(number: int, label: str, rel: str = "") -> PageLink:
        return PageLink(
            label=label,
            url=list_url({**params, "page": str(number)} if number > 1 else params),
            rel=rel,
        )

    paginator = page.paginator
    return {
        "first": link(1, _("First")) if page.number > 1 else None,
        "previous": link(page.previous_page_number(), _("Previous"), "prev")
        if page.has_previous()
        else None,
        "next": link(page.next_page_number(), _("Next"), "next")
        if page.has_next()
        else None,
        "last": link(paginator.num_pages, _("Last"))
        if page.number < paginator.num_pages and not paginator.count_capped
        else None,
    }


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list, ready to print (labels looked up once per page)."""

    pk: int
    url: str
    case_id: str
    unit_name: str
    business_line: str
    procedure: str
    procurator_id: str
    charge: str
    received_on: str
    closed_on: str
    status: str
    status_label: str


def case_rows(cases: list[Case]) -> list[CaseRow]:
    lines = {value: str(label) for value, label in BusinessLine.choices}
    procedures = {value: str(label) for value, label in Procedure.choices}
    statuses = {value: str(label) for value, label in CaseStatus.choices}
    # One reverse() per page, not per row.
    prefix, _sep, suffix = reverse("cases:case_detail", args=[0]).rpartition("0")
    return [
        CaseRow(
            pk=case.pk,
            url=f"{prefix}{case.pk}{suffix}",
            case_id=case.case_id,
            unit_name=case.unit.name,
            business_line=lines.get(case.business_line, case.business_line),
            procedure=procedures.get(case.procedure, case.procedure),
            procurator_id=case.procurator_id,
            charge=case.primary_charge or "—",
            received_on=case.received_on.isoformat(),
            closed_on=case.closed_on.isoformat() if case.closed_on else "—",
            status=case.status,
            status_label=statuses[case.status],
        )
        for case in cases
    ]


class CaseListView(LoginRequiredMixin, View):
    """The case list with filters, sorting and pagination; HTMX gets the results block only."""

    def get(self, request: HttpRequest) -> HttpResponse:
        params = filter_params(request.GET)
        filters = CaseFilters.from_params(params)
        errors = dict(filters.errors)
        selected_unit = None
        if filters.unit:
            selected_unit = (
                Unit.objects.filter(code=filters.unit)
                .only("code", "name", "level", "path", "parent_id")
                .first()
            )
            if selected_unit is None:
                errors["unit"] = _("Unknown org code “%(code)s”.") % {
                    "code": filters.unit
                }
        options = unit_options(request.user, selected_unit)
        unit_in_options = any(option.selected for option in options)

        ordered, counting = case_list_for_paging(user=request.user, filters=filters)
        paginator = CaseListPaginator(ordered.only(*LIST_FIELDS), PAGE_SIZE, counting=counting)
        page = paginator.get_page(request.GET.get("page"))

        canonical = filters.as_params()
        if page.number > 1:
            canonical["page"] = str(page.number)
        context = {
            "filters": filters,
            "errors": errors,
            "error_slots": [(name, errors.get(name, "")) for name in FILTER_FIELDS],
            "unit_options": options,
            "unit_code_text": "" if unit_in_options else filters.unit,
            "business_line_choices": BusinessLine.choices,
            "procedure_choices": Procedure.choices,
            "status_choices": CaseStatus.choices,
            "columns": list_columns(filters),
            "page": page,
            "cases": case_rows(page.object_list),
            "page_links": page_links(page, filters),
            "export_url": reverse("cases:case_export")
            + ("?" + urlencode(filters.as_params()) if filters.as_params() else ""),
            "count_url": reverse("cases:case_count")
            + ("?" + urlencode(filters.as_params()) if filters.as_params() else ""),
            "count_capped": paginator.count_capped,
            "count_cap": paginator.count_cap,
            "export_limit": EXPORT_LIMIT,
            "filtered": bool(filters.as_params().keys() - {"sort"}),
            "list_url": list_url({}),
            "page_url": list_url(canonical),
            "raw": params,
        }
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.history_restore_request:
            response = render(request, "cases/case_list.html#results", context)
            response["HX-Push-Url"] = context["page_url"]
        else:
            response = render(request, "cases/case_list.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class CaseCountView(LoginRequiredMixin, View):
    """The exact number of cases of a list, on request (the list itself stops counting at
    ``CaseListPaginator.count_cap``); HTMX swaps it into the list's heading."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = CaseFilters.from_params(filter_params(request.GET))
        if filters.errors:
            text = "; ".join(f"{name}: {message}" for name, message in filters.errors.items())
            return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
        count = case_count(user=request.user, filters=filters)
        return render(request, "cases/case_count.html", {"count": count})


# The case page ---------------------------------------------------------------------------

YES_NO = {True: gettext_lazy("yes"), False: gettext_lazy("no")}

DETAIL_LABELS: dict[str, Any] = {
    "decision": gettext_lazy("Decision"),
    "reason": gettext_lazy("Reason"),
    "kind": gettext_lazy("Kind"),
    "changed": gettext_lazy("Outcome"),
    "days": gettext_lazy("Extended by"),
    "instance": gettext_lazy("Instance"),
    "verdict": gettext_lazy("Verdict"),
    "months": gettext_lazy("Sentence"),
    "charges": gettext_lazy("Charges"),
    "recommendation_adopted": gettext_lazy("Sentencing recommendation adopted"),
    "adopted": gettext_lazy("Recommendation adopted"),
    "supported": gettext_lazy("Claims supported"),
}

DETAIL_VALUES: dict[str, dict[Any, Any]] = {
    "decision": {
        "approved": gettext_lazy("arrest approved"),
        "not_approved": gettext_lazy("arrest not approved"),
        "prosecute": gettext_lazy("prosecute"),
        "not_prosecute": gettext_lazy("not prosecute"),
    },
    "reason": {
        "no_crime": gettext_lazy("no crime"),
        "insufficient_evidence": gettext_lazy("insufficient evidence"),
        "no_necessity": gettext_lazy("no necessity of arrest"),
    },
    "verdict": {
        "guilty": gettext_lazy("guilty"),
        "acquitted": gettext_lazy("acquitted"),
        "exempted": gettext_lazy("exempted from punishment"),
    },
    "instance": {1: gettext_lazy("first instance"), 2: gettext_lazy("second instance")},
}

# ``kind`` means something different for each event type.
KIND_VALUES: dict[str, dict[str, Any]] = {
    EventType.SENTENCING_RECOMMENDED: {
        "fixed": pgettext_lazy("sentencing recommendation", "fixed term"),
        "range": pgettext_lazy("sentencing recommendation", "range"),
    },
    EventType.PROSECUTION_DECIDED: {
        "statutory": gettext_lazy("statutory non-prosecution"),
        "discretionary": gettext_lazy("discretionary non-prosecution"),
        "evidentiary": gettext_lazy("non-prosecution for insufficient evidence"),
        "conditional": gettext_lazy("conditional non-prosecution"),
    },
    EventType.RECOMMENDATION_ISSUED: {
        "retrial": gettext_lazy("retrial recommendation"),
        "violation": gettext_lazy("recommendation on a violation"),
        "pre_litigation": gettext_lazy("pre-litigation recommendation"),
        "social_governance": gettext_lazy("social governance recommendation"),
    },
}

CHANGED_VALUES: dict[str, dict[bool, Any]] = {
    EventType.PROTEST_RESULT: {
        True: gettext_lazy("judgment changed or remanded"),
        False: gettext_lazy("judgment upheld"),
    },
}
DEFAULT_CHANGED_VALUES = {
    True: gettext_lazy("decision changed"),
    False: gettext_lazy("decision upheld"),
}

# Event types that are decisions of the procuratorate: drawn emphasised on the timeline.
DECISION_TYPES = {
    EventType.ARREST_DECIDED,
    EventType.PROSECUTION_DECIDED,
    EventType.WITHDRAWN,
    EventType.RECOMMENDATION_ISSUED,
    EventType.PROTEST,
    EventType.SUIT_FILED,
    EventType.TERMINATED,
}
COURT_TYPES = {EventType.JUDGMENT, EventType.PROTEST_RESULT}


def _months_text(months: Any) -> str:
    try:
        count = int(months)
    except (TypeError, ValueError):
        return str(months)
    return ngettext("%(count)s month", "%(count)s months", count) % {"count": count}


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(YES_NO[value])
    if isinstance(value, list):
        return "、".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    return str(value)


def event_details(event: Event) -> list[tuple[str, str]]:
    """The type-specific fields of an event as translated (label, value) pairs."""
    details = dict(event.details or {})
    rows: list[tuple[str, str]] = []
    if event.type == EventType.SENTENCING_RECOMMENDED:
        kind = details.pop("kind", None)
        months, low, high = (
            details.pop("months", None),
            details.pop("min_months", None),
            details.pop("max_months", None),
        )
        if low is not None and high is not None:
            term = _("%(low)s to %(high)s months") % {"low": low, "high": high}
        elif months is not None:
            term = _months_text(months)
        else:
            term = ""
        kind_label = str(
            KIND_VALUES[EventType.SENTENCING_RECOMMENDED].get(kind, kind or "")
        )
        rows.append(
            (
                _("Sentencing recommendation"),
                " · ".join(part for part in (kind_label, term) if part),
            )
        )
    for key, value in details.items():
        label = str(DETAIL_LABELS.get(key, key))
        if key == "kind":
            text = str(KIND_VALUES.get(event.type, {}).get(value, value))
        elif key == "changed" and isinstance(value, bool):
            text = str(CHANGED_VALUES.get(event.type, DEFAULT_CHANGED_VALUES)[value])
        elif key == "days":
            try:
                text = ngettext("%(count)s day", "%(count)s days", int(value)) % {
                    "count": int(value)
                }
            except (TypeError, ValueError):
                text = str(value)
        elif key == "months":
            text = _months_text(value)
        elif key in DETAIL_VALUES:
            text = str(DETAIL_VALUES[key].get(value, value))
        else:
            text = _plain(value)
        rows.append((label, text))
    return rows


STATUS_LABELS = {
    "met": gettext_lazy("Met"),
    "missed": gettext_lazy("Missed"),
    "running": gettext_lazy("Running"),
    "overdue": gettext_lazy("Overdue"),
}


@dataclass(frozen=True)
class DeadlineRow:
    """A statutory deadline as the case page shows it: status in words, not colour only."""

    deadline: Deadline
    status_label: str
    note: str
    limit_text: str
    person: str = ""  # for limits that run per person (the notice of rights)

    @property
    def status(self) -> str:
        return self.deadline.status


# Limits that run once per person rather than once per case.
PER_PERSON_DEADLINES = {"rights_notice"}


def deadline_row(
    deadline: Deadline, today: datetime.date, person: str = ""
) -> DeadlineRow:
    due = deadline.due.isoformat()
    days = 0
    if deadline.status == "running" and deadline.ended_on is None:
        days = (deadline.due - today).days
        if deadline.minimum:
            note = _("Runs until at least %(due)s.") % {"due": due}
        else:
            note = ngettext(
                "Due %(due)s: %(count)s day left.",
                "Due %(due)s: %(count)s days left.",
                days,
            ) % {"due": due, "count": days}
    elif deadline.status == "overdue":
        days = (today - deadline.due).days
        note = ngettext(
            "Was due %(due)s: %(count)s day overdue.",
            "Was due %(due)s: %(count)s days overdue.",
            days,
        ) % {"due": due, "count": days}
    elif deadline.status == "missed" and deadline.ended_on is not None:
        days = abs((deadline.ended_on - deadline.due).days)
        if deadline.minimum:
            note = ngettext(
                "Ended %(ended)s, %(count)s day before the minimum %(due)s.",
                "Ended %(ended)s, %(count)s days before the minimum %(due)s.",
                days,
            ) % {"ended": deadline.ended_on.isoformat(), "count": days, "due": due}
        else:
            note = ngettext(
                "Concluded %(ended)s, %(count)s day after the due date %(due)s.",
                "Concluded %(ended)s, %(count)s days after the due date %(due)s.",
                days,
            ) % {"ended": deadline.ended_on.isoformat(), "count": days, "due": due}
    elif deadline.status == "missed":
        note = _("Not done by the due date %(due)s.") % {"due": due}
    elif deadline.ended_on is not None:
        note = _("Concluded %(ended)s, due %(due)s.") % {
            "ended": deadline.ended_on.isoformat(),
            "due": due,
        }
    else:
        note = _("Due %(due)s.") % {"due": due}
    limit_text = (
        _("at least %(limit)s") % {"limit": deadline.limit}
        if deadline.minimum
        else deadline.limit
    )
    return DeadlineRow(
        deadline=deadline,
        status_label=str(STATUS_LABELS.get(deadline.status, deadline.status)),
        note=note,
        limit_text=limit_text,
        person=person,
    )


@dataclass
class TimelineEntry:
    """One point on the case timeline: an event, or the closing of the case / today."""

    on: datetime.date
    label: str
    kind: str  # "decision" | "court" | "event" | "closed" | "today": how the marker is drawn
    event: Event | None = None
    person: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)  # clocks stopped here
    started: list[DeadlineRow] = field(default_factory=list)  # clocks started here


def _distinct(rows: list[DeadlineRow]) -> list[DeadlineRow]:
    """One "clock starts" line per limit, even when it runs once per person."""
    seen: set[tuple[str, datetime.date, datetime.date]] = set()
    distinct = []
    for row in rows:
        key = (row.deadline.key, row.deadline.start, row.deadline.due)
        if key not in seen:
            seen.add(key)
            distinct.append(row)
    return distinct


def case_timeline(
    case: Case,
    events: list[Event],
    deadlines: list[DeadlineRow],
    people: dict[str, Person],
    *,
    names_hidden: bool,
    today: datetime.date,
) -> list[TimelineEntry]:
    """Events in date order, each with the deadlines it started and stopped.

    A deadline no event stopped sits on a "case closed" entry when the case is closed, or
    on a final "today" entry while it is open.
    """
    event_ids = {event.pk for event in events}
    first_received = next(
        (event.pk for event in events if event.type == EventType.RECEIVED), None
    )
    entries: list[TimelineEntry] = []
    for event in events:
        entries.append(
            TimelineEntry(
                on=event.on,
                label=event.get_type_display(),
                kind="decision"
                if event.type in DECISION_TYPES
                else ("court" if event.type in COURT_TYPES else "event"),
                event=event,
                person=person_label(
                    people.get(event.person), event.person, names_hidden
                )
                if event.person
                else "",
                details=event_details(event),
                deadlines=[
                    row for row in deadlines if row.deadline.end_event_id == event.pk
                ],
                started=_distinct(
                    [
                        row
                        for row in deadlines
                        if row.deadline.start_event_id == event.pk
                        or (
                            row.deadline.start_event_id is None
                            and event.pk == first_received
                            and row.deadline.start == event.on
                        )
                    ]
                ),
            )
        )
    unplaced = [row for row in deadlines if row.deadline.end_event_id not in event_ids]
    if case.closed_on is not None:
        closing = TimelineEntry(
            on=case.closed_on, label=_("Case closed"), kind="closed", deadlines=unplaced
        )
        position = next(
            (index for index, entry in enumerate(entries) if entry.on > case.closed_on),
            len(entries),
        )
        entries.insert(position, closing)
    elif unplaced:
        entries.append(
            TimelineEntry(on=today, label=_("Today"), kind="today", deadlines=unplaced)
        )
    return entries


@dataclass(frozen=True)
class PersonRow:
    person: Person
    display_name: str
    charges: str
    articles: str


def person_label(person: Person | None, person_id: str, names_hidden: bool) -> str:
    if person is None or not person.name:
        return person_id
    name = masked_name(person.name) if names_hidden else person.name
    return f"{person_id} · {name}" if person_id else name


def case_facts(case: Case, persons: list[Person], names_hidden: bool) -> str:
    """The facts; persons' names are masked for users who must not see names."""
    if names_hidden:
        return mask_names(case.facts, [person.name for person in persons])
    return case.facts


class CaseDetailView(LoginRequiredMixin, View):
    """One case: its fields, persons and the event timeline with statutory deadlines."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = access_case(request.user, pk)
        audit_record(
            actor=request.user, verb="cases.view", target=case, request=request
        )
        names_hidden = names_hidden_for(request.user)
        persons = case_persons(case)
        events = case_events(case)
        today = timezone.localdate()
        people = {person.person_id: person for person in persons}
        events_by_id = {event.pk: event for event in events}

        def deadline_person(deadline: Deadline) -> str:
            event = events_by_id.get(deadline.end_event_id) or events_by_id.get(
                deadline.start_event_id
            )
            if (
                deadline.key not in PER_PERSON_DEADLINES
                or event is None
                or not event.person
            ):
                return ""
            return person_label(people.get(event.person), event.person, names_hidden)

        deadlines = [
            deadline_row(deadline, today, deadline_person(deadline))
            for deadline in case_deadlines(case, events, persons, today=today)
        ]
        entries = case_timeline(
            case, events, deadlines, people, names_hidden=names_hidden, today=today
        )

        context = {
            "case": case,
            "names_hidden": names_hidden,
            "persons": [
                PersonRow(
                    person=person,
                    display_name=(masked_name(person.name) or person.person_id)
                    if names_hidden
                    else (person.name or person.person_id),
                    charges="、".join(str(charge) for charge in person.charges or []),
                    articles="、".join(
                        str(article) for article in person.articles or []
                    ),
                )
                for person in persons
            ],
            "facts": case_facts(case, persons, names_hidden),
            "extra": []
            if names_hidden
            else [(key, _plain(value)) for key, value in (case.extra or {}).items()],
            "entries": entries,
            "deadlines": deadlines,
            "today": today,
            "list_url": list_url({}),
            "status_counts": [
                (status, label, sum(1 for row in deadlines if row.status == status))
                for status, label in STATUS_LABELS.items()
            ],
        }
        return render(request, "cases/case_detail.html", context)


# The Excel export ------------------------------------------------------------------------


def filters_description(filters: CaseFilters) -> list[tuple[str, str]]:
    """The active filters as translated (label, value) pairs for the export's info sheet."""
    labels = {
        "unit": _("Unit (org code)"),
        "business_line": _("Business line"),
        "procedure": _("Procedure"),
        "status": _("Status"),
        "received_from": _("Received from"),
        "received_to": _("Received to"),
        "procurator": _("Procurator"),
        "charge": _("Charge"),
        "q": _("Search"),
        "sort": _("Sort"),
    }
    choices = {
        "business_line": dict(BusinessLine.choices),
        "procedure": dict(Procedure.choices),
        "status": dict(CaseStatus.choices),
    }
    rows = []
    for name, value in filters.as_params().items():
        rows.append(
            (labels.get(name, name), str(choices.get(name, {}).get(value, value)))
        )
    return rows


class CaseExportView(LoginRequiredMixin, View):
    """The filtered case list as an Excel workbook (at most ``EXPORT_LIMIT`` rows)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        params = filter_params(request.GET)
        filters = CaseFilters.from_params(params)
        if filters.errors:
            # Never export a broader list than the user asked for: show the errors instead.
            return HttpResponseRedirect(
                reverse("cases:case_list") + "?" + params.urlencode()
            )
        queryset = case_list(user=request.user, filters=filters)
        export = case_export_workbook(
            queryset,
            limit=EXPORT_LIMIT,
            exported_by=str(request.user),
            filters=filters_description(filters),
        )
        audit_record(
            actor=request.user,
            verb="cases.export",
            target_type="cases.case",
            request=request,
            details={
                "filters": filters.as_params(),
                "rows": export.rows,
                "truncated": export.truncated,
            },
        )
        return xlsx_response(export, "cases")
