"""ALERT_DECISION is checked at start-up: a worker must never start with a rule it cannot build."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.checks import check_alert_decision


def test_the_default_rule_passes(settings):
    assert check_alert_decision(None) == []


@pytest.mark.parametrize("value, reason", [("best-guess", "unknown alert decision"), ("template:keep=0", "at least 1")])
def test_an_unknown_or_invalid_rule_stops_the_checks_with_the_reason(settings, value, reason):
    settings.ALERT_DECISION = value
    errors = check_alert_decision(None)
    assert [e.id for e in errors] == ["config.E001"] and reason in errors[0].msg
    with pytest.raises(SystemCheckError, match="ALERT_DECISION"):
        call_command("check")
