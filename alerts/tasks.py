from celery import shared_task

from alerts import services


@shared_task
def alerts_purge_expired_task() -> int:
    return services.alerts_purge_expired()


@shared_task
def alerts_spool_drain_task() -> dict:
    return services.alerts_spool_drain()


@shared_task
def alert_files_sweep_task() -> dict:
    return services.alert_files_sweep()
