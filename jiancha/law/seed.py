"""Loading the packaged law reference data (used by a data migration and by tests)."""

from typing import Any

from jiancha.law.reference import article_rows, current_charges, superseded_charges


def load_law(charge_model: Any, article_model: Any) -> None:
    current = {row.name for row in current_charges()}
    charges = [
        charge_model(seq=row.seq, name=row.name, articles=list(row.articles), chapter=row.chapter, section=row.section)
        for row in current_charges()
    ]
    charges += [
        charge_model(seq=10000 + index, name=name, current=False, replaced_by=replaced_by)
        for index, (name, replaced_by) in enumerate(superseded_charges().items())
        if name not in current
    ]
    charge_model.objects.bulk_create(charges, batch_size=500)
    article_model.objects.bulk_create(
        [article_model(law=law, number=number, label=label, chapter=chapter) for law, number, label, chapter in article_rows()],
        batch_size=500,
    )
