"""TRUNCATE skips row triggers, so the append-only triggers of 0002 and 0004 never saw it: the owner of the
tables could empty the log (and re-insert a recomputed chain). A statement trigger refuses it. The owner can
still disable triggers; the runtime role cannot (it is not the owner, config/database.py), and a rewrite
by the owner is named by `audit_verify` against the anchors outside the database."""

from django.db import migrations

REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: TRUNCATE refused on %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_auditanchor
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_anchor_no_truncate ON audit_auditanchor;
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_drop_unused_hash_pattern_index")]

    operations = [migrations.RunSQL(REFUSE_TRUNCATE, DROP)]
