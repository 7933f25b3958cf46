"""What the public pages, feeds and signage show: only deployments the public may know of, in plain words.

Nothing here reads names (of subjects, officers or the deployment itself), images, camera sources or the
watchlist's content: a public entry is built from the notice, the window and the published figures only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from deployments.models import Deployment
from deployments.selectors import access_deployment
from reports.figures import Figures
from reports.selectors import deployments_figures_published
from transparency.models import PublicNotice
from transparency.policies import PUBLIC_RECORD_STATES, PUBLIC_UPCOMING_STATES

State = Deployment.State
UPCOMING_SHOWN_AT_MOST = 100  # authorised in advance: a handful at any time; the cap bounds the page anyway


@dataclass(frozen=True)
class NoticeText:
    """What the public is told: the written notice, or the defaults (location, purpose, the force's contact)."""

    area: str
    purpose: str
    more_info: str
    more_info_url: str
    written: bool  # False: the defaults, nobody has written a notice yet
    published_at: dt.datetime | None = None


@dataclass(frozen=True)
class PublicEntry:
    id: int
    notice: NoticeText
    starts_at: dt.datetime  # the authorised window
    ends_at: dt.datetime
    went_live_at: dt.datetime | None
    ended_at: dt.datetime | None
    status: str  # in words: "upcoming", "live now", "completed", "stopped early"
    figures: Figures | None = None  # the published record, after the deployment ended

    @property
    def upcoming(self) -> bool:
        return self.figures is None

    @property
    def updated_at(self) -> dt.datetime:
        """When what the public reads last changed (the feeds' updated date)."""
        moments = [m for m in (self.ended_at, self.notice.published_at) if m is not None]
        return max(moments) if moments else self.starts_at


def notice_text(*, deployment: Deployment) -> NoticeText:
    """The notice the public reads for ``deployment`` (select_related("public_notice") saves a query)."""
    try:
        notice: PublicNotice | None = deployment.public_notice
    except PublicNotice.DoesNotExist:
        notice = None
    if notice is None:
        return NoticeText(area=deployment.location, purpose=deployment.get_purpose_display(),
                          more_info=settings.PUBLIC_NOTICE_CONTACT, more_info_url=settings.PUBLIC_NOTICE_URL,
                          written=False)
    return NoticeText(area=notice.area, purpose=notice.purpose,
                      more_info=notice.more_info or settings.PUBLIC_NOTICE_CONTACT,
                      more_info_url=notice.more_info_url or ("" if notice.more_info else settings.PUBLIC_NOTICE_URL),
                      written=True, published_at=notice.published_at)


_STATUS = {State.AUTHORISED: "upcoming", State.LIVE: "live now", State.COMPLETED: "completed",
           State.STOPPED: "stopped early"}


def _entry(deployment: Deployment, *, figures: Figures | None = None) -> PublicEntry:
    return PublicEntry(id=deployment.pk, notice=notice_text(deployment=deployment), starts_at=deployment.starts_at,
                       ends_at=deployment.ends_at, went_live_at=deployment.went_live_at, ended_at=deployment.ended_at,
                       status=_STATUS[State(deployment.state)], figures=figures)


def _public() -> QuerySet[Deployment]:
    return Deployment.objects.select_related("public_notice")


def _upcoming(now: dt.datetime) -> QuerySet[Deployment]:
    return _public().filter(state__in=PUBLIC_UPCOMING_STATES, ends_at__gt=now)


def _ended() -> QuerySet[Deployment]:
    return _public().filter(state__in=PUBLIC_RECORD_STATES)


def public_upcoming(*, now: dt.datetime | None = None) -> list[PublicEntry]:
    """Authorised or live deployments whose window has not ended, soonest first."""
    rows = _upcoming(now or timezone.now()).order_by("starts_at", "pk")[:UPCOMING_SHOWN_AT_MOST]
    return [_entry(d) for d in rows]


def public_records() -> QuerySet[Deployment]:
    """Ended deployments (completed, or stopped early), latest first: page it, then ``public_record_entries``."""
    return _ended().order_by(Coalesce("ended_at", "ends_at").desc(), F("pk").desc())


def public_record_entries(deployments) -> list[PublicEntry]:
    """The published record of each ended deployment given (a page of ``public_records``): the figures of all
    of them in a fixed number of queries."""
    deployments = list(deployments)
    figures = deployments_figures_published(deployment_ids=[d.pk for d in deployments])
    return [_entry(d, figures=figures[d.pk]) for d in deployments]


def public_entry(*, id: int, now: dt.datetime | None = None) -> PublicEntry:
    """One deployment as the public sees it; 404 for any the public may not know of."""
    deployment = (_upcoming(now or timezone.now()) | _ended()).filter(pk=id).first()
    if deployment is None:
        raise Http404("no such deployment")
    if deployment.state in PUBLIC_RECORD_STATES:
        return public_record_entries([deployment])[0]
    return _entry(deployment)


def public_upcoming_entry(*, id: int, now: dt.datetime | None = None) -> PublicEntry:
    """An announced deployment not yet ended (the signage is for these); 404 otherwise."""
    deployment = _upcoming(now or timezone.now()).filter(pk=id).first()
    if deployment is None:
        raise Http404("no such deployment")
    return _entry(deployment)


def public_feed_entries(*, limit: int) -> list[PublicEntry]:
    """The feeds: every announced deployment, then the latest published records, ``limit`` in all."""
    upcoming = public_upcoming()[:limit]
    return upcoming + public_record_entries(public_records()[:max(limit - len(upcoming), 0)])


# --- the portal's notice form ----------------------------------------------------------------------

def access_public_notice(*, user, id: int) -> tuple[Deployment, PublicNotice | None]:
    """The deployment (permission-checked, deployments.selectors.access_deployment) and its notice, if written."""
    deployment = access_deployment(user=user, id=id)
    return deployment, PublicNotice.objects.filter(deployment=deployment).first()
