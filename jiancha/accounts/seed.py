"""Loading the packaged procuratorate tree and default departments (used by a data migration)."""

import csv
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

# Default internal departments per level. Local numbering is not uniform (DOMAIN.md §1.3),
# so these are only a starting point: departments are data and can be edited in the admin.
DEFAULT_DEPARTMENTS: dict[int, list[tuple[str, list[str]]]] = {
    0: [
        ("第一检察厅", ["ordinary_crime"]),
        ("第二检察厅", ["major_crime"]),
        ("第三检察厅", ["duty_crime"]),
        ("第四检察厅", ["economic_crime"]),
        ("第五检察厅", ["execution"]),
        ("第六检察厅", ["civil"]),
        ("第七检察厅", ["administrative"]),
        ("第八检察厅", ["public_interest"]),
        ("第九检察厅", ["juvenile"]),
        ("第十检察厅", ["complaint"]),
        ("案件管理办公室", []),
        ("政治部", []),
    ],
    1: [
        ("第一检察部", ["ordinary_crime"]),
        ("第二检察部", ["major_crime"]),
        ("第三检察部", ["duty_crime"]),
        ("第四检察部", ["economic_crime"]),
        ("第五检察部", ["execution"]),
        ("第六检察部", ["civil"]),
        ("第七检察部", ["administrative"]),
        ("第八检察部", ["public_interest"]),
        ("第九检察部", ["juvenile"]),
        ("第十检察部", ["complaint"]),
        ("案件管理部", []),
        ("政治部", []),
    ],
    2: [
        ("第一检察部", ["ordinary_crime", "major_crime"]),
        ("第二检察部", ["duty_crime", "economic_crime"]),
        ("第三检察部", ["execution"]),
        ("第四检察部", ["civil", "administrative"]),
        ("第五检察部", ["public_interest"]),
        ("第六检察部", ["juvenile", "complaint"]),
        ("案件管理部", []),
        ("政治部", []),
    ],
    3: [
        ("第一检察部", ["ordinary_crime", "major_crime", "duty_crime", "economic_crime"]),
        ("第二检察部", ["civil", "administrative", "public_interest"]),
        ("第三检察部", ["execution", "juvenile", "complaint"]),
        ("综合业务部", []),
    ],
}


def unit_rows() -> list[dict[str, str]]:
    with open(DATA_DIR / "units.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_units(unit_model: Any, department_model: Any) -> None:
    rows = unit_rows()
    paths: dict[str, str] = {}
    for row in rows:  # parents come before children in the file
        parent = row["parent_org_code"]
        paths[row["org_code"]] = (paths[parent] if parent else "") + row["org_code"] + "/"
    units = [
        unit_model(
            code=row["org_code"],
            level=int(row["level"]),
            kind=row["kind"],
            name=row["name"],
            full_name=row["full_name"],
            path=paths[row["org_code"]],
        )
        for row in rows
    ]
    unit_model.objects.bulk_create(units, batch_size=500)
    ids = dict(unit_model.objects.values_list("code", "id"))
    updates = []
    for row in rows:
        if row["parent_org_code"]:
            unit = unit_model(id=ids[row["org_code"]], parent_id=ids[row["parent_org_code"]])
            updates.append(unit)
    unit_model.objects.bulk_update(updates, ["parent"], batch_size=500)
    departments = []
    for row in rows:
        for order, (name, lines) in enumerate(DEFAULT_DEPARTMENTS[int(row["level"])]):
            departments.append(department_model(unit_id=ids[row["org_code"]], name=name, business_lines=lines, order=order))
    department_model.objects.bulk_create(departments, batch_size=1000)
