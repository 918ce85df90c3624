from django.db import migrations


def load(apps, schema_editor):
    from jiancha.accounts.seed import load_units

    load_units(apps.get_model("accounts", "Unit"), apps.get_model("accounts", "Department"))


def unload(apps, schema_editor):
    apps.get_model("accounts", "Department").objects.all().delete()
    apps.get_model("accounts", "Unit").objects.update(parent=None)
    apps.get_model("accounts", "Unit").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
