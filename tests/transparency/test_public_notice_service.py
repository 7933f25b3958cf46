"""public_notice_save and its policy: who may write what the public is told, and that it is plain, bounded text."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.roles import Role
from audit.models import AuditEvent
from core.errors import RuleViolation
from deployments.models import Deployment
from transparency.models import PublicNotice
from transparency.policies import public_notice_refusal
from transparency.services import public_notice_save

pytestmark = pytest.mark.django_db


TEXT = {"area": "High Street between the station and the market", "purpose": "To find people wanted for robbery.",
        "more_info": "Call 101 and ask for the LFR team.", "more_info_url": "https://police.example/lfr"}


def test_the_planner_writes_the_notice_and_it_is_audited(detective, draft):
    notice = public_notice_save(actor=detective, deployment=draft, **TEXT)
    assert (notice.area, notice.purpose, notice.more_info, notice.more_info_url) == tuple(TEXT.values())
    assert notice.published_by == detective and notice.published_at is not None
    event = AuditEvent.objects.filter(action="public_notice.saved").get()
    assert event.actor == detective and event.deployment_id == draft.pk
    assert event.details["area"] == TEXT["area"] and event.details["created"] is True


def test_an_authorising_officer_may_rewrite_it_one_notice_per_deployment(detective, commander, draft):
    public_notice_save(actor=detective, deployment=draft, **TEXT)
    public_notice_save(actor=commander, deployment=draft, **(TEXT | {"area": "Market Square"}))
    notice = PublicNotice.objects.get(deployment=draft)
    assert notice.area == "Market Square" and notice.published_by == commander
    assert AuditEvent.objects.filter(action="public_notice.saved").count() == 2


def test_other_people_are_refused(make_user, officer, oversight, draft):
    other_planner = make_user(Role.DETECTIVE, username="det_other")
    for user in (officer, oversight, other_planner):
        assert public_notice_refusal(user=user, deployment=draft) is not None
        with pytest.raises(PermissionDenied):
            public_notice_save(actor=user, deployment=draft, **TEXT)
    assert not PublicNotice.objects.exists()
    assert not AuditEvent.objects.filter(action="public_notice.saved").exists()


@pytest.mark.parametrize("state", [Deployment.State.COMPLETED, Deployment.State.STOPPED, Deployment.State.CANCELLED])
def test_once_ended_what_was_published_stays(commander, draft, state):
    Deployment.objects.filter(pk=draft.pk).update(state=state)
    draft.refresh_from_db()
    refusal = public_notice_refusal(user=commander, deployment=draft)
    assert refusal is not None and refusal.by_rule
    with pytest.raises(RuleViolation, match="ended"):
        public_notice_save(actor=commander, deployment=draft, **TEXT)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("more_info_url", "javascript:alert(1)", "http:// or https://"),
    ("more_info_url", "ftp://police.example/lfr", "http:// or https://"),
    ("more_info_url", "police.example/lfr", "http:// or https://"),
    ("more_info_url", "https://user:secret@police.example/", "user name or password"),
    ("more_info_url", "https://police.example/" + "a" * 500, "at most 500"),
    ("area", "", "area is required"),
    ("area", "x" * 301, "at most 300"),
    ("area", "High Street\x00", "plain text"),
    ("purpose", "   ", "purpose is required"),
    ("purpose", "y" * 1001, "at most 1000"),
    ("more_info", "Call us\x1b[31m", "plain text"),
])
def test_bad_text_is_refused_with_a_reason(detective, draft, field, value, message):
    with pytest.raises(RuleViolation, match=message):
        public_notice_save(actor=detective, deployment=draft, **(TEXT | {field: value}))
    assert not PublicNotice.objects.exists()


def test_text_is_kept_plain_whitespace_tidied_markup_kept_as_text(detective, draft):
    notice = public_notice_save(actor=detective, deployment=draft, area="  High   Street\n", purpose="Line one\r\n\r\nLine  two ",
                                more_info="<b>Call</b> 101", more_info_url="")
    assert notice.area == "High Street"
    assert notice.purpose == "Line one\n\nLine two"
    assert notice.more_info == "<b>Call</b> 101"  # stored as typed; every page escapes it
