import datetime as dt

import pytest


@pytest.fixture
def public_world(detective, commander, officer):
    from tests.public_world import build_public_world

    return build_public_world(detective, commander, officer)


@pytest.fixture
def draft(detective):
    """A drafted deployment (no enrolment: quick), planned by `detective`."""
    from django.utils import timezone

    from deployments.services import deployment_create
    from tests.factories import video_camera
    from watchlists.services import watchlist_create

    watchlist = watchlist_create(actor=detective, name="Op Lantern", purpose="Wanted for violent crime")
    starts = timezone.now() + dt.timedelta(days=2)
    return deployment_create(actor=detective, name="High Street Saturday", purpose="crime_hotspot",
                             location="High Street, outside no. 12", location_reason="Robbery hotspot",
                             starts_at=starts, ends_at=starts + dt.timedelta(hours=4), watchlist=watchlist,
                             cameras=[video_camera(detective)], necessity_statement="Serious robbery series",
                             dpia_reference="DPIA-1")
