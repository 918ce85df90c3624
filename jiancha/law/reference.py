"""Packaged reference data, readable without a database (importer, demo data, rules)."""

import csv
import datetime
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

CRIMINAL_LAW = "刑法"
CRIMINAL_PROCEDURE_LAW = "刑事诉讼法"


@dataclass(frozen=True)
class Law:
    """A law of the reference (``data/laws.toml``): its name as rules cite it, version, the
    day that version took effect, its number of articles and whether that count was checked
    against a copy of the text (``verified``)."""

    name: str
    full_name: str
    version: str
    effective: datetime.date
    articles: int
    verified: bool
    shared_file: str = ""
    source: str = ""


@cache
def laws() -> tuple[Law, ...]:
    with open(DATA_DIR / "laws.toml", "rb") as handle:
        return tuple(Law(**entry) for entry in tomllib.load(handle)["law"])


@dataclass(frozen=True)
class ChargeRow:
    seq: int
    name: str
    articles: tuple[str, ...]
    chapter: str
    section: str


@cache
def current_charges() -> tuple[ChargeRow, ...]:
    with open(DATA_DIR / "charges.csv", encoding="utf-8") as handle:
        return tuple(
            ChargeRow(
                int(row["seq"]),
                row["name"],
                tuple(row["articles"].split()),
                row["chapter"],
                row["section"],
            )
            for row in csv.DictReader(handle)
        )


@cache
def charge_articles() -> dict[str, tuple[str, ...]]:
    return {row.name: row.articles for row in current_charges()}


@cache
def superseded_charges() -> dict[str, str]:
    with open(DATA_DIR / "superseded_charges.csv", encoding="utf-8") as handle:
        return {row["name"]: row["replaced_by"] for row in csv.DictReader(handle)}


@cache
def article_rows() -> tuple[tuple[str, str, str, str], ...]:
    with open(DATA_DIR / "articles.csv", encoding="utf-8") as handle:
        return tuple(
            (r["law"], r["article"], r["label"], r["chapter"])
            for r in csv.DictReader(handle)
        )


@cache
def article_numbers(law: str) -> frozenset[str]:
    return frozenset(
        number for name, number, _label, _chapter in article_rows() if name == law
    )
