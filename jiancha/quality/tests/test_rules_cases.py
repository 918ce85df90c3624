"""Every rule breaks on an example case and passes on another, written in the case exchange
format (issue 3, "Tests and benchmarks").

Example cases in the case exchange format: for every rule, cases that break it and
cases that pass it (issue 3, "Tests and benchmarks").

``RULE_CASES[rule_id] = (breaking, passing)``; each is a list of *case sets*, and a case set
is a list of records evaluated together (a prosecution review with its arrest review).
The first record of a set is the one the rule is about. Records are built from a few
clean cases (``prosecution``, ``arrest``, ``supervision``, ``public_interest``) that break
no rule, changed only where the rule looks.

2024 holidays used below: 4–6 Apr (Qingming, with 7 Apr a working Sunday), 1–5 May, 10 Jun.
"""

import copy
import itertools
from typing import Any

Record = dict[str, Any]
_numbers = itertools.count(1)


def person(person_id: str = "A", **fields: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "juvenile": False,
        "charges": ["盗窃罪"],
        "articles": ["264"],
        "plea_leniency": False,
        **fields,
    }


def event(
    event_type: str, on: str, person_id: str = "", **fields: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": event_type, "on": on, **fields}
    if person_id:
        data["person"] = person_id
    return data


def prosecution(
    *,
    plea: bool = False,
    decided: str | None = "2024-03-20",
    closed: str | None = "2024-03-20",
    judgment: bool = True,
    **fields: Any,
) -> Record:
    """A prosecution review received Mon 4 Mar 2024, rights notified the next day, decided on
    20 Mar; with ``plea``: a signed plea agreement and an adopted fixed recommendation."""
    events = [
        event("received", "2024-03-04"),
        event("rights_notified", "2024-03-05", "A"),
    ]
    if plea:
        events.append(
            event(
                "plea_agreement_signed", min(decided or "2024-03-18", "2024-03-18"), "A"
            )
        )
    if decided:
        events.append(event("prosecution_decided", decided, "A", decision="prosecute"))
    if plea and decided:
        events.append(
            event("sentencing_recommended", decided, "A", kind="fixed", months=8)
        )
    if judgment:
        verdict: dict[str, Any] = {
            "instance": 1,
            "verdict": "guilty",
            "months": 8,
            "charges": ["盗窃罪"],
        }
        if plea:
            verdict["recommendation_adopted"] = True
        events.append(event("judgment", "2024-05-10", "A", **verdict))
    record = {
        "case_id": f"PR-{next(_numbers)}",
        "unit_code": "330106",
        "business_line": "ordinary_crime",
        "procedure": "prosecution_review",
        "procurator_id": "P0001",
        "received_on": "2024-03-04",
        "closed_on": closed,
        "detained": False,
        "fast_track": False,
        "complex": False,
        "persons": [person(plea_leniency=plea)],
        "events": events,
    }
    record.update(fields)
    return record


def arrest(
    *,
    detained: bool = True,
    decided: str = "2024-03-08",
    decision: str = "approved",
    **fields: Any,
) -> Record:
    """An arrest review received Mon 4 Mar 2024 and decided within 7 days."""
    decided_event = event("arrest_decided", decided, "A", decision=decision)
    if decision == "not_approved":
        decided_event["reason"] = "no_necessity"
    record = {
        "case_id": f"AR-{next(_numbers)}",
        "unit_code": "330106",
        "business_line": "ordinary_crime",
        "procedure": "arrest_review",
        "procurator_id": "P0001",
        "received_on": "2024-03-04",
        "closed_on": decided,
        "detained": detained,
        "fast_track": False,
        "complex": False,
        "persons": [person()],
        "events": [event("received", "2024-03-04"), decided_event],
    }
    record.update(fields)
    return record


def supervision(
    *,
    line: str = "civil",
    received: str = "2024-03-04",
    closed: str = "2024-05-20",
    events: list[dict[str, Any]] | None = None,
) -> Record:
    procedure = "civil_supervision" if line == "civil" else "administrative_supervision"
    return {
        "case_id": f"SV-{next(_numbers)}",
        "unit_code": "330106",
        "business_line": line,
        "procedure": procedure,
        "procurator_id": "P0002",
        "received_on": received,
        "closed_on": closed,
        "persons": [],
        "events": [event("received", received), *(events or [])],
    }


def public_interest(events: list[dict[str, Any]], closed: str = "2024-06-30") -> Record:
    return {
        "case_id": f"PI-{next(_numbers)}",
        "unit_code": "330106",
        "business_line": "public_interest",
        "procedure": "public_interest",
        "procurator_id": "P0003",
        "received_on": "2024-03-01",
        "closed_on": closed,
        "persons": [],
        "events": [event("received", "2024-03-01"), *events],
    }


def changed(record: Record, **fields: Any) -> Record:
    """A copy of ``record`` with a new case number and these fields replaced."""
    copied = copy.deepcopy(record)
    copied.update(fields)
    copied["case_id"] = f"{copied['case_id'].split('-')[0]}-{next(_numbers)}"
    return copied


def with_events(
    record: Record, *events: dict[str, Any], drop: tuple[str, ...] = ()
) -> Record:
    copied = changed(record)
    copied["events"] = [
        item for item in copied["events"] if item["type"] not in drop
    ] + list(events)
    return copied


def fast_track(months: int = 8, decided: str = "2024-03-12", **fields: Any) -> Record:
    record = prosecution(
        plea=True, decided=decided, closed=decided, fast_track=True, **fields
    )
    for item in record["events"]:
        if item["type"] == "sentencing_recommended":
            item["months"] = months
        if item["type"] == "judgment":
            item["months"] = months
    return record


def juvenile(
    charge: str = "盗窃罪",
    article: str = "264",
    *,
    adult: bool = False,
    line: str = "juvenile",
) -> Record:
    """A juvenile case closed by conditional non-prosecution."""
    record = prosecution(judgment=False, business_line=line)
    record["persons"] = [
        person(juvenile=not adult, charges=[charge], articles=[article])
    ]
    for item in record["events"]:
        if item["type"] == "prosecution_decided":
            item.update(decision="not_prosecute", kind="conditional")
    return record


def matter(
    arrest_record: Record, prosecution_record: Record, matter_id: str
) -> list[Record]:
    arrest_record = changed(arrest_record, matter_id=matter_id)
    prosecution_record = changed(prosecution_record, matter_id=matter_id)
    return [prosecution_record, arrest_record]


def judged(
    record: Record, charges: list[str], months: int = 8, **fields: Any
) -> Record:
    """``record`` with its judgment replaced by a first-instance guilty one of 10 May 2024."""
    return with_events(
        record,
        event(
            "judgment",
            "2024-05-10",
            "A",
            instance=1,
            verdict="guilty",
            months=months,
            charges=charges,
            **fields,
        ),
        drop=("judgment",),
    )


PLEA = prosecution(plea=True)
BASE = prosecution()
ARREST = arrest()

RULE_CASES: dict[str, tuple[list[list[Record]], list[list[Record]]]] = {
    # --- time limits ---------------------------------------------------------------------
    "CR-T01": (
        [[arrest(decided="2024-03-20")]],
        [[ARREST], [arrest(decided="2024-03-11")]],
    ),
    "CR-T02": (
        [[arrest(detained=False, decided="2024-03-29")]],
        [[arrest(detained=False, decided="2024-03-19")]],
    ),
    # 20 days from 4 Mar end on Sun 24 Mar, which moves to Mon 25 Mar.
    "CR-T03": (
        [[arrest(detained=False, complex=True, decided="2024-03-26")]],
        [[arrest(detained=False, complex=True, decided="2024-03-25")]],
    ),
    # One month from 4 Mar ends on 4 Apr, a holiday: in custody it is not extended ...
    "CR-T04": (
        [[prosecution(detained=True, decided="2024-04-07", closed="2024-04-07")]],
        [[prosecution(detained=True)]],
    ),
    # ... out of custody it runs to the next working day, Sun 7 Apr (a make-up working day).
    "CR-T05": (
        [
            [prosecution(decided="2024-04-08", closed="2024-04-08")],
            [prosecution(decided=None, closed=None, judgment=False)],
        ],
        [[BASE], [prosecution(decided="2024-04-07", closed="2024-04-07")]],
    ),
    "CR-T06": (
        [[fast_track(decided="2024-03-20")]],
        [[fast_track(decided="2024-03-14")]],
    ),
    "CR-T07": (
        [[fast_track(months=18, decided="2024-03-20")]],
        [[fast_track(months=18, decided="2024-03-19")]],
    ),
    "CR-T08": (
        [
            [
                with_events(
                    prosecution(decided="2024-05-20", closed="2024-05-20"),
                    event("returned_for_investigation", "2024-03-15"),
                    event("resubmitted", "2024-05-01"),
                )
            ]
        ],
        [
            [
                with_events(
                    prosecution(decided="2024-04-20", closed="2024-04-20"),
                    event("returned_for_investigation", "2024-03-15"),
                    event("resubmitted", "2024-04-15"),
                )
            ]
        ],
    ),
    "CR-T09": (
        [
            [
                with_events(
                    BASE,
                    event("rights_notified", "2024-03-12", "A"),
                    drop=("rights_notified",),
                )
            ]
        ],
        [
            [BASE],
            [
                with_events(
                    BASE,
                    event("rights_notified", "2024-03-07", "A"),
                    drop=("rights_notified",),
                )
            ],
        ],
    ),
    "CR-T10": (
        [[with_events(BASE, drop=("rights_notified",))]],
        [
            [BASE],
            [
                with_events(
                    BASE,
                    event("rights_notified", "2024-03-04"),
                    drop=("rights_notified",),
                )
            ],
        ],
    ),
    "CR-T11": (
        [[with_events(BASE, event("protest", "2024-05-30", "A"))]],
        [[with_events(BASE, event("protest", "2024-05-20", "A"))]],
    ),
    # --- returns, extensions -------------------------------------------------------------
    "CR-P01": (
        [
            [
                with_events(
                    prosecution(decided="2024-07-20", closed="2024-07-20"),
                    *[
                        event(event_type, on)
                        for event_type, on in (
                            ("returned_for_investigation", "2024-03-10"),
                            ("resubmitted", "2024-04-01"),
                            ("returned_for_investigation", "2024-04-10"),
                            ("resubmitted", "2024-05-01"),
                            ("returned_for_investigation", "2024-05-10"),
                            ("resubmitted", "2024-06-01"),
                        )
                    ],
                )
            ]
        ],
        [
            [
                with_events(
                    prosecution(decided="2024-06-20", closed="2024-06-20"),
                    *[
                        event(event_type, on)
                        for event_type, on in (
                            ("returned_for_investigation", "2024-03-10"),
                            ("resubmitted", "2024-04-01"),
                            ("returned_for_investigation", "2024-04-10"),
                            ("resubmitted", "2024-05-01"),
                        )
                    ],
                )
            ]
        ],
    ),
    "CR-P02": (
        [[with_events(BASE, event("review_extended", "2024-03-15", days=15))]],
        [
            [
                with_events(
                    changed(BASE, complex=True),
                    event("review_extended", "2024-03-15", days=15),
                )
            ]
        ],
    ),
    "CR-P03": (
        [[with_events(fast_track(), event("review_extended", "2024-03-10", days=5))]],
        [[fast_track()]],
    ),
    "CR-P04": (
        [
            [
                with_events(
                    changed(BASE, complex=True),
                    event("review_extended", "2024-03-15", days=30),
                )
            ]
        ],
        [
            [
                with_events(
                    changed(BASE, complex=True), event("review_extended", "2024-03-15")
                )
            ]
        ],
    ),
    "CR-P05": (
        [[with_events(BASE, event("resubmitted", "2024-03-10"))]],
        [
            [
                with_events(
                    prosecution(decided="2024-04-20", closed="2024-04-20"),
                    event("returned_for_investigation", "2024-03-10"),
                    event("resubmitted", "2024-04-01"),
                )
            ]
        ],
    ),
    # --- custody and reconsideration ------------------------------------------------------
    "CR-C01": (
        [
            [
                with_events(
                    arrest(decision="not_approved"),
                    event("detention_extended", "2024-04-30", "A"),
                )
            ]
        ],
        [[with_events(ARREST, event("detention_extended", "2024-04-30", "A"))]],
    ),
    "CR-C02": (
        [[with_events(ARREST, event("detention_extended", "2024-05-10", "A"))]],
        [[with_events(ARREST, event("detention_extended", "2024-05-08", "A"))]],
    ),
    # Arrested 8 Mar: two months of investigation custody end on 8 May (no holiday shift).
    "CR-C03": (
        [
            matter(
                ARREST,
                changed(prosecution(detained=True), received_on="2024-05-09"),
                "M-C03-1",
            )
        ],
        [
            matter(
                ARREST,
                changed(prosecution(detained=True), received_on="2024-05-08"),
                "M-C03-2",
            ),
            matter(
                with_events(ARREST, event("detention_extended", "2024-05-01", "A")),
                changed(prosecution(detained=True), received_on="2024-06-01"),
                "M-C03-3",
            ),
            # Late, but the arrested person is not a party to the prosecution review.
            matter(
                ARREST,
                changed(
                    prosecution(detained=True),
                    received_on="2024-05-09",
                    persons=[person("B")],
                ),
                "M-C03-4",
            ),
        ],
    ),
    "CR-R01": (
        [
            [
                with_events(
                    ARREST,
                    event("arrest_reconsideration", "2024-03-15", "A", changed=False),
                )
            ]
        ],
        [
            [
                with_events(
                    arrest(decision="not_approved"),
                    event("arrest_reconsideration", "2024-03-15", "A", changed=False),
                )
            ]
        ],
    ),
    "CR-R02": (
        [
            [
                with_events(
                    arrest(decision="not_approved"),
                    event("arrest_reconsideration", "2024-03-06", "A", changed=False),
                )
            ]
        ],
        [
            [
                with_events(
                    arrest(decision="not_approved"),
                    event("arrest_reconsideration", "2024-03-08", "A", changed=False),
                )
            ]
        ],
    ),
    "CR-R03": (
        [
            [
                with_events(
                    BASE,
                    event(
                        "non_prosecution_reconsideration",
                        "2024-04-01",
                        "A",
                        changed=False,
                    ),
                )
            ]
        ],
        [
            [
                with_events(
                    juvenile(adult=True, line="ordinary_crime"),
                    event(
                        "non_prosecution_reconsideration",
                        "2024-04-01",
                        "A",
                        changed=False,
                    ),
                )
            ]
        ],
    ),
    "CR-R04": (
        [
            [
                with_events(
                    juvenile(),
                    event(
                        "non_prosecution_reconsideration",
                        "2024-03-10",
                        "A",
                        changed=False,
                    ),
                )
            ]
        ],
        [
            [
                with_events(
                    juvenile(),
                    event(
                        "non_prosecution_reconsideration",
                        "2024-03-25",
                        "A",
                        changed=False,
                    ),
                )
            ]
        ],
    ),
    # --- mandatory steps ------------------------------------------------------------------
    "CR-M01": ([[with_events(PLEA, drop=("plea_agreement_signed",))]], [[PLEA]]),
    "CR-M02": ([[with_events(PLEA, drop=("sentencing_recommended",))]], [[PLEA]]),
    "CR-M03": ([[changed(BASE, fast_track=True)]], [[fast_track()]]),
    "CR-M04": ([[fast_track(months=40)]], [[fast_track(months=36)]]),
    "CR-M05": ([[with_events(ARREST, drop=("arrest_decided",))]], [[ARREST]]),
    "CR-M06": (
        [[with_events(prosecution(judgment=False), drop=("prosecution_decided",))]],
        [[BASE], [prosecution(decided=None, closed=None, judgment=False)]],
    ),
    "CR-M07": (
        [[with_events(BASE, event("plea_agreement_signed", "2024-03-18", "A"))]],
        [[PLEA]],
    ),
    "CR-M08": (
        [
            [
                with_events(
                    PLEA,
                    event("plea_agreement_signed", "2024-03-25", "A"),
                    drop=("plea_agreement_signed",),
                )
            ]
        ],
        [[PLEA]],
    ),
    # --- order of events ------------------------------------------------------------------
    "GN-O01": (
        [
            [
                with_events(
                    BASE,
                    event("rights_notified", "2024-03-01", "A"),
                    drop=("rights_notified",),
                )
            ]
        ],
        [[BASE]],
    ),
    "GN-O02": ([[changed(supervision(), closed_on="2024-03-01")]], [[supervision()]]),
    "CR-O03": (
        [
            [
                with_events(
                    BASE,
                    event(
                        "judgment",
                        "2024-03-15",
                        "A",
                        instance=1,
                        verdict="guilty",
                        months=8,
                        charges=["盗窃罪"],
                    ),
                    drop=("judgment",),
                )
            ]
        ],
        [[BASE]],
    ),
    "CR-O04": (
        [
            [
                with_events(
                    BASE,
                    event(
                        "judgment",
                        "2024-07-10",
                        "A",
                        instance=2,
                        verdict="guilty",
                        months=8,
                        charges=["盗窃罪"],
                    ),
                )
            ]
        ],
        [
            [
                with_events(
                    BASE,
                    event("appeal", "2024-05-15", "A"),
                    event(
                        "judgment",
                        "2024-07-10",
                        "A",
                        instance=2,
                        verdict="guilty",
                        months=8,
                        charges=["盗窃罪"],
                    ),
                )
            ]
        ],
    ),
    "GN-O05": (
        [[supervision(events=[event("protest_result", "2024-08-01", changed=True)])]],
        [
            [
                supervision(
                    events=[
                        event("protest", "2024-05-20"),
                        event("protest_result", "2024-08-01", changed=True),
                    ]
                )
            ]
        ],
    ),
    "GN-O06": (
        [[with_events(BASE, event("rights_notified", "2024-03-05", "Z"))]],
        [[BASE]],
    ),
    "GN-O07": (
        [[with_events(BASE, event("received", "2024-03-06"), drop=("received",))]],
        [[BASE]],
    ),
    "GN-O08": (
        [[supervision(events=[event("reply_received", "2024-06-01", adopted=True)])]],
        [
            [
                supervision(
                    events=[
                        event("recommendation_issued", "2024-05-20", kind="retrial"),
                        event("reply_received", "2024-06-01", adopted=True),
                    ]
                )
            ]
        ],
    ),
    # --- legal consistency ----------------------------------------------------------------
    "CR-L01": ([[changed(BASE, persons=[person(charges=["偷东西罪"])])]], [[BASE]]),
    "CR-L02": (
        [[changed(BASE, persons=[person(charges=["投毒罪"], articles=["114"])])]],
        [
            [
                changed(
                    BASE, persons=[person(charges=["投放危险物质罪"], articles=["114"])]
                )
            ]
        ],
    ),
    "CR-L03": (
        [[changed(BASE, persons=[person(articles=["266"])])]],
        [
            [BASE],
            [
                changed(
                    BASE,
                    persons=[
                        person(charges=["盗窃罪", "诈骗罪"], articles=["264", "266"])
                    ],
                )
            ],
        ],
    ),
    "CR-L04": (
        [[changed(BASE, persons=[person(articles=["264", "999"])])]],
        [
            [BASE],
            [
                changed(
                    BASE, persons=[person(charges=["危险驾驶罪"], articles=["133-1"])]
                )
            ],
        ],
    ),
    "CR-L05": (
        [[judged(BASE, ["诈骗罪"])]],
        [
            [BASE],
            # The same charges in another order.
            [
                judged(
                    changed(
                        BASE,
                        persons=[
                            person(
                                charges=["盗窃罪", "诈骗罪"], articles=["264", "266"]
                            )
                        ],
                    ),
                    ["诈骗罪", "盗窃罪"],
                )
            ],
        ],
    ),
    "CR-L06": (
        [[judged(PLEA, ["盗窃罪"], months=10, recommendation_adopted=True)]],
        [[PLEA]],
    ),
    "CR-L07": (
        [[judged(PLEA, ["盗窃罪"], months=8, recommendation_adopted=False)]],
        [[judged(PLEA, ["盗窃罪"], months=12, recommendation_adopted=False)]],
    ),
    "CR-L08": (
        [
            [
                with_events(
                    PLEA,
                    event(
                        "sentencing_recommended",
                        "2024-03-20",
                        "A",
                        kind="range",
                        min_months=12,
                        max_months=6,
                    ),
                    drop=("sentencing_recommended", "judgment"),
                )
            ]
        ],
        [
            [
                with_events(
                    PLEA,
                    event(
                        "sentencing_recommended",
                        "2024-03-20",
                        "A",
                        kind="range",
                        min_months=6,
                        max_months=12,
                    ),
                    drop=("sentencing_recommended",),
                )
            ]
        ],
    ),
    # Rule set 2025.1 (in force from 1 Mar 2025) only.
    "CR-L09": (
        [
            [
                with_events(
                    changed(BASE, closed_on="2025-06-10"),
                    event(
                        "judgment",
                        "2025-08-10",
                        "A",
                        instance=1,
                        verdict="acquitted",
                        months=0,
                        charges=[],
                    ),
                    drop=("judgment",),
                )
            ]
        ],
        [
            [
                with_events(
                    BASE,
                    event(
                        "judgment",
                        "2024-05-10",
                        "A",
                        instance=1,
                        verdict="acquitted",
                        months=0,
                        charges=[],
                    ),
                    drop=("judgment",),
                )
            ],
            [changed(BASE, closed_on="2025-06-10")],
        ],
    ),
    "CR-L10": (
        [
            [
                with_events(
                    changed(BASE, closed_on="2025-06-10"),
                    event("withdrawn", "2025-07-01", "A"),
                    drop=("judgment",),
                )
            ]
        ],
        [[changed(BASE, closed_on="2025-06-10")]],
    ),
    # --- juveniles ------------------------------------------------------------------------
    "CR-J01": ([[juvenile(adult=True, line="ordinary_crime")]], [[juvenile()]]),
    "CR-J02": (
        [[juvenile("危险驾驶罪", "133-1")]],
        [[juvenile()], [juvenile("故意伤害罪", "234")]],
    ),
    "CR-J03": (
        [[changed(BASE, persons=[person(juvenile=True)])]],
        [[changed(BASE, business_line="juvenile", persons=[person(juvenile=True)])]],
    ),
    # --- civil, administrative, public interest --------------------------------------------
    "CV-T01": (
        [[supervision(closed="2024-06-05")]],
        [[supervision(closed="2024-06-04")]],
    ),
    "AD-T01": (
        [[supervision(line="administrative", closed="2024-06-05")]],
        [[supervision(line="administrative", closed="2024-06-04")]],
    ),
    "PI-T01": (
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued", "2024-03-11", kind="pre_litigation"
                        ),
                        event("reply_received", "2024-05-13", adopted=True),
                    ]
                )
            ]
        ],
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued", "2024-03-11", kind="pre_litigation"
                        ),
                        event("reply_received", "2024-05-11", adopted=True),
                    ]
                )
            ]
        ],
    ),
    "PI-T02": (
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued",
                            "2024-03-11",
                            kind="pre_litigation",
                            urgent=True,
                        ),
                        event("reply_received", "2024-03-27", adopted=True),
                    ]
                )
            ]
        ],
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued",
                            "2024-03-11",
                            kind="pre_litigation",
                            urgent=True,
                        ),
                        event("reply_received", "2024-03-26", adopted=True),
                    ]
                )
            ]
        ],
    ),
    "PI-T03": (
        [
            [
                public_interest(
                    [
                        event("public_notice_started", "2024-03-11"),
                        event("public_notice_ended", "2024-04-09"),
                    ]
                )
            ]
        ],
        [
            [
                public_interest(
                    [
                        event("public_notice_started", "2024-03-11"),
                        event("public_notice_ended", "2024-04-10"),
                        event("suit_filed", "2024-04-20"),
                    ]
                )
            ]
        ],
    ),
    "PI-P01": (
        [[public_interest([event("suit_filed", "2024-04-20")])]],
        [
            [
                public_interest(
                    [
                        event("public_notice_started", "2024-03-11"),
                        event("public_notice_ended", "2024-04-10"),
                        event("suit_filed", "2024-04-20"),
                    ]
                )
            ]
        ],
    ),
    "PI-P02": (
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued", "2024-03-11", kind="pre_litigation"
                        ),
                        event("suit_filed", "2024-04-20"),
                    ]
                )
            ]
        ],
        [
            [
                public_interest(
                    [
                        event(
                            "recommendation_issued", "2024-03-11", kind="pre_litigation"
                        ),
                        event("reply_received", "2024-04-20", adopted=False),
                        event("suit_filed", "2024-05-20"),
                    ]
                )
            ]
        ],
    ),
    "PI-P03": (
        [
            [
                public_interest(
                    [
                        event("public_notice_started", "2024-03-11"),
                        event("public_notice_ended", "2024-04-10"),
                        event("suit_filed", "2024-03-20"),
                    ]
                )
            ]
        ],
        [
            [
                public_interest(
                    [
                        event("public_notice_started", "2024-03-11"),
                        event("public_notice_ended", "2024-04-10"),
                        event("suit_filed", "2024-04-20"),
                    ]
                )
            ]
        ],
    ),
}

# Clean cases: no rule may fire on them.
CLEAN_CASES: list[Record] = [
    BASE,
    PLEA,
    ARREST,
    fast_track(),
    juvenile(),
    supervision(),
    supervision(line="administrative"),
]


# --- the tests --------------------------------------------------------------------------------

import datetime  # noqa: E402

import pytest  # noqa: E402

from jiancha.cases.exchange import validate_case  # noqa: E402
from jiancha.quality.rules.engine import Engine  # noqa: E402
from jiancha.quality.rules.registry import latest_rules  # noqa: E402
from jiancha.quality.rules.source import load_from_rows  # noqa: E402

UNITS = {"330106": 1, "330102": 2}
TODAY = datetime.date(2025, 12, 31)


def exchange_rows(
    records: list[Record], first_pk: int = 1
) -> dict[str, list[tuple[Any, ...]]]:
    """The engine's input rows for records, validated as the importer validates them."""
    cases, persons, events = [], [], []
    for pk, record in enumerate(records, start=first_pk):
        row = validate_case(copy.deepcopy(record), UNITS)
        cases.append(
            (
                pk,
                row.unit_id,
                row.case_id,
                row.matter_id,
                row.business_line,
                row.procedure,
                row.procurator_id,
                row.received_on,
                row.closed_on,
                row.detained,
                row.fast_track,
                row.complex,
            )
        )
        persons += [
            (pk, item[0], item[1], item[3], item[4], item[5], item[6])
            for item in row.persons
        ]
        events += [(pk, *item[:5]) for item in row.events]
    return {"cases": cases, "persons": persons, "events": events}


def findings_of(
    records: list[Record], *, today: datetime.date = TODAY, engine: Engine | None = None
) -> dict[str, set[str]]:
    """Rule ids raised per case number, evaluating ``records`` together (no database)."""
    engine = engine or Engine(models=False)
    con = engine.connect(threads=1)
    load_from_rows(con, **exchange_rows(records))
    engine.evaluate(con, today=today)
    found: dict[str, set[str]] = {record["case_id"]: set() for record in records}
    for case_number, rule_id in con.execute(
        'SELECT k.case_id, f.rule_id FROM finding_new f JOIN "case" k ON k.id = f.case_pk'
    ).fetchall():
        found[case_number].add(rule_id)
    return found


@pytest.fixture(scope="module")
def evaluated() -> dict[str, set[str]]:
    records = [
        record
        for breaking, passing in RULE_CASES.values()
        for case_set in (*breaking, *passing)
        for record in case_set
    ]
    return findings_of(records + CLEAN_CASES)


def test_every_rule_has_a_breaking_and_a_passing_case() -> None:
    sql_rules = {
        rule_id for rule_id, rule in latest_rules().items() if rule.kind != "model"
    }
    assert sql_rules <= set(RULE_CASES), sorted(sql_rules - set(RULE_CASES))
    for rule_id, (breaking, passing) in RULE_CASES.items():
        assert breaking, rule_id
        assert passing, rule_id


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_breaks_on_its_breaking_cases(
    evaluated: dict[str, set[str]], rule_id: str
) -> None:
    for case_set in RULE_CASES[rule_id][0]:
        assert rule_id in evaluated[case_set[0]["case_id"]], case_set[0]


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_passes_on_its_passing_cases(
    evaluated: dict[str, set[str]], rule_id: str
) -> None:
    for case_set in RULE_CASES[rule_id][1]:
        assert rule_id not in evaluated[case_set[0]["case_id"]], case_set[0]


def test_clean_cases_raise_nothing(evaluated: dict[str, set[str]]) -> None:
    assert {
        record["case_id"]: evaluated[record["case_id"]] for record in CLEAN_CASES
    } == {record["case_id"]: set() for record in CLEAN_CASES}
