"""Indexes for the audit log page's filters, each ending in `sequence` so a filtered page is a short
index scan in keyset order. Built CONCURRENTLY: the audit table is large and written by every request. The
single-column indexes on `action` and `deployment_id` go:
the composites serve the same lookups, and every audited request paid for them."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0004_anchor_append_only"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(fields=["actor_username", "sequence"], name="audit_actor_username_seq"),
        ),
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(
                fields=["action", "sequence"], name="audit_action_seq", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
        ),
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(fields=["deployment_id", "sequence"], name="audit_deployment_seq"),
        ),
        AddIndexConcurrently(
            model_name="auditevent",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["actor_roles"], name="audit_actor_roles_gin", opclasses=["jsonb_path_ops"]
            ),
        ),
        migrations.AlterField(model_name="auditevent", name="action", field=models.CharField(max_length=64)),
        migrations.AlterField(model_name="auditevent", name="deployment_id", field=models.BigIntegerField(blank=True, null=True)),
    ]
