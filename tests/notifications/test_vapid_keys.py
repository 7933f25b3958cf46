"""VAPID settings: `manage.py webpush_keys` makes a pair the start-up check accepts; a mismatched pair stops it."""

from __future__ import annotations

import io

from django.core.management import call_command

from notifications.vapid_keys import check_vapid_keys
from tests.notifications.push_keys import vapid_keys


def _web_push_on(settings, public, private, subject="mailto:ops@police.example"):
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private
    settings.WEBPUSH_VAPID_SUBJECT, settings.WEBPUSH_ENABLED = subject, True


def test_the_command_prints_a_pair_the_check_accepts(settings):
    out = io.StringIO()
    call_command("webpush_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    _web_push_on(settings, lines["WEBPUSH_VAPID_PUBLIC_KEY"], lines["WEBPUSH_VAPID_PRIVATE_KEY"])
    assert check_vapid_keys(None) == []


def test_a_public_key_of_another_pair_is_refused(settings):
    _web_push_on(settings, vapid_keys().public, vapid_keys().private)
    assert [e.id for e in check_vapid_keys(None)] == ["notifications.E002"]


def test_a_private_key_that_is_not_one_is_refused(settings):
    _web_push_on(settings, vapid_keys().public, "not-a-key")
    assert [e.id for e in check_vapid_keys(None)] == ["notifications.E001"]


def test_the_subject_must_be_a_contact(settings):
    keys = vapid_keys()
    _web_push_on(settings, keys.public, keys.private, subject="ops team")
    assert [e.id for e in check_vapid_keys(None)] == ["notifications.E003"]


def test_web_push_off_is_not_checked(settings):
    settings.WEBPUSH_ENABLED = False
    settings.WEBPUSH_VAPID_PRIVATE_KEY = "not-a-key"
    assert check_vapid_keys(None) == []
