from celery import shared_task

from core.heartbeat import WINDOW_CHECK_JOB, job_heartbeat_record
from deployments import services


@shared_task
def deployments_tick_task() -> dict:
    result = services.deployments_tick()
    job_heartbeat_record(name=WINDOW_CHECK_JOB)  # the deployment page names a window check that stopped running
    return result


@shared_task
def snapshots_delete_biometrics_task() -> int:
    return services.snapshots_delete_biometrics()
