"""Every value the shipped rules store with a finding has a label (quality.labels)."""

import re
from pathlib import Path

from django.utils import translation

from jiancha.quality import labels
from jiancha.quality.labels import VALUE_LABELS, value_label, value_text
from jiancha.quality.rules.compiler import DEADLINE_VALUES
from jiancha.quality.rules.registry import rulesets
from jiancha.quality.rules.render import WORDS

STRUCT_KEY = re.compile(r"'(\w+)'\s*:")
LEARNED_KEY = re.compile(r'^\s+"(\w+)":', re.MULTILINE)


def written_keys() -> dict[str, set[str]]:
    """The keys each shipped rule writes into ``Finding.values``."""
    learned = (Path(labels.__file__).parent / "rules" / "learned.py").read_text(
        encoding="utf-8"
    )
    # The values of the model rules: the dict literals of their two hit functions.
    functions = [
        chunk
        for chunk in learned.split("\n\n\n")
        if chunk.lstrip().startswith(("def charge_hits", "def sentencing_hits"))
    ]
    assert len(functions) == 2
    model_keys = {key for chunk in functions for key in LEARNED_KEY.findall(chunk)}
    keys: dict[str, set[str]] = {}
    for ruleset in rulesets():
        for rule in ruleset.rules:
            if rule.kind == "deadline":
                found = set(STRUCT_KEY.findall(DEADLINE_VALUES))
            elif rule.kind == "model":
                found = model_keys
            else:
                found = set(
                    STRUCT_KEY.findall(rule.sql if rule.kind == "sql" else rule.values)
                )
            keys[f"{ruleset.version} {rule.id}"] = found
    return keys


def test_every_key_a_rule_writes_has_a_label() -> None:
    keys = written_keys()
    assert len(keys) >= 40
    # The collection itself finds what it should (deadline, select, sql and model rules).
    assert {"start", "due", "status"} <= keys["2021.1 CR-T04"]
    assert {"suggested", "confidence", "charges"} <= keys["2021.1 ML-01"]
    assert {"months", "expected", "ratio"} <= keys["2021.1 ML-02"]
    assert {"charges", "judgment_charges", "judgment_on"} <= keys["2021.1 CR-L05"]
    missing = {
        rule: sorted(found - VALUE_LABELS.keys())
        for rule, found in keys.items()
        if found - VALUE_LABELS.keys()
    }
    assert missing == {}


def test_labels_and_codes_are_in_words() -> None:
    with translation.override("zh-hans"):
        assert value_label("due") == "届满日"
        assert value_label("a_new_key") == "a_new_key"
        zh = WORDS["zh"]
        assert value_text("status", "missed", zh) == "超期"
        assert value_text("arrest_decision", "not_approved", zh) == "不批准逮捕"
        assert value_text("business_line", "ordinary_crime", zh) == "普通犯罪检察"
        assert value_text("suggested", ["诈骗罪", "盗窃罪"], zh) == "诈骗罪、盗窃罪"
        assert value_text("confidence", 0.98765, zh) == "0.99"
        assert value_text("months", 24.0, zh) == "24"
        assert value_text("ended_on", None, zh) == "—"
    with translation.override("en"):
        assert value_label("due") == "Due"
        assert value_text("status", "missed", WORDS["en"]) == "missed"
        assert value_text("suggested", ["a", "b"], WORDS["en"]) == "a, b"
