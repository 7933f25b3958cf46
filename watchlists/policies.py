"""Who may do what with a watchlist: compile it, submit it, approve, return or review it. Each rule is here once.

The two-person rule: whoever compiled a watchlist cannot approve or review it. Services enforce these
answers, the approval queue filters with them, the watchlist page shows its controls from them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

from accounts.permissions import capability_refusal
from core.policy import Refusal
from watchlists.models import Watchlist

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Watchlist.Status


class Action(StrEnum):
    """What a user may do to one watchlist."""

    EDIT = "edit"  # add or remove subjects, import: any change returns an approved list to draft
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    REVIEW = "review"


# The capabilities that may ever allow each action: the gate portal views and the API check first.
ACTION_CAPABILITIES: dict[Action, tuple[str, ...]] = {
    Action.EDIT: ("manage_watchlist",),
    Action.SUBMIT: ("manage_watchlist",),
    Action.APPROVE: ("approve_watchlist",),
    Action.RETURN: ("approve_watchlist",),
    Action.REVIEW: ("approve_watchlist",),
}

# Who may do each action, in words: the API's descriptions show these.
ACTION_RULES: dict[Action, str] = {
    Action.EDIT: "Detectives (manage_watchlist). A change to a submitted or approved list returns it to draft.",
    Action.SUBMIT: "Detectives, while the watchlist is a draft and not empty.",
    Action.APPROVE: "An authorising officer who did not compile it, while it is submitted.",
    Action.RETURN: "An authorising officer, while it is submitted; the reasons are recorded.",
    Action.REVIEW: "An authorising officer who did not compile it, while it is approved.",
}

COMPILER_MAY_NOT_APPROVE = "you compiled this watchlist, so someone else must approve it"
COMPILER_MAY_NOT_REVIEW = "you compiled this watchlist, so someone else must review it"
COMPILER_NOTICE = "You compiled this watchlist, so another authorising officer must approve or review it."


def watchlist_role_refusal(*, user: User, action: Action) -> Refusal | None:
    """Whether ``user``'s roles could ever allow ``action``, whatever the watchlist."""
    return capability_refusal(user=user, capabilities=ACTION_CAPABILITIES[action])


def is_compiler(*, user: User, watchlist: Watchlist) -> bool:
    return user.pk is not None and watchlist.compiled_by_id == user.pk


def awaiting_approval_by(*, user: User) -> Q:
    """The watchlists ``user`` may approve, as a filter (the approval queue)."""
    return Q(status=Status.SUBMITTED) & ~Q(compiled_by=user)


def _status(watchlist: Watchlist) -> str:
    return watchlist.get_status_display().lower()


def _rule_refusal(*, user: User, watchlist: Watchlist, action: Action) -> Refusal | None:
    if action == Action.SUBMIT and watchlist.status != Status.DRAFT:
        return Refusal(f"only a draft watchlist can be submitted; this one is {_status(watchlist)}", by_rule=True)
    if action == Action.APPROVE:
        if is_compiler(user=user, watchlist=watchlist):
            return Refusal(COMPILER_MAY_NOT_APPROVE, by_rule=True)
        if watchlist.status != Status.SUBMITTED:
            return Refusal("only a watchlist submitted for approval can be approved", by_rule=True)
    if action == Action.RETURN and watchlist.status != Status.SUBMITTED:
        return Refusal("only a watchlist submitted for approval can be returned", by_rule=True)
    if action == Action.REVIEW:
        if watchlist.status != Status.APPROVED:
            return Refusal("only an approved watchlist can be reviewed", by_rule=True)
        if is_compiler(user=user, watchlist=watchlist):
            return Refusal(COMPILER_MAY_NOT_REVIEW, by_rule=True)
    return None


def watchlist_refusal(*, user: User, watchlist: Watchlist, action: Action) -> Refusal | None:
    """None when ``user`` may do ``action`` to ``watchlist`` as it is now; else why not."""
    return watchlist_role_refusal(user=user, action=action) or _rule_refusal(user=user, watchlist=watchlist, action=action)


def watchlist_actions(*, user: User, watchlist: Watchlist) -> set[Action]:
    """Everything ``user`` may do to ``watchlist`` now: the controls its page shows."""
    return {action for action in Action if watchlist_refusal(user=user, watchlist=watchlist, action=action) is None}


def watchlist_approval_notice(*, user: User, watchlist: Watchlist) -> str | None:
    """Why an authorising officer is offered no decision on this watchlist: they compiled it."""
    if watchlist_role_refusal(user=user, action=Action.APPROVE) is None and is_compiler(user=user, watchlist=watchlist):
        return COMPILER_NOTICE
    return None
