"""Derive jiancha's packaged reference data from ../shared/data.

Only facts are kept: org codes and names of procuratorates, charge names with their
article numbers, and the article numbers of the laws listed in jiancha/law/data/laws.toml
(from the shared copies of the texts where there is one, else 1..N as that file says).
No statute text is copied. Run from the repository root:

    python scripts/derive_reference_data.py ../shared/data
"""

import csv
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def derive_units(source: Path) -> None:
    rows = list(csv.DictReader(open(source / "admin_divisions_modood/procuratorate_tree_derived.csv", encoding="utf-8")))
    seen: set[str] = set()
    out = []
    for row in rows:
        code = row["org_code"]
        # Three prefecture-level cities without districts (东莞, 中山, 儋州) also appear as a
        # self-parented "basic" node with the same code; the prefecture node is kept.
        if code in seen or row["parent_org_code"] == code:
            continue
        seen.add(code)
        out.append([code, row["parent_org_code"], row["level"], row["kind"], row["name"], row["full_name"]])
    with open(ROOT / "jiancha/accounts/data/units.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["org_code", "parent_org_code", "level", "kind", "name", "full_name"])
        writer.writerows(out)
    print("units", len(out))


def laws() -> list[dict]:
    """The laws of the reference, in order (jiancha/law/data/laws.toml)."""
    with open(ROOT / "jiancha/law/data/laws.toml", "rb") as handle:
        return tomllib.load(handle)["law"]


DIGITS = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """An article number as printed in PRC statutes: 11 → 十一, 110 → 一百一十, 306 → 三百零六."""
    if not 0 < number < 10000:
        raise ValueError(number)
    text = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += ("" if digit == 1 and unit == "十" and not text else DIGITS[digit]) + unit
    return text


def chapters(articles: list[dict]) -> list[str]:
    """The 章 of each article: ``chapter`` in a text divided into 编 (the codes), ``part``
    in a text of chapters only (the procuratorate's rules)."""
    books = any((article.get("part") or "").split(" ")[0].endswith("编") for article in articles)
    return [(article["chapter"] if books else article.get("part")) or "" for article in articles]


def derive_law(source: Path) -> None:
    law = source / "laws_lawrefbook"
    charges = json.load(open(law / "charges_current.json", encoding="utf-8"))
    with open(ROOT / "jiancha/law/data/charges.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seq", "name", "articles", "chapter", "section"])
        for charge in charges["charges"]:
            writer.writerow([charge["seq"], charge["charge"], " ".join(charge["articles"]), charge["chapter"], charge["section"] or ""])
    with open(ROOT / "jiancha/law/data/superseded_charges.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "replaced_by", "abolished_effective"])
        for charge in charges["abolished_or_renamed"]:
            writer.writerow([charge["charge"], charge.get("replaced_by") or "", charge.get("abolished_effective") or ""])
    with open(ROOT / "jiancha/law/data/articles.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["law", "article", "label", "chapter"])
        for entry in laws():
            if "shared_file" in entry:
                articles = json.load(open(law / entry["shared_file"], encoding="utf-8"))["articles"]
                if len(articles) != entry["articles"]:
                    raise SystemExit(f"{entry['name']}: {len(articles)} articles in the source, {entry['articles']} in laws.toml")
                for article, chapter in zip(articles, chapters(articles), strict=True):
                    writer.writerow([entry["name"], article["article_key"], article["article_label"], chapter])
            else:
                # Not in ../shared: the numbers 1..N of the official text (laws.toml).
                for number in range(1, entry["articles"] + 1):
                    writer.writerow([entry["name"], str(number), f"第{chinese_numeral(number)}条", ""])
    print("charges", len(charges["charges"]))


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared/data")
    derive_units(src)
    derive_law(src)
