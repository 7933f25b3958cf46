"""manage.py mfa_code: the demo's way through the code step without a phone, never in production."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.services import mfa_enrolment_confirm, mfa_enrolment_start, mfa_verify
from audit.models import AuditEvent
from tests.conftest import mfa_test_device

pytestmark = pytest.mark.django_db


def printed_code(username: str) -> str:
    out = io.StringIO()
    call_command("mfa_code", username, stdout=out)
    return out.getvalue().split()[0]


def test_the_printed_code_is_accepted_and_the_printing_audited(commander):
    mfa_test_device(commander)
    assert mfa_verify(user=commander, token=printed_code(commander.username)).user == commander
    assert AuditEvent.objects.filter(action="mfa.code_shown", target_id=str(commander.pk)).count() == 1


def test_it_also_gives_the_code_of_an_authenticator_being_set_up(commander):
    mfa_enrolment_start(user=commander)
    assert mfa_enrolment_confirm(user=commander, token=printed_code(commander.username)).confirmed


def test_it_refuses_in_production_and_without_an_authenticator(settings, commander):
    with pytest.raises(CommandError, match="sign in as"):
        call_command("mfa_code", commander.username)
    mfa_test_device(commander)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("mfa_code", commander.username)
