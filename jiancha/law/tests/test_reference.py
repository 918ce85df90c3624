"""The packaged law reference data: charges (罪名) and article numbers of 刑法 and 刑事诉讼法."""

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


@pytest.mark.django_db
def test_articles_are_loaded():
    assert Article.objects.filter(law=reference.CRIMINAL_PROCEDURE_LAW).count() == 308
    assert Article.objects.filter(law=reference.CRIMINAL_LAW, number="133-1").exists()


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
    ],
)
def test_packaged_articles_match_the_source(shared_data_dir, law, file_name):
    source = json.loads(
        (_law_dir(shared_data_dir) / file_name).read_text(encoding="utf-8")
    )

    expected = [
        (row["article_key"], row["article_label"], row["chapter"] or "")
        for row in source["articles"]
    ]
    packaged = [
        (number, label, chapter)
        for name, number, label, chapter in reference.article_rows()
        if name == law
    ]
    assert packaged == expected
    assert len(packaged) == source["article_count"]
