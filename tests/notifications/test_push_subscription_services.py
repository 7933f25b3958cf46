"""notifications.services: a browser subscribing to background alerts, unsubscribing, and the push service
retiring it. Each write is audited, naming the push service but never the endpoint (a capability URL)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from core.errors import RuleViolation
from notifications import services
from notifications.models import PushSubscription
from tests.notifications.push_keys import browser_keys

pytestmark = pytest.mark.django_db

ENDPOINT = "https://fcm.googleapis.com/fcm/send/officer-phone-1"


def _subscribe(actor, endpoint=ENDPOINT, keys=None):
    keys = keys or browser_keys()
    return services.push_subscription_create(actor=actor, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth)


def test_an_officer_subscribes_audited_without_the_endpoint(officer):
    keys = browser_keys()
    subscription = _subscribe(officer, keys=keys)
    assert PushSubscription.objects.get() == subscription
    assert (subscription.user, subscription.p256dh, subscription.auth) == (officer, keys.p256dh, keys.auth)
    event = AuditEvent.objects.get(action="push_subscription.created")
    assert event.actor == officer and event.target_id == str(subscription.pk)
    assert event.details == {"push_service": "fcm.googleapis.com"}
    assert "officer-phone-1" not in str(event.details)


def test_watchers_subscribe_too(commander, oversight):
    _subscribe(commander)
    _subscribe(oversight, endpoint=ENDPOINT + "-b")
    assert PushSubscription.objects.count() == 2


@pytest.mark.parametrize("role", ["detective", "administrator", "outsider"])
def test_a_role_that_sees_no_alerts_is_refused(request, role):
    with pytest.raises(PermissionDenied):
        _subscribe(request.getfixturevalue(role))
    assert not PushSubscription.objects.exists() and not AuditEvent.objects.filter(
        action="push_subscription.created").exists()


def test_a_deactivated_officer_is_refused(officer):
    officer.is_active = False
    officer.save()
    with pytest.raises(PermissionDenied):
        _subscribe(officer)


def test_an_invalid_subscription_is_refused_and_nothing_stored(officer):
    with pytest.raises(RuleViolation, match="https"):
        services.push_subscription_create(actor=officer, endpoint="http://fcm.googleapis.com/x", p256dh="x", auth="y")
    assert not PushSubscription.objects.exists()


def test_sent_again_unchanged_writes_nothing(officer):
    keys = browser_keys()
    first = _subscribe(officer, keys=keys)
    assert _subscribe(officer, keys=keys) == first
    assert AuditEvent.objects.filter(action="push_subscription.created").count() == 1


def test_new_keys_renew_the_subscription(officer):
    first = _subscribe(officer)
    keys = browser_keys()
    renewed = _subscribe(officer, keys=keys)
    assert renewed.pk == first.pk and renewed.p256dh == keys.p256dh
    assert AuditEvent.objects.filter(action="push_subscription.created").last().details["renewed"] is True


def test_the_same_browser_signed_in_as_another_officer_moves_to_them(officer, make_user):
    from accounts.roles import Role

    colleague = make_user(Role.OFFICER, username="pc_green")
    _subscribe(officer)
    moved = _subscribe(colleague)
    assert PushSubscription.objects.get() == moved and moved.user == colleague
    details = AuditEvent.objects.filter(action="push_subscription.created").last().details
    assert details["previous_user"] == officer.pk


def test_an_officer_removes_their_subscription_audited(officer):
    subscription = _subscribe(officer)
    assert services.push_subscription_delete(actor=officer, endpoint=ENDPOINT) is True
    assert not PushSubscription.objects.exists()
    event = AuditEvent.objects.get(action="push_subscription.deleted")
    assert event.actor == officer and event.target_id == str(subscription.pk)


def test_no_one_removes_someone_elses_subscription(officer, commander):
    _subscribe(officer)
    assert services.push_subscription_delete(actor=commander, endpoint=ENDPOINT) is False
    assert PushSubscription.objects.get().user == officer
    assert not AuditEvent.objects.filter(action="push_subscription.deleted").exists()


def test_removing_needs_an_endpoint(officer):
    with pytest.raises(RuleViolation, match="missing"):
        services.push_subscription_delete(actor=officer, endpoint={"endpoint": ENDPOINT})


def test_a_subscription_the_push_service_retired_is_removed_as_a_system_action(officer):
    subscription = _subscribe(officer)
    assert services.push_subscription_expire(subscription_id=subscription.pk, status=410) is True
    assert not PushSubscription.objects.exists()
    event = AuditEvent.objects.get(action="push_subscription.expired")
    assert event.actor is None
    assert event.details == {"push_service": "fcm.googleapis.com", "status": 410, "user": officer.pk}
    assert services.push_subscription_expire(subscription_id=subscription.pk, status=410) is False
