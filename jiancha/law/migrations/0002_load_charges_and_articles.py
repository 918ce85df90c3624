from django.db import migrations


def load(apps, schema_editor):
    from jiancha.law.reference import article_rows, current_charges, superseded_charges

    Charge = apps.get_model("law", "Charge")
    Article = apps.get_model("law", "Article")
    charges = [
        Charge(seq=row.seq, name=row.name, articles=list(row.articles), chapter=row.chapter, section=row.section)
        for row in current_charges()
    ]
    current = {row.name for row in current_charges()}
    charges += [
        Charge(seq=10000 + index, name=name, current=False, replaced_by=replaced_by)
        for index, (name, replaced_by) in enumerate(superseded_charges().items())
        if name not in current
    ]
    Charge.objects.bulk_create(charges, batch_size=500)
    Article.objects.bulk_create(
        [Article(law=law, number=number, label=label, chapter=chapter) for law, number, label, chapter in article_rows()],
        batch_size=500,
    )


def unload(apps, schema_editor):
    apps.get_model("law", "Charge").objects.all().delete()
    apps.get_model("law", "Article").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("law", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
