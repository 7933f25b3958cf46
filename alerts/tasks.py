from celery import shared_task

from alerts import services


@shared_task
def alerts_purge_expired_task() -> int:
    return services.alerts_purge_expired()
