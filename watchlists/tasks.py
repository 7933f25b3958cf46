from celery import shared_task

from watchlists import services


@shared_task(acks_late=True)
def reference_images_enrol_task(image_ids: list[int]) -> dict:
    images = services.reference_images_enrol(image_ids=image_ids)
    return {str(image.pk): image.status for image in images}


@shared_task
def subjects_purge_expired_task() -> int:
    return services.subjects_purge_expired()
