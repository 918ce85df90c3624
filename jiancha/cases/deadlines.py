"""Statutory deadlines of a case, computed from its events (DOMAIN.md §2).

``case_deadlines(case, events)`` returns every time limit that applies to the case, when its
clock started, when it was due (counted by :mod:`jiancha.core.calendar`), when the clock
stopped and whether the limit was met. The case page shows them on the event timeline; the
quality module's rules check the same limits set-based over all cases.

The limits themselves are data (``LIMITS``) so that a changed statute or a disputed
number (DOMAIN.md marks some UNCERTAIN) is a one-line change.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiancha.core.calendar import period_end


@dataclass(frozen=True)
class Limit:
    label: Any
    basis: str
    days: int = 0
    months: int = 0


LIMITS: dict[str, Limit] = {
    "arrest_review_detained": Limit(gettext_lazy("arrest review (detained)"), "刑事诉讼法 第91条", days=7),
    "arrest_review_not_detained": Limit(gettext_lazy("arrest review (not detained)"), "人民检察院刑事诉讼规则 第282条", days=15),
    "arrest_review_complex": Limit(gettext_lazy("arrest review (major or complex)"), "人民检察院刑事诉讼规则 第282条", days=20),
    "prosecution_review": Limit(gettext_lazy("prosecution review"), "刑事诉讼法 第172条", months=1),
    "prosecution_review_fast_track": Limit(gettext_lazy("prosecution review (fast track)"), "刑事诉讼法 第172条", days=10),
    "prosecution_review_fast_track_long": Limit(gettext_lazy("prosecution review (fast track, sentence over one year)"), "刑事诉讼法 第172条", days=15),
    "supplementary_investigation": Limit(gettext_lazy("supplementary investigation"), "刑事诉讼法 第175条", months=1),
    "rights_notice": Limit(gettext_lazy("notice of the right to counsel"), "刑事诉讼法 第34条", days=3),
    "civil_supervision": Limit(gettext_lazy("civil supervision review"), "民事诉讼法 第216条", months=3),
    "administrative_supervision": Limit(gettext_lazy("administrative supervision review"), "人民检察院行政诉讼监督规则", months=3),
    "pre_litigation_reply": Limit(gettext_lazy("reply to a pre-litigation recommendation"), "最高人民法院 最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释 第21条", months=2),
    "public_notice": Limit(gettext_lazy("public notice period"), "最高人民法院 最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释 第13条", days=30),
}
DEFAULT_EXTENSION_DAYS = 15


@dataclass(frozen=True)
class Deadline:
    """One statutory time limit applied to a case and whether it was met."""

    key: str  # a key of LIMITS
    label: str  # translated name
    basis: str  # legal basis, e.g. "刑事诉讼法 第91条"
    limit: str  # translated limit, e.g. "7 days"
    start: datetime.date
    due: datetime.date
    ended_on: datetime.date | None  # when the clock stopped; None while it runs
    start_event_id: int | None
    end_event_id: int | None
    status: str  # "met" | "missed" | "running" | "overdue"
    minimum: bool = False  # a period that must *last* at least this long (public notice)

    @property
    def met(self) -> bool:
        return self.status == "met"

    @property
    def days_used(self) -> int | None:
        return None if self.ended_on is None else (self.ended_on - self.start).days


def _limit_text(days: int, months: int) -> str:
    parts = []
    if months:
        parts.append(_("%(count)s month(s)") % {"count": months})
    if days:
        parts.append(_("%(count)s day(s)") % {"count": days})
    return " + ".join(parts)


def _deadline(
    key: str,
    *,
    start: datetime.date,
    ended_on: datetime.date | None,
    in_custody: bool,
    start_event: Any = None,
    end_event: Any = None,
    today: datetime.date,
    extra_days: int = 0,
    minimum: bool = False,
) -> Deadline:
    limit = LIMITS[key]
    due = period_end(start, days=limit.days + extra_days, months=limit.months, in_custody=in_custody)
    if minimum:
        status = "running" if ended_on is None else ("met" if ended_on >= due else "missed")
    elif ended_on is not None:
        status = "met" if ended_on <= due else "missed"
    else:
        status = "overdue" if today > due else "running"
    return Deadline(
        key=key,
        label=str(limit.label),
        basis=limit.basis,
        limit=_limit_text(limit.days + extra_days, limit.months),
        start=start,
        due=due,
        ended_on=ended_on,
        start_event_id=getattr(start_event, "pk", None),
        end_event_id=getattr(end_event, "pk", None),
        status=status,
        minimum=minimum,
    )


def _first(events: list[Any], event_type: str, after: datetime.date | None = None) -> Any:
    for event in events:
        if event.type == event_type and (after is None or event.on >= after):
            return event
    return None


def _arrest_review(case: Any, events: list[Any], today: datetime.date) -> list[Deadline]:
    key = "arrest_review_detained" if case.detained else ("arrest_review_complex" if case.complex else "arrest_review_not_detained")
    decision = _first(events, "arrest_decided")
    ended_on = decision.on if decision else case.closed_on
    return [_deadline(key, start=case.received_on, ended_on=ended_on, in_custody=case.detained, end_event=decision, today=today)]


def _fast_track_key(events: list[Any]) -> str:
    for event in events:
        if event.type == "sentencing_recommended":
            months = event.details.get("months") or event.details.get("max_months") or 0
            if months and months > 12:
                return "prosecution_review_fast_track_long"
    return "prosecution_review_fast_track"


def _prosecution_review(case: Any, events: list[Any], today: datetime.date) -> list[Deadline]:
    """Each return for supplementary investigation stops the review clock; resubmission restarts it."""
    deadlines: list[Deadline] = []
    key = _fast_track_key(events) if case.fast_track else "prosecution_review"
    start, start_event = case.received_on, None
    ordered = [e for e in events if e.type in {"returned_for_investigation", "resubmitted", "prosecution_decided", "review_extended"}]
    extension = 0
    index = 0
    while True:
        end_event = None
        while index < len(ordered):
            event = ordered[index]
            index += 1
            if event.on < start:
                continue
            if event.type == "review_extended" and not case.fast_track:
                extension += int(event.details.get("days") or DEFAULT_EXTENSION_DAYS)
                continue
            if event.type in {"returned_for_investigation", "prosecution_decided"}:
                end_event = event
                break
        ended_on = end_event.on if end_event else case.closed_on
        deadlines.append(
            _deadline(key, start=start, ended_on=ended_on, in_custody=case.detained, start_event=start_event, end_event=end_event, today=today, extra_days=extension)
        )
        if end_event is None or end_event.type != "returned_for_investigation":
            break
        # The resubmission that ends this return comes after it in (date, position) order.
        after_return = events[events.index(end_event) + 1 :]
        resubmitted = _first(after_return, "resubmitted")
        deadlines.append(
            _deadline(
                "supplementary_investigation",
                start=end_event.on,
                ended_on=resubmitted.on if resubmitted else None,
                in_custody=False,
                start_event=end_event,
                end_event=resubmitted,
                today=today if case.closed_on is None else max(today, case.closed_on),
            )
        )
        if resubmitted is None:
            break
        start, start_event, extension = resubmitted.on, resubmitted, 0
        index = ordered.index(resubmitted) + 1
    return deadlines


def _rights_notice(case: Any, persons: list[Any], events: list[Any], today: datetime.date) -> list[Deadline]:
    notices = [e for e in events if e.type == "rights_notified"]
    person_ids = [p.person_id for p in persons] or [""]
    deadlines = []
    for person_id in person_ids:
        notice = next((e for e in notices if not person_id or not e.person or e.person == person_id), None)
        deadline = _deadline(
            "rights_notice",
            start=case.received_on,
            ended_on=notice.on if notice else None,
            in_custody=case.detained,
            end_event=notice,
            today=today,
        )
        if notice is None and case.closed_on is not None:
            deadline = Deadline(**{**deadline.__dict__, "status": "missed"})
        deadlines.append(deadline)
    return deadlines


def _supervision(case: Any, key: str, events: list[Any], today: datetime.date) -> list[Deadline]:
    return [_deadline(key, start=case.received_on, ended_on=case.closed_on, in_custody=False, today=today)]


def _public_interest(case: Any, events: list[Any], today: datetime.date) -> list[Deadline]:
    deadlines = []
    for event in events:
        if event.type == "recommendation_issued" and event.details.get("kind") == "pre_litigation":
            reply = _first(events, "reply_received", after=event.on)
            deadlines.append(
                _deadline("pre_litigation_reply", start=event.on, ended_on=reply.on if reply else None, in_custody=False, start_event=event, end_event=reply, today=today)
            )
        elif event.type == "public_notice_started":
            ended = _first(events, "public_notice_ended", after=event.on)
            deadlines.append(
                _deadline("public_notice", start=event.on, ended_on=ended.on if ended else None, in_custody=False, start_event=event, end_event=ended, today=today, minimum=True)
            )
    return deadlines


def case_deadlines(case: Any, events: list[Any], persons: list[Any] | None = None, *, today: datetime.date | None = None) -> list[Deadline]:
    """Every statutory limit that applies to the case, in the order their clocks started."""
    today = today or timezone.localdate()
    events = sorted(events, key=lambda e: (e.on, getattr(e, "position", 0)))
    persons = list(persons) if persons is not None else list(case.persons.all())
    deadlines: list[Deadline] = []
    if case.procedure == "arrest_review":
        deadlines += _arrest_review(case, events, today)
    elif case.procedure == "prosecution_review":
        deadlines += _rights_notice(case, persons, events, today)
        deadlines += _prosecution_review(case, events, today)
    elif case.procedure == "civil_supervision":
        deadlines += _supervision(case, "civil_supervision", events, today)
    elif case.procedure == "administrative_supervision":
        deadlines += _supervision(case, "administrative_supervision", events, today)
    if case.procedure == "public_interest" or case.business_line == "public_interest":
        deadlines += _public_interest(case, events, today)
    return sorted(deadlines, key=lambda d: d.start)
