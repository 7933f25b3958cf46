"""watchlists/policies.py: each rule, with the shared role fixtures (unsaved watchlists: the policy reads the
status and who compiled it)."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from watchlists.models import Watchlist
from watchlists.policies import (
    COMPILER_MAY_NOT_APPROVE,
    COMPILER_MAY_NOT_REVIEW,
    COMPILER_NOTICE,
    Action,
    awaiting_approval_by,
    watchlist_actions,
    watchlist_approval_notice,
    watchlist_refusal,
)

pytestmark = pytest.mark.django_db
Status = Watchlist.Status
ROLES = ["detective", "commander", "officer", "oversight", "administrator", "outsider"]


def compiled(compiler, status=Status.DRAFT) -> Watchlist:
    return Watchlist(status=status, compiled_by_id=compiler.pk)


def roles_allowed(request, watchlist, action) -> set[str]:
    return {role for role in ROLES
            if watchlist_refusal(user=request.getfixturevalue(role), watchlist=watchlist, action=action) is None}


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.APPROVED])
def test_compilers_edit_in_any_status(request, detective, status):
    assert roles_allowed(request, compiled(detective, status), Action.EDIT) == {"detective"}


def test_only_a_draft_is_submitted(request, detective):
    assert roles_allowed(request, compiled(detective), Action.SUBMIT) == {"detective"}
    refusal = watchlist_refusal(user=detective, watchlist=compiled(detective, Status.APPROVED), action=Action.SUBMIT)
    assert refusal.by_rule and refusal.reason == "only a draft watchlist can be submitted; this one is approved"


@pytest.mark.parametrize("action", [Action.APPROVE, Action.RETURN])
def test_authorising_officers_approve_or_return_a_submitted_list(request, detective, action):
    assert roles_allowed(request, compiled(detective, Status.SUBMITTED), action) == {"commander"}
    assert roles_allowed(request, compiled(detective, Status.DRAFT), action) == set()


def test_authorising_officers_review_an_approved_list(request, detective):
    assert roles_allowed(request, compiled(detective, Status.APPROVED), Action.REVIEW) == {"commander"}
    refusal = watchlist_refusal(user=request.getfixturevalue("commander"), watchlist=compiled(detective),
                                action=Action.REVIEW)
    assert refusal.by_rule and refusal.reason == "only an approved watchlist can be reviewed"


def test_the_compiler_neither_approves_nor_reviews(make_user):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    assert watchlist_refusal(user=both, watchlist=compiled(both, Status.SUBMITTED),
                             action=Action.APPROVE).reason == COMPILER_MAY_NOT_APPROVE
    assert watchlist_refusal(user=both, watchlist=compiled(both, Status.APPROVED),
                             action=Action.REVIEW).reason == COMPILER_MAY_NOT_REVIEW
    assert watchlist_approval_notice(user=both, watchlist=compiled(both)) == COMPILER_NOTICE
    # Returning a list to draft is no decision in its favour: the compiler may.
    assert watchlist_refusal(user=both, watchlist=compiled(both, Status.SUBMITTED), action=Action.RETURN) is None


def test_a_role_that_cannot_approve_is_refused_by_role(detective):
    refusal = watchlist_refusal(user=detective, watchlist=compiled(detective, Status.SUBMITTED), action=Action.APPROVE)
    assert not refusal.by_rule and "approve a watchlist" in refusal.reason
    assert watchlist_approval_notice(user=detective, watchlist=compiled(detective)) is None


def test_watchlist_actions(detective, commander):
    submitted = compiled(detective, Status.SUBMITTED)
    assert watchlist_actions(user=commander, watchlist=submitted) == {Action.APPROVE, Action.RETURN}
    assert watchlist_actions(user=detective, watchlist=submitted) == {Action.EDIT}


def test_the_approval_queue_filter_is_the_same_rule(detective, commander, make_user):
    both = make_user(Role.DETECTIVE, Role.AUTHORISING_OFFICER)
    lists = [Watchlist.objects.create(name=f"w{i}", purpose="p", compiled_by=compiler, status=status)
             for i, (compiler, status) in enumerate([(detective, Status.SUBMITTED), (both, Status.SUBMITTED),
                                                     (detective, Status.DRAFT), (detective, Status.APPROVED)])]
    for user in (commander, both):
        assert set(Watchlist.objects.filter(awaiting_approval_by(user=user))) == {
            w for w in lists if watchlist_refusal(user=user, watchlist=w, action=Action.APPROVE) is None}


def test_every_action_has_a_gate_and_words_for_the_api():
    from watchlists.policies import ACTION_CAPABILITIES, ACTION_RULES

    assert set(ACTION_CAPABILITIES) == set(ACTION_RULES) == set(Action)
