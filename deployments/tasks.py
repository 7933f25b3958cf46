from celery import shared_task

from deployments import services


@shared_task
def deployments_tick_task() -> dict:
    return services.deployments_tick()


@shared_task
def snapshots_delete_biometrics_task() -> int:
    return services.snapshots_delete_biometrics()
