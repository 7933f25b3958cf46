"""What a policy says when it refuses: a reason a user understands, and whether their role or a rule refused.

Each app's ``policies.py`` answers "may this user do this?" with ``None`` (yes) or a ``Refusal``; services
enforce the answer, views show controls from it. Policies are pure: they read, never write.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PermissionDenied, RuleViolation


@dataclass(frozen=True)
class Refusal:
    reason: str
    # True: the role may do this, but not to this record or not now (400); False: not this role or person (403).
    by_rule: bool = False

    def error(self) -> Exception:
        return RuleViolation(self.reason) if self.by_rule else PermissionDenied(self.reason)


def enforce(refusal: Refusal | None) -> None:
    """Raise the refusal's error (PermissionDenied or RuleViolation); nothing when the policy allows."""
    if refusal is not None:
        raise refusal.error()
