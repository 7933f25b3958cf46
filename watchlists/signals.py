"""Work the watchlist services hand to the Celery workers, sent once the transaction commits.

watchlists/tasks.py enqueues it (its receivers are connected in ``WatchlistsConfig.ready()``), so the services
and the bulk import, which the tasks call, never import the tasks: no import cycle between them.
"""

from django.dispatch import Signal

# kwargs: image_ids, the reference images to enrol (reference_images_enrol_task).
enrolment_requested = Signal()

# kwargs: import_id, the bulk import to run (bulk_import_run_task).
bulk_import_requested = Signal()
