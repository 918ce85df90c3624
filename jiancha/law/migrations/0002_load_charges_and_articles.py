from django.db import migrations


def load(apps, schema_editor):
    from jiancha.law.seed import load_law

    load_law(apps.get_model("law", "Charge"), apps.get_model("law", "Article"))


def unload(apps, schema_editor):
    apps.get_model("law", "Charge").objects.all().delete()
    apps.get_model("law", "Article").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("law", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
