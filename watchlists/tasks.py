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
