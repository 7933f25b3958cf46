"""The audit context of each event (audit/context.py): its channel and correlation id. Adding the columns with
a default is DDL, not an UPDATE, so the append-only trigger is not involved and older events read ""; the hash
covers the new fields only when they are set (audit/chain.py), so those events keep their hashes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_refuse_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="channel",
            field=models.CharField(blank=True, db_default="", default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="correlation_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
    ]
