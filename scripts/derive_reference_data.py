"""Derive jiancha's packaged reference data from ../shared/data.

Only facts are kept: org codes and names of procuratorates, charge names with their
article numbers, and article numbers of the Criminal Law and Criminal Procedure Law.
No statute text is copied. Run from the repository root:

    python scripts/derive_reference_data.py ../shared/data
"""

import csv
import json
import sys
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
        for file_name, law_name in [
            ("criminal_law_articles.json", "刑法"),
            ("criminal_procedure_law_2018_articles.json", "刑事诉讼法"),
        ]:
            articles = json.load(open(law / file_name, encoding="utf-8"))["articles"]
            for article in articles:
                writer.writerow([law_name, article["article_key"], article["article_label"], article["chapter"] or ""])
    print("charges", len(charges["charges"]))


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared/data")
    derive_units(src)
    derive_law(src)
