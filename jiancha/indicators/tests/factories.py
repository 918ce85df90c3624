"""Hand-made cases for the indicator tests: a small, fully written-out scenario.

``build_scenario()`` creates, in 2024, the cases whose expected numerators and
denominators ``EXPECTED`` lists per unit (the basic unit 330106, its sibling 330102 and
their city 330100). Every number there is counted by hand in the comments of the scenario.
"""

import datetime
from typing import Any

from django.utils import timezone

from jiancha.accounts.models import Unit
from jiancha.cases.models import Case, Event, Person
from jiancha.core.testing import BASIC, SIBLING

D = datetime.date


def make_case(
    case_id: str,
    *,
    unit: str = BASIC,
    procedure: str = "prosecution_review",
    business_line: str = "ordinary_crime",
    received: datetime.date,
    closed: datetime.date | None = None,
    matter: str = "",
    persons: list[tuple[str, bool, bool]] = (),  # type: ignore[assignment]
    events: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
    procurator: str = "P0001",
) -> Case:
    """A case with persons (id, juvenile, plea) and events (type, on, person[, details])."""
    now = timezone.now()
    case = Case.objects.create(
        unit=Unit.objects.get(code=unit), case_id=case_id, matter_id=matter, business_line=business_line,
        procedure=procedure, procurator_id=procurator, received_on=received, closed_on=closed,
        person_count=len(persons), created_at=now, updated_at=now,
    )
    for position, (person_id, juvenile, plea) in enumerate(persons):
        Person.objects.create(case=case, position=position, person_id=person_id, juvenile=juvenile, plea_leniency=plea, charges=["盗窃罪"], articles=["264"])
    Event.objects.create(case=case, position=0, type="received", on=received)
    for position, item in enumerate(events, start=1):
        event_type, on, person = item[:3]
        details = item[3] if len(item) > 3 else {}
        Event.objects.create(case=case, position=position, type=event_type, on=on, person=person, details=details)
    return case


def build_scenario() -> dict[str, Case]:
    cases = {}
    # Matter M1: arrest review of A (approved) and B (not approved, reconsideration upheld).
    cases["AR1"] = make_case(
        "AR1", procedure="arrest_review", received=D(2024, 1, 5), closed=D(2024, 1, 10), matter="M1",
        persons=[("A", False, True), ("B", False, False)],
        events=[
            ("arrest_decided", D(2024, 1, 10), "A", {"decision": "approved"}),
            ("arrest_decided", D(2024, 1, 10), "B", {"decision": "not_approved", "reason": "no_necessity"}),
            ("arrest_reconsideration", D(2024, 1, 20), "B", {"changed": False}),
        ],
    )
    # ... its prosecution review: returned once, extended once; A prosecuted (fixed
    # recommendation adopted, then appealed), B not prosecuted (B was never arrested).
    cases["PR1"] = make_case(
        "PR1", received=D(2024, 2, 1), closed=D(2024, 3, 1), matter="M1",
        persons=[("A", False, True), ("B", False, False)],
        events=[
            ("returned_for_investigation", D(2024, 2, 10), ""),
            ("resubmitted", D(2024, 2, 20), ""),
            ("review_extended", D(2024, 2, 25), "", {"days": 15}),
            ("prosecution_decided", D(2024, 3, 1), "A", {"decision": "prosecute"}),
            ("prosecution_decided", D(2024, 3, 1), "B", {"decision": "not_prosecute", "kind": "discretionary"}),
            ("sentencing_recommended", D(2024, 3, 1), "A", {"kind": "fixed", "months": 8}),
            ("judgment", D(2024, 4, 10), "A", {"instance": 1, "verdict": "guilty", "months": 8, "recommendation_adopted": True}),
            ("appeal", D(2024, 4, 15), "A"),
            ("judgment", D(2024, 6, 1), "A", {"instance": 2, "verdict": "guilty", "months": 8}),
        ],
    )
    # Matter M2: C arrested, then not prosecuted: a post-arrest non-prosecution.
    cases["AR2"] = make_case(
        "AR2", procedure="arrest_review", received=D(2024, 3, 1), closed=D(2024, 3, 5), matter="M2",
        persons=[("C", False, False)], events=[("arrest_decided", D(2024, 3, 5), "C", {"decision": "approved"})],
    )
    cases["PR2"] = make_case(
        "PR2", received=D(2024, 4, 1), closed=D(2024, 4, 20), matter="M2",
        persons=[("C", False, False)],
        events=[("prosecution_decided", D(2024, 4, 20), "C", {"decision": "not_prosecute", "kind": "evidentiary"})],
    )
    # D (juvenile, plea) and E prosecuted; D's range recommendation not adopted and D
    # acquitted; E's fixed recommendation adopted, then protested and changed.
    cases["PR3"] = make_case(
        "PR3", received=D(2024, 5, 1), closed=D(2024, 5, 10),
        persons=[("D", True, True), ("E", False, False)],
        events=[
            ("prosecution_decided", D(2024, 5, 10), "D", {"decision": "prosecute"}),
            ("prosecution_decided", D(2024, 5, 10), "E", {"decision": "prosecute"}),
            ("sentencing_recommended", D(2024, 5, 10), "D", {"kind": "range", "min_months": 6, "max_months": 12}),
            ("sentencing_recommended", D(2024, 5, 10), "E", {"kind": "fixed", "months": 10}),
            ("judgment", D(2024, 6, 20), "D", {"instance": 1, "verdict": "acquitted", "recommendation_adopted": False}),
            ("judgment", D(2024, 6, 20), "E", {"instance": 1, "verdict": "guilty", "months": 10, "recommendation_adopted": True}),
            ("protest", D(2024, 6, 25), "E"),
            ("protest_result", D(2024, 9, 1), "E", {"changed": True}),
        ],
    )
    # F prosecuted, then the prosecution withdrawn.
    cases["PR4"] = make_case(
        "PR4", received=D(2024, 6, 20), closed=D(2024, 7, 1),
        persons=[("F", False, False)],
        events=[("prosecution_decided", D(2024, 7, 1), "F", {"decision": "prosecute"}), ("withdrawn", D(2024, 7, 20), "F")],
    )
    # A decision recorded without a person concerns the whole case: G and H both count.
    cases["PR5"] = make_case(
        "PR5", received=D(2024, 7, 25), closed=D(2024, 8, 1),
        persons=[("G", False, False), ("H", False, False)],
        events=[("prosecution_decided", D(2024, 8, 1), "", {"decision": "prosecute"})],
    )
    # A decision of 2023 never counts in 2024.
    cases["PR0"] = make_case(
        "PR0", received=D(2023, 12, 1), closed=D(2023, 12, 30),
        persons=[("Z", False, False)],
        events=[("prosecution_decided", D(2023, 12, 30), "Z", {"decision": "prosecute"})],
    )
    # Civil and public-interest cases.
    cases["CV1"] = make_case(
        "CV1", procedure="civil_supervision", business_line="civil", received=D(2024, 4, 1), closed=D(2024, 5, 1),
        events=[("recommendation_issued", D(2024, 5, 1), "", {"kind": "retrial"}), ("reply_received", D(2024, 6, 1), "", {"adopted": True})],
    )
    cases["CV2"] = make_case(
        "CV2", procedure="civil_supervision", business_line="civil", received=D(2024, 4, 2), closed=D(2024, 5, 2),
        events=[("recommendation_issued", D(2024, 5, 2), "", {"kind": "violation"}), ("reply_received", D(2024, 6, 2), "", {"adopted": False})],
    )
    cases["PI1"] = make_case(
        "PI1", procedure="public_interest", business_line="public_interest", received=D(2024, 2, 1), closed=D(2024, 3, 1),
        events=[
            ("recommendation_issued", D(2024, 3, 1), "", {"kind": "pre_litigation"}),
            ("reply_received", D(2024, 4, 1), "", {"adopted": True}),
            ("suit_filed", D(2024, 5, 1), ""),
            ("judgment", D(2024, 10, 1), "", {"supported": True}),
        ],
    )
    # The sibling unit: X not arrested; Y (plea) prosecuted.
    cases["AR3"] = make_case(
        "AR3", unit=SIBLING, procedure="arrest_review", received=D(2024, 2, 1), closed=D(2024, 2, 2),
        persons=[("X", False, False)], events=[("arrest_decided", D(2024, 2, 2), "X", {"decision": "not_approved", "reason": "insufficient_evidence"})],
    )
    cases["PR6"] = make_case(
        "PR6", unit=SIBLING, received=D(2024, 2, 1), closed=D(2024, 2, 3),
        persons=[("Y", False, True)], events=[("prosecution_decided", D(2024, 2, 3), "Y", {"decision": "prosecute"})],
    )
    return cases


# (numerator, denominator) per indicator and unit for 2024, counted by hand.
EXPECTED_BASIC: dict[str, tuple[int, int]] = {
    "non_arrest_rate": (1, 3),  # B / A, B, C
    "non_prosecution_rate": (2, 8),  # B, C / A, B, C, D, E, F, G, H
    "pretrial_detention_rate": (2, 8),  # A, C arrested / 8 decisions
    "post_arrest_non_prosecution_rate": (1, 2),  # C / A, C
    "plea_leniency_rate": (2, 8),  # A, D
    "fixed_recommendation_rate": (2, 3),  # A, E / A, D, E
    "recommendation_adoption_rate": (2, 3),  # A, E adopted / 3 recommendations
    "withdrawal_rate": (1, 6),  # F / A, D, E, F, G, H
    "acquittal_rate": (1, 6),  # D
    "withdrawal_and_acquittal_rate": (2, 6),
    "first_instance_acceptance_rate": (2, 3),  # D, E not appealed / A, D, E
    "appeal_rate": (1, 3),
    "protest_change_rate": (1, 1),
    "criminal_protest_rate": (1, 3),
    "case_proceeding_ratio": (13, 8),  # 8 matters + 5 extra events
    "criminal_case_proceeding_ratio": (10, 5),  # M1, M2, PR3, PR4, PR5 + 5 extra events
    "juvenile_non_arrest_rate": (0, 0),
    "juvenile_non_prosecution_rate": (0, 1),  # D
    "conditional_non_prosecution_rate": (0, 1),
    "non_arrest_reconsideration_change_rate": (0, 1),
    "non_prosecution_reconsideration_change_rate": (0, 0),
    "post_arrest_exemption_rate": (0, 2),
    "post_arrest_non_prosecution_and_exemption_rate": (1, 2),
    "return_rate": (1, 5),  # PR1 / PR1-PR5 concluded
    "extension_rate": (1, 5),
    "average_prosecution_review_days": (75, 5),  # 29 + 19 + 9 + 11 + 7
    "average_arrest_review_days": (9, 2),  # 5 + 4
    "average_supervision_review_days": (60, 2),  # 30 + 30
    "civil_protest_change_rate": (0, 0),
    "civil_retrial_recommendation_adoption_rate": (1, 1),
    "civil_violation_recommendation_adoption_rate": (0, 1),
    "administrative_recommendation_adoption_rate": (0, 0),
    "execution_recommendation_adoption_rate": (0, 0),
    "pre_litigation_rectification_rate": (1, 1),
    "public_interest_support_rate": (1, 1),
}
EXPECTED_SIBLING: dict[str, tuple[int, int]] = {key: (0, 0) for key in EXPECTED_BASIC} | {
    "non_arrest_rate": (1, 1),
    "non_prosecution_rate": (0, 1),
    "pretrial_detention_rate": (0, 1),
    "plea_leniency_rate": (1, 1),
    "withdrawal_rate": (0, 1),
    "acquittal_rate": (0, 1),
    "withdrawal_and_acquittal_rate": (0, 1),
    "case_proceeding_ratio": (2, 2),
    "criminal_case_proceeding_ratio": (2, 2),
    "return_rate": (0, 1),
    "extension_rate": (0, 1),
    "average_prosecution_review_days": (2, 1),
    "average_arrest_review_days": (1, 1),
}
