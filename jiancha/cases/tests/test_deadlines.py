"""Statutory deadlines computed from events, on plain objects (no database)."""

import datetime
from types import SimpleNamespace

from jiancha.cases.deadlines import case_deadlines

D = datetime.date
TODAY = D(2025, 6, 1)


def make_case(procedure="prosecution_review", *, received_on=D(2024, 3, 4), closed_on=None, detained=True, fast_track=False, complex=False, business_line="ordinary_crime"):
    return SimpleNamespace(procedure=procedure, received_on=received_on, closed_on=closed_on, detained=detained, fast_track=fast_track, complex=complex, business_line=business_line)


def ev(pk, type_, on, person="", **details):
    return SimpleNamespace(pk=pk, type=type_, on=on, person=person, details=details, position=pk)


def by_key(deadlines, key):
    return [d for d in deadlines if d.key == key]


def test_arrest_review_detained_met_within_seven_days():
    case = make_case("arrest_review", closed_on=D(2024, 3, 11))
    [deadline] = case_deadlines(case, [ev(1, "received", D(2024, 3, 4)), ev(2, "arrest_decided", D(2024, 3, 11), "A", decision="approved")], [], today=TODAY)
    assert deadline.key == "arrest_review_detained"
    assert deadline.due == D(2024, 3, 11)
    assert deadline.status == "met"
    assert deadline.end_event_id == 2


def test_arrest_review_detained_late_by_one_day_is_missed():
    case = make_case("arrest_review", closed_on=D(2024, 3, 12))
    [deadline] = case_deadlines(case, [ev(2, "arrest_decided", D(2024, 3, 12), "A", decision="approved")], [], today=TODAY)
    assert deadline.status == "missed"


def test_arrest_review_not_detained_uses_fifteen_days_and_holiday_rule():
    # 15 days from 2024-09-16 is 2024-10-01, a holiday: the period ends on 2024-10-08.
    case = make_case("arrest_review", received_on=D(2024, 9, 16), detained=False, closed_on=D(2024, 10, 8))
    [deadline] = case_deadlines(case, [ev(1, "arrest_decided", D(2024, 10, 8), decision="not_approved")], [], today=TODAY)
    assert deadline.key == "arrest_review_not_detained"
    assert deadline.due == D(2024, 10, 8)
    assert deadline.status == "met"


def test_prosecution_review_restarts_after_resubmission():
    events = [
        ev(1, "received", D(2024, 3, 4)),
        ev(2, "rights_notified", D(2024, 3, 5), "A"),
        ev(3, "returned_for_investigation", D(2024, 4, 1)),
        ev(4, "resubmitted", D(2024, 4, 25)),
        ev(5, "prosecution_decided", D(2024, 5, 24), "A", decision="prosecute"),
    ]
    persons = [SimpleNamespace(person_id="A")]
    deadlines = case_deadlines(make_case(closed_on=D(2024, 5, 24)), events, persons, today=TODAY)
    reviews = by_key(deadlines, "prosecution_review")
    assert [(d.start, d.due, d.status) for d in reviews] == [
        (D(2024, 3, 4), D(2024, 4, 4), "met"),
        (D(2024, 4, 25), D(2024, 5, 25), "met"),
    ]
    [returned] = by_key(deadlines, "supplementary_investigation")
    # One month from 04-01 is 05-01, inside the May Day holiday (05-01..05-05): due 05-06.
    assert (returned.due, returned.status) == (D(2024, 5, 6), "met")
    [notice] = by_key(deadlines, "rights_notice")
    assert notice.status == "met"


def test_extension_adds_fifteen_days():
    events = [ev(1, "review_extended", D(2024, 3, 30), days=15), ev(2, "prosecution_decided", D(2024, 4, 15), "A", decision="prosecute")]
    [review] = by_key(case_deadlines(make_case(closed_on=D(2024, 4, 15)), events, [], today=TODAY), "prosecution_review")
    assert review.due == D(2024, 4, 19)
    assert review.status == "met"
    [late] = by_key(case_deadlines(make_case(closed_on=D(2024, 4, 15)), events[1:], [], today=TODAY), "prosecution_review")
    assert late.status == "missed"


def test_fast_track_is_ten_days():
    events = [ev(1, "prosecution_decided", D(2024, 3, 15), "A", decision="prosecute")]
    [review] = by_key(case_deadlines(make_case(fast_track=True, closed_on=D(2024, 3, 15)), events, [], today=TODAY), "prosecution_review_fast_track")
    assert review.due == D(2024, 3, 14)
    assert review.status == "missed"


def test_missing_rights_notice_on_closed_case_is_missed_and_open_case_overdue():
    persons = [SimpleNamespace(person_id="A")]
    [closed] = by_key(case_deadlines(make_case(closed_on=D(2024, 3, 20)), [], persons, today=TODAY), "rights_notice")
    assert closed.status == "missed"
    [open_] = by_key(case_deadlines(make_case(), [], persons, today=TODAY), "rights_notice")
    assert open_.status == "overdue"
    [running] = by_key(case_deadlines(make_case(received_on=D(2025, 5, 31)), [], persons, today=TODAY), "rights_notice")
    assert running.status == "running"


def test_public_interest_reply_and_notice_period():
    case = make_case("public_interest", business_line="public_interest", detained=False)
    events = [
        ev(1, "recommendation_issued", D(2024, 3, 4), kind="pre_litigation"),
        ev(2, "reply_received", D(2024, 5, 10), adopted=True),
        ev(3, "public_notice_started", D(2024, 6, 3)),
        ev(4, "public_notice_ended", D(2024, 6, 20)),
    ]
    deadlines = case_deadlines(case, events, [], today=TODAY)
    [reply] = by_key(deadlines, "pre_litigation_reply")
    assert (reply.due, reply.status) == (D(2024, 5, 6), "missed")
    [notice] = by_key(deadlines, "public_notice")
    assert notice.minimum and notice.status == "missed"


def test_civil_supervision_three_months():
    case = make_case("civil_supervision", business_line="civil", detained=False, received_on=D(2024, 1, 10), closed_on=D(2024, 4, 9))
    [deadline] = case_deadlines(case, [], [], today=TODAY)
    assert deadline.due == D(2024, 4, 10)
    assert deadline.status == "met"


def test_resubmission_listed_before_a_same_day_return_does_not_loop():
    events = [
        ev(1, "resubmitted", D(2024, 4, 1)),
        ev(2, "returned_for_investigation", D(2024, 4, 1)),
        ev(3, "resubmitted", D(2024, 4, 20)),
        ev(4, "prosecution_decided", D(2024, 5, 10), "A", decision="prosecute"),
    ]
    deadlines = case_deadlines(make_case(closed_on=D(2024, 5, 10)), events, [], today=TODAY)
    reviews = by_key(deadlines, "prosecution_review")
    assert [d.start for d in reviews] == [D(2024, 3, 4), D(2024, 4, 20)]
    [returned] = by_key(deadlines, "supplementary_investigation")
    assert returned.ended_on == D(2024, 4, 20)
