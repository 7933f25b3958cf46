"""The header's links: each shown by the rule of the page it opens."""

import pytest

from core.policy import Refusal
from deployments import policies

pytestmark = pytest.mark.django_db


def _links(client) -> set[str]:
    html = client.get("/").content.decode()
    return {label for label in ("Authorisations", "Approvals", "Users", "Deployments") if f">{label}</a>" in html}


def test_the_authorisation_queue_link_is_shown_to_those_the_deployment_policy_lets_decide(client_as, commander,
                                                                                         detective):
    assert "Authorisations" in _links(client_as(commander))
    assert "Authorisations" not in _links(client_as(detective))


def test_the_link_follows_a_change_of_who_may_authorise(client_as, commander, detective, monkeypatch):
    # Who may authorise is one function in deployments/policies.py; the link reads it, not a capability of its own.
    def detectives_decide(*, user, action):
        return None if user == detective else Refusal("not a detective")

    monkeypatch.setattr(policies, "deployment_role_refusal", detectives_decide)
    assert "Authorisations" in _links(client_as(detective))
    assert "Authorisations" not in _links(client_as(commander))


def test_capability_links_follow_the_role_table(client_as, commander, administrator):
    assert {"Approvals", "Deployments"} <= _links(client_as(commander)) and "Users" not in _links(client_as(commander))
    assert "Users" in _links(client_as(administrator))


def test_an_anonymous_visitor_gets_no_links(client):
    response = client.get("/", follow=True)
    assert ">Authorisations</a>" not in response.content.decode()
