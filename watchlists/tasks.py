from celery import shared_task

from watchlists import services
from watchlists.bulk_import import bulk_import_run


@shared_task(acks_late=True)
def reference_images_enrol_task(image_ids: list[int]) -> dict:
    images = services.reference_images_enrol(image_ids=image_ids)
    return {str(image.pk): image.status for image in images}


@shared_task
def subjects_purge_expired_task() -> int:
    return services.subjects_purge_expired()


@shared_task(acks_late=True)
def bulk_import_run_task(import_id: int) -> dict:
    job = bulk_import_run(import_id=import_id)
    return {"status": job.status, "enrolled": job.enrolled, "refused": job.refused, "duplicates": job.duplicates}


# Receivers of watchlists/signals.py (connected in WatchlistsConfig.ready()): the services ask, the tasks enqueue.

def enqueue_enrolment(sender, image_ids: list[int], **kwargs) -> None:
    reference_images_enrol_task.delay(image_ids)


def enqueue_bulk_import(sender, import_id: int, **kwargs) -> None:
    bulk_import_run_task.delay(import_id)
