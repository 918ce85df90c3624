"""The packaged law reference data: charges (罪名) and the article numbers of the laws of
data/laws.toml."""

import csv
import json
from pathlib import Path

import pytest

from jiancha.law import reference
from jiancha.law.models import Article, Charge


def test_483_current_charges_are_packaged():
    charges = reference.current_charges()

    assert len(charges) == 483
    assert len({charge.name for charge in charges}) == 483
    assert [charge.seq for charge in charges] == list(range(1, 484))


@pytest.mark.django_db
def test_483_current_charges_are_loaded():
    assert Charge.objects.filter(current=True).count() == 483
    assert set(Charge.objects.filter(current=True).values_list("name", flat=True)) == {
        c.name for c in reference.current_charges()
    }


def test_every_charges_articles_exist_in_the_criminal_law():
    numbers = reference.article_numbers(reference.CRIMINAL_LAW)
    missing = {
        charge.name: article
        for charge in reference.current_charges()
        for article in charge.articles
        if article not in numbers
    }

    # The one exception: 骗购外汇罪 comes from article 1 of the 1998 NPCSC decision on foreign
    # exchange fraud (全国人民代表大会常务委员会关于惩治骗购外汇、逃汇和非法买卖外汇犯罪的决定),
    # not from a Criminal Law article; the source marks it as "决定-1".
    assert missing == {"骗购外汇罪": "决定-1"}
    assert all(charge.articles for charge in reference.current_charges())


def test_article_133_1_exists():
    assert "133-1" in reference.article_numbers(reference.CRIMINAL_LAW)
    assert reference.charge_articles()["危险驾驶罪"] == ("133-1",)


def test_article_counts():
    assert len(reference.article_numbers(reference.CRIMINAL_PROCEDURE_LAW)) == 308
    assert len(reference.article_numbers(reference.CRIMINAL_LAW)) == 505


# The laws added for the rules' legal basis, with their article counts (laws.toml).
ADDED = {
    "民事诉讼法": 306,
    "行政诉讼法": 103,
    "人民检察院刑事诉讼规则": 684,
    "最高人民法院 最高人民检察院关于检察公益诉讼案件适用法律若干问题的解释": 27,
}


def test_every_law_is_described_and_has_its_count_of_articles():
    described = {law.name: law for law in reference.laws()}
    assert {name for name, *_rest in reference.article_rows()} == set(described)
    for law in described.values():
        assert len(reference.article_numbers(law.name)) == law.articles, law.name
        assert law.version
        assert law.effective.year >= 2017
        # A count not checked against a copy of the text says where it comes from.
        assert law.shared_file or (law.source and not law.verified), law.name
    assert {name: described[name].articles for name in ADDED} == ADDED


@pytest.mark.parametrize(("law", "count"), ADDED.items())
def test_added_laws_are_the_articles_one_to_n(law, count):
    assert reference.article_numbers(law) == {
        str(number) for number in range(1, count + 1)
    }


def test_labels_of_the_plain_ranges_read_as_in_the_official_texts():
    """第N条 labels made from N agree with the labels printed in the procuratorate's rules
    (684 articles, taken from the text)."""
    printed = {
        number: label
        for law, number, label, _chapter in reference.article_rows()
        if law == "人民检察院刑事诉讼规则"
    }
    for law in ADDED:
        if law == "人民检察院刑事诉讼规则":
            continue
        for _law, number, label, chapter in reference.article_rows():
            if _law == law:
                assert label == printed[number]
                assert chapter == ""


@pytest.mark.django_db
def test_articles_are_loaded():
    assert Article.objects.filter(law=reference.CRIMINAL_PROCEDURE_LAW).count() == 308
    assert Article.objects.filter(law=reference.CRIMINAL_LAW, number="133-1").exists()
    for law, count in ADDED.items():
        assert Article.objects.filter(law=law).count() == count
    assert Article.objects.get(law="民事诉讼法", number="220").label == "第二百二十条"


def test_superseded_charges_point_to_current_or_superseded_names():
    current = {charge.name for charge in reference.current_charges()}
    superseded = reference.superseded_charges()

    assert len(superseded) == 59
    assert not set(superseded) & current
    assert all(
        replacement in current or replacement in superseded or replacement == ""
        for replacement in superseded.values()
    )


# --- the packaged data matches the public source (skipped without ../shared/data) ------


def _law_dir(shared_data_dir) -> Path:
    return Path(shared_data_dir) / "laws_lawrefbook"


def test_packaged_charges_match_the_source(shared_data_dir):
    source = json.loads(
        (_law_dir(shared_data_dir) / "charges_current.json").read_text(encoding="utf-8")
    )

    expected = [
        (
            row["seq"],
            row["charge"],
            tuple(row["articles"]),
            row["chapter"],
            row["section"] or "",
        )
        for row in source["charges"]
    ]
    packaged = [
        (c.seq, c.name, c.articles, c.chapter, c.section)
        for c in reference.current_charges()
    ]
    assert packaged == expected

    replaced = {
        row["charge"]: row["replaced_by"] or ""
        for row in source["abolished_or_renamed"]
    }
    assert reference.superseded_charges() == replaced


def test_packaged_charges_match_the_source_csv(shared_data_dir):
    with open(
        _law_dir(shared_data_dir) / "charges_current.csv", encoding="utf-8"
    ) as handle:
        rows = list(csv.DictReader(handle))

    assert [row["charge"] for row in rows] == [
        charge.name for charge in reference.current_charges()
    ]


@pytest.mark.parametrize(
    ("law", "file_name"),
    [
        (reference.CRIMINAL_LAW, "criminal_law_articles.json"),
        (reference.CRIMINAL_PROCEDURE_LAW, "criminal_procedure_law_2018_articles.json"),
        (
            "人民检察院刑事诉讼规则",
            "procuratorate_criminal_procedure_rules_2019_articles.json",
        ),
    ],
)
def test_packaged_articles_match_the_source(shared_data_dir, law, file_name):
    source = json.loads(
        (_law_dir(shared_data_dir) / file_name).read_text(encoding="utf-8")
    )
    # The codes are divided into 编 and 章 (``part``, ``chapter``); the rules into 章 only,
    # which the source puts in ``part``.
    books = any(
        (row["part"] or "").split(" ")[0].endswith("编") for row in source["articles"]
    )
    expected = [
        (
            row["article_key"],
            row["article_label"],
            (row["chapter"] if books else row["part"]) or "",
        )
        for row in source["articles"]
    ]
    packaged = [
        (number, label, chapter)
        for name, number, label, chapter in reference.article_rows()
        if name == law
    ]
    assert packaged == expected
    assert len(packaged) == source["article_count"]
    described = next(item for item in reference.laws() if item.name == law)
    assert (described.shared_file, described.articles, described.verified) == (
        file_name,
        source["article_count"],
        True,
    )
