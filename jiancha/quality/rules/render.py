"""Turning a finding's values into the sentence that explains it.

Rule names and explanation templates are part of the versioned rule data, in Chinese and
English (``name``/``explanation`` with ``zh`` and ``en``), so a message is rendered in the
reader's language from the values stored with the finding. A few placeholders are derived
here for every rule: ``limit`` (the limit that applied, e.g. "1 month + 15 days"),
``ended`` (the day the clock stopped, or "not yet"), ``days_late`` and ``subject``.
"""

import datetime
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language

from jiancha.quality.rules.registry import Rule, latest_rules, ruleset

WORDS = {
    "zh": {
        "day": "%d日",
        "month": "%d个月",
        "join": "零",
        "none": "—",
        "not_yet": "尚未办结",
        "yes": "是",
        "no": "否",
        "list": "、",
        "article": "第%s条",
    },
    "en": {
        "day": "%d days",
        "month": "%d months",
        "join": " + ",
        "none": "—",
        "not_yet": "not yet",
        "yes": "yes",
        "no": "no",
        "list": ", ",
        "article": "Art. %s",
    },
}
WORDS["en"]["day_one"] = "%d day"
WORDS["en"]["month_one"] = "%d month"


def language_key(language: str | None = None) -> str:
    return (
        "zh"
        if (language or get_language() or "zh-hans").lower().startswith("zh")
        else "en"
    )


def limit_text(days: int, months: int, language: str | None = None) -> str:
    words = WORDS[language_key(language)]
    parts = []
    if months:
        parts.append(
            (words.get("month_one", words["month"]) if months == 1 else words["month"])
            % months
        )
    if days:
        parts.append(
            (words.get("day_one", words["day"]) if days == 1 else words["day"]) % days
        )
    return words["join"].join(parts) or words["day"] % 0


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def display_value(value: Any, words: dict[str, str]) -> str:
    """A stored value as text in the language of ``words`` (:data:`WORDS`)."""
    if value is None or value == "":
        return words["none"]
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return (
            words["list"].join(display_value(item, words) for item in value)
            or words["none"]
        )
    return str(value)


def derived_values(
    values: dict[str, Any],
    subject: str,
    *,
    today: datetime.date | None = None,
    language: str | None = None,
) -> dict[str, str]:
    """Every placeholder a template may use, as display text."""
    words = WORDS[language_key(language)]
    shown = {key: display_value(value, words) for key, value in values.items()}
    shown["subject"] = subject or words["none"]
    if "limit_days" in values or "limit_months" in values:
        days = int(values.get("limit_days") or 0) + int(values.get("extra_days") or 0)
        shown["limit"] = limit_text(
            days, int(values.get("limit_months") or 0), language
        )
    if "ended_on" in values:
        shown["ended"] = (
            display_value(values["ended_on"], words)
            if values.get("ended_on")
            else words["not_yet"]
        )
    due = _as_date(values.get("due"))
    if due is not None:
        ended = _as_date(values.get("ended_on")) or today or timezone.localdate()
        shown["days_late"] = str(max((ended - due).days, 0))
    return shown


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "%(" + key + ")s"


def render_message(
    rule: Rule | None,
    values: dict[str, Any] | str,
    subject: str = "",
    *,
    today: datetime.date | None = None,
    language: str | None = None,
) -> str:
    """The explanation of one finding in ``language`` (default: the active language)."""
    if isinstance(values, str):
        values = json.loads(values or "{}")
    if rule is None:
        return json.dumps(values, ensure_ascii=False)
    template = (
        rule.explanation_zh if language_key(language) == "zh" else rule.explanation_en
    )
    return template % _Missing(
        derived_values(values, subject, today=today, language=language)
    )


def rule_for(version: str, rule_id: str) -> Rule | None:
    """The rule as the version that raised a finding defines it (else its latest definition)."""
    found = ruleset(version)
    rule = found.rule(rule_id) if found else None
    return rule or latest_rules().get(rule_id)


def rule_name(rule_id: str, version: str = "", language: str | None = None) -> str:
    rule = rule_for(version, rule_id)
    if rule is None:
        return rule_id
    return rule.name_zh if language_key(language) == "zh" else rule.name_en


def legal_basis_text(basis: list[dict[str, str]], language: str | None = None) -> str:
    """e.g. 《刑事诉讼法》第91条、第105条 / Criminal Procedure Law (刑事诉讼法) Art. 91."""
    words = WORDS[language_key(language)]
    parts = []
    for item in basis or []:
        parts.append(
            f"《{item.get('law', '')}》" + words["article"] % item.get("article", "")
        )
    return words["list"].join(parts)
