"""Drop the text-pattern (LIKE) index Django adds beside the unique index of `hash`.

Nothing searches hashes by prefix; at a million events it is 125 MB that every audited request keeps up
to date (bench/results/audit_log.json). The unique index stays. Django's own schema changes drop this
index with IF EXISTS, so a later AlterField of `hash` still works.
"""

from django.db import migrations

INDEX = "audit_auditevent_hash_d0c402da_like"


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_filter_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f"DROP INDEX IF EXISTS {INDEX}",
            reverse_sql=f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_auditevent (hash varchar_pattern_ops)",
        ),
    ]
