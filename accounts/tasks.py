from celery import shared_task


@shared_task
def login_failures_audit_task() -> int:
    from accounts.services import login_failures_audit

    return login_failures_audit()
