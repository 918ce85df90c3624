"""Supervisor assignments become case grants (ADR 0002): the same rows, renamed, with a
reason (every existing row is a people's supervisor's assignment), a reference, an expiry
and a revocation. Rows are kept, not copied: the table is renamed."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_case_unit_composite_index_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="supervisorassignment", name="assignment_unique"
        ),
        migrations.RenameModel("SupervisorAssignment", "CaseGrant"),
        migrations.RenameField("casegrant", "supervisor", "user"),
        migrations.RenameField("casegrant", "assigned_by", "granted_by"),
        migrations.RenameField("casegrant", "assigned_at", "granted_at"),
        migrations.AlterModelOptions(
            name="casegrant",
            options={
                "verbose_name": "case grant",
                "verbose_name_plural": "case grants",
            },
        ),
        migrations.AlterField(
            model_name="casegrant",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="grants",
                to="cases.case",
                verbose_name="case",
            ),
        ),
        migrations.AlterField(
            model_name="casegrant",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="case_grants",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AlterField(
            model_name="casegrant",
            name="granted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="granted by",
            ),
        ),
        migrations.AlterField(
            model_name="casegrant",
            name="granted_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="granted at"
            ),
        ),
        migrations.AddField(
            model_name="casegrant",
            name="reason",
            field=models.CharField(
                choices=[
                    ("supervisor", "people's supervisor assignment"),
                    ("review", "case review assignment"),
                ],
                default="supervisor",
                max_length=16,
                verbose_name="reason",
            ),
        ),
        migrations.AddField(
            model_name="casegrant",
            name="reference",
            field=models.CharField(
                blank=True,
                help_text="what the grant is for, e.g. the review plan",
                max_length=64,
                verbose_name="reference",
            ),
        ),
        migrations.AddField(
            model_name="casegrant",
            name="expires_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="expires at"
            ),
        ),
        migrations.AddField(
            model_name="casegrant",
            name="revoked_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="revoked at"
            ),
        ),
        migrations.AddField(
            model_name="casegrant",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="revoked by",
            ),
        ),
        migrations.AddConstraint(
            model_name="casegrant",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at__isnull", True)),
                fields=("case", "user", "reason", "reference"),
                name="casegrant_active_unique",
            ),
        ),
    ]
