from django.db import migrations


def load(apps, schema_editor):
    from jiancha.law.seed import load_law

    # The laws of the reference when this migration was written; the column was widened
    # for longer law names (0003) before the later laws are loaded (0004).
    load_law(
        apps.get_model("law", "Charge"),
        apps.get_model("law", "Article"),
        laws={"刑法", "刑事诉讼法"},
    )


def unload(apps, schema_editor):
    apps.get_model("law", "Charge").objects.all().delete()
    apps.get_model("law", "Article").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("law", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
