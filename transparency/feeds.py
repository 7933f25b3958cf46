"""The public feeds of upcoming deployments and published records: Atom (django.contrib.syndication) and
JSON Feed 1.1 (https://jsonfeed.org/version/1.1), with the figures as the ``_lfr`` extension of each item."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.syndication.views import Feed
from django.http import JsonResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.views.decorators.http import require_safe

from transparency.published import entry_text, entry_title, record_figures
from transparency.selectors import PublicEntry, public_feed_entries
from transparency.views import cache_for_public

FEED_ITEMS = 50  # the announced deployments first, then the latest records
JSON_FEED_TYPE = "application/feed+json"


def _title() -> str:
    return f"Live facial recognition by {settings.FORCE_NAME}"


DESCRIPTION = "Where and when live facial recognition will be used, and what each deployment found."


def _item_id(request, entry: PublicEntry) -> str:
    """A notice and the record that follows it are two items: a reader shows the record as news."""
    url = request.build_absolute_uri(reverse("transparency:deployment", args=[entry.id]))
    return f"{url}#{'notice' if entry.upcoming else 'record'}"


class DeploymentsAtomFeed(Feed):
    feed_type = Atom1Feed
    description = DESCRIPTION

    def __call__(self, request, *args, **kwargs):
        self.request = request
        return cache_for_public(super().__call__(request, *args, **kwargs), request)

    def title(self) -> str:
        return _title()

    def subtitle(self) -> str:
        return DESCRIPTION

    def link(self) -> str:
        return reverse("transparency:index")

    def items(self) -> list[PublicEntry]:
        return public_feed_entries(limit=FEED_ITEMS)

    def item_title(self, item: PublicEntry) -> str:
        return entry_title(item)  # Atom's title is text: the XML writer escapes it

    def item_description(self, item: PublicEntry) -> str:
        return linebreaks(escape(entry_text(item)))  # the summary is HTML: plain text escaped into it

    def item_link(self, item: PublicEntry) -> str:
        return reverse("transparency:deployment", args=[item.id])

    def item_guid(self, item: PublicEntry) -> str:
        return _item_id(self.request, item)

    def item_pubdate(self, item: PublicEntry):
        return item.notice.published_at or item.starts_at

    def item_updateddate(self, item: PublicEntry):
        return item.updated_at


deployments_atom = login_not_required(require_safe(DeploymentsAtomFeed()))


def _json_item(request, entry: PublicEntry) -> dict:
    notice = entry.notice
    return {
        "id": _item_id(request, entry),
        "url": request.build_absolute_uri(reverse("transparency:deployment", args=[entry.id])),
        "title": entry_title(entry),
        "content_text": entry_text(entry),
        "date_published": (notice.published_at or entry.starts_at).isoformat(),
        "date_modified": entry.updated_at.isoformat(),
        "_lfr": {
            "status": entry.status,
            "starts_at": entry.starts_at.isoformat(), "ends_at": entry.ends_at.isoformat(),
            "went_live_at": entry.went_live_at.isoformat() if entry.went_live_at else None,
            "ended_at": entry.ended_at.isoformat() if entry.ended_at else None,
            "area": notice.area, "purpose": notice.purpose,
            "find_out_more": notice.more_info, "find_out_more_url": notice.more_info_url or None,
            "record": record_figures(entry) or None,
        },
    }


@login_not_required
@require_safe
def deployments_json(request):
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _title(),
        "description": DESCRIPTION,
        "home_page_url": request.build_absolute_uri(reverse("transparency:index")),
        "feed_url": request.build_absolute_uri(reverse("transparency:json_feed")),
        "language": "en-GB",
        "items": [_json_item(request, entry) for entry in public_feed_entries(limit=FEED_ITEMS)],
    }
    response = JsonResponse(body, content_type=JSON_FEED_TYPE)
    return cache_for_public(response, request)
