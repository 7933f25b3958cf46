import logging

from celery import shared_task

from audit.anchor_file import read_key
from audit.selectors import audit_chain_verify
from audit.services import audit_anchor_record

logger = logging.getLogger(__name__)


@shared_task
def audit_chain_verify_task() -> dict:
    from pathlib import Path

    from django.conf import settings

    anchor_file = settings.AUDIT_ANCHOR_FILE or None
    if anchor_file and not Path(anchor_file).exists():
        anchor_file = None  # nothing anchored outside the database yet
    key = read_key(settings.AUDIT_ANCHOR_KEY_FILE) if anchor_file and settings.AUDIT_ANCHOR_KEY_FILE else None
    report = audit_chain_verify(anchor_file=anchor_file, anchor_key=key)
    if report.ok:
        logger.info("audit chain verified: %s events, head #%s %s", report.checked, report.head_sequence,
                    report.head_hash)
    else:
        logger.error("AUDIT CHAIN BROKEN at event #%s: %s", report.broken_sequence, report.reason)
    return {"ok": report.ok, "checked": report.checked, "head_sequence": report.head_sequence,
            "broken_sequence": report.broken_sequence, "reason": report.reason}


@shared_task
def audit_anchor_task() -> dict:
    anchor = audit_anchor_record()
    return {"head_sequence": anchor.head_sequence, "head_hash": anchor.head_hash} if anchor else {}
