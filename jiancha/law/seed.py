"""Loading the packaged law reference data (used by a data migration and by tests)."""

from collections.abc import Collection
from typing import Any

from jiancha.law.reference import article_rows, current_charges, superseded_charges


def load_law(
    charge_model: Any, article_model: Any, *, laws: Collection[str] | None = None
) -> None:
    """Load the charges and the article numbers (of ``laws`` only, when given)."""
    current = {row.name for row in current_charges()}
    charges = [
        charge_model(
            seq=row.seq,
            name=row.name,
            articles=list(row.articles),
            chapter=row.chapter,
            section=row.section,
        )
        for row in current_charges()
    ]
    charges += [
        charge_model(
            seq=10000 + index, name=name, current=False, replaced_by=replaced_by
        )
        for index, (name, replaced_by) in enumerate(superseded_charges().items())
        if name not in current
    ]
    charge_model.objects.bulk_create(charges, batch_size=500)
    article_model.objects.bulk_create(
        [
            article_model(law=law, number=number, label=label, chapter=chapter)
            for law, number, label, chapter in article_rows()
            if laws is None or law in laws
        ],
        batch_size=500,
    )


def load_missing_articles(article_model: Any) -> int:
    """Add the packaged article numbers the table lacks (laws added to the reference later);
    returns how many were added."""
    present = set(article_model.objects.values_list("law", "number"))
    missing = [
        article_model(law=law, number=number, label=label, chapter=chapter)
        for law, number, label, chapter in article_rows()
        if (law, number) not in present
    ]
    article_model.objects.bulk_create(missing, batch_size=500)
    return len(missing)
