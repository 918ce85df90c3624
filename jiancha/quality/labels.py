"""What the values stored with a finding are called, and their coded values, in words.

A finding keeps the dates and values that broke its rule (``Finding.values``, keys chosen by
the rule's author in the rule data). The case page lists them under these labels, in the
reader's language; a key without a label (a new rule's) is shown as it is. A test checks
that every key the shipped rules write has a label.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiancha.accounts.choices import BusinessLine
from jiancha.cases.choices import EventType
from jiancha.quality.rules.render import display_value

VALUE_LABELS: dict[str, Any] = {
    # Deadline rules (every one writes these).
    "start": _("Clock started"),
    "due": _("Due"),
    "ended_on": _("Clock stopped"),
    "status": _("Status"),
    "limit_days": _("Time limit (days)"),
    "limit_months": _("Time limit (months)"),
    "extra_days": _("Days added by extensions"),
    # Dates.
    "arrest_on": _("Arrest decided"),
    "closed_on": _("Closed"),
    "decided_on": _("Decided"),
    "detention_extended_on": _("Detention extended"),
    "event_on": _("Event date"),
    "extended_on": _("Extended"),
    "first_event_on": _("First event"),
    "first_resubmission_on": _("First resubmission"),
    "first_return_on": _("First return"),
    "judgment_on": _("Judgment"),
    "notice_on": _("Notice given"),
    "notice_started_on": _("Public notice started"),
    "pre_litigation_on": _("Pre-litigation recommendation"),
    "prosecution_on": _("Prosecution decided"),
    "protest_on": _("Protest lodged"),
    "protest_result_on": _("Protest decided"),
    "received_on": _("Received"),
    "recommendation_on": _("Recommendation issued"),
    "recommended_on": _("Sentencing recommended"),
    "reconsideration_on": _("Reconsideration requested"),
    "reply_on": _("Reply received"),
    "return_dates": _("Returned for supplementary investigation"),
    "second_judgment_on": _("Second-instance judgment"),
    "signed_on": _("Plea agreement signed"),
    "suit_filed_on": _("Suit filed"),
    "withdrawn_on": _("Withdrawn"),
    # Charges and articles.
    "article": _("Article cited"),
    "articles": _("Articles cited"),
    "chapter": _("Chapter of the Criminal Law"),
    "charge": _("Charge"),
    "charges": _("Charges recorded"),
    "judgment_charges": _("Charges in the judgment"),
    "replaced_by": _("Replaced by"),
    "expected": _("Expected"),
    # Decisions, counts and the rest.
    "arrest_case": _("Arrest review case"),
    "arrest_decision": _("Arrest decision"),
    "business_line": _("Business line"),
    "confidence": _("Confidence"),
    "event_type": _("Event"),
    "extensions": _("Extensions"),
    "max_months": _("Recommended at most (months)"),
    "min_months": _("Recommended at least (months)"),
    "months": _("Months"),
    "person": _("Person"),
    "prosecution_decision": _("Prosecution decision"),
    "ratio": _("Ratio to the expected sentence"),
    "recommendation": _("Sentencing recommendation"),
    "resubmissions": _("Resubmissions"),
    "returns": _("Returns"),
    "suggested": _("Charges the facts suggest"),
}

_DECISIONS: dict[str, Any] = {
    "approved": _("arrest approved"),
    "not_approved": _("arrest not approved"),
    "prosecute": _("prosecute"),
    "not_prosecute": _("not prosecute"),
}

VALUE_CODES: dict[str, dict[str, Any]] = {
    "status": {
        "met": pgettext_lazy("deadline", "met"),
        "missed": pgettext_lazy("deadline", "missed"),
        "running": pgettext_lazy("deadline", "running"),
        "overdue": pgettext_lazy("deadline", "overdue"),
    },
    "arrest_decision": _DECISIONS,
    "prosecution_decision": _DECISIONS,
    "event_type": dict(EventType.choices),
    "business_line": dict(BusinessLine.choices),
}


def value_label(key: str) -> str:
    """The label of a value's key in the active language (the key itself when unknown)."""
    label = VALUE_LABELS.get(key)
    return str(label) if label is not None else key


def value_text(key: str, value: Any, words: dict[str, str]) -> str:
    """A value as the case page shows it: codes in words, lists joined, numbers short.
    ``words``: :data:`jiancha.quality.rules.render.WORDS` of the reader's language."""
    if isinstance(value, list):
        return (
            words["list"].join(value_text(key, item, words) for item in value)
            or words["none"]
        )
    codes = VALUE_CODES.get(key)
    if codes is not None and isinstance(value, str) and value in codes:
        return str(codes[value])
    if isinstance(value, float) and not value.is_integer():
        return str(round(value, 2))
    return display_value(value, words)
