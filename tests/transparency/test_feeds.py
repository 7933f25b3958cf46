"""The public feeds: valid Atom and JSON Feed 1.1, the right types, the same entries as the page and nothing secret."""

import json
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from transparency.services import public_notice_save

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_atom_feed_parses_and_lists_announced_and_ended_deployments(client, detective, public_world):
    public_notice_save(actor=detective, deployment=public_world.upcoming, area="Market Square & <Station Road>",
                       purpose="To find people wanted for robbery")
    response = client.get(reverse("transparency:atom_feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "public" in response["Cache-Control"]
    body = response.content.decode()
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == 4 and len(set(ids)) == 4
    for deployment, kind in ((public_world.upcoming, "notice"), (public_world.live, "notice"),
                             (public_world.completed, "record"), (public_world.stopped, "record")):
        assert any(i.endswith(f"/public/{deployment.pk}/#{kind}") for i in ids), (deployment, kind)
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert any("Market Square & <Station Road>" in t for t in titles)  # text, escaped once by the XML
    summaries = " ".join(e.findtext(f"{ATOM}summary") for e in entries)
    assert "&lt;Station Road&gt;" in summaries  # the summary is HTML: the text is escaped into it
    assert "Faces seen: 1234" in summaries
    for secret in public_world.secrets:
        assert secret not in body
    for hidden in (public_world.draft, public_world.submitted, public_world.rejected, public_world.cancelled):
        assert f"/public/{hidden.pk}/" not in body


def test_the_json_feed(client, public_world):
    response = client.get(reverse("transparency:json_feed"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/feed+json"
    feed = json.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"].endswith("/public/feed.json") and feed["home_page_url"].endswith("/public/")
    items = {item["url"].rstrip("/").rsplit("/", 1)[1]: item for item in feed["items"]}
    assert set(items) == {str(d.pk) for d in (public_world.upcoming, public_world.live, public_world.completed,
                                              public_world.stopped)}
    for item in feed["items"]:
        assert {"id", "url", "title", "content_text", "date_published", "date_modified"} <= item.keys()
    record = items[str(public_world.completed.pk)]["_lfr"]["record"]
    assert record["faces_seen"] == 1234 and record["passers_by"] == 87 and record["alerts"] == 1
    assert {"category": "wanted_by_courts", "label": "Wanted by the courts", "count": 0} in record["arrests_by_category"]
    assert items[str(public_world.upcoming.pk)]["_lfr"]["record"] is None
    for secret in public_world.secrets:
        assert secret not in response.content.decode()
