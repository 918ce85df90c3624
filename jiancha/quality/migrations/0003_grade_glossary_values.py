"""Stored suggested grades take the glossary's identifiers: ``qualified`` → ``acceptable``
(合格) and ``unqualified`` → ``failed`` (不合格), as reviews already writes them.

One UPDATE per value: only cases with findings have a row (a few hundred thousand in a
national year), and the grade index serves the WHERE.
"""

from django.db import migrations

RENAMES = {"qualified": "acceptable", "unqualified": "failed"}


def rename(apps, schema_editor, mapping):
    CaseEvaluation = apps.get_model("quality", "CaseEvaluation")
    for old, new in mapping.items():
        CaseEvaluation.objects.filter(grade=old).update(grade=new)


def forwards(apps, schema_editor):
    rename(apps, schema_editor, RENAMES)


def backwards(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMES.items()})


class Migration(migrations.Migration):
    dependencies = [("quality", "0002_caseevaluation_grade_choices")]

    operations = [migrations.RunPython(forwards, backwards)]
