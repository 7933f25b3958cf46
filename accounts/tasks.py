from celery import shared_task

from accounts.services import login_failures_audit


@shared_task
def login_failures_audit_task() -> int:
    return login_failures_audit()
