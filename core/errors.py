"""Errors every service may raise; views and the API turn them into clear responses."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["PermissionDenied", "ValidationError", "ConcurrentEditError", "ChangedSinceShown", "RuleViolation", "Gone"]


class RuleViolation(ValidationError):
    """A domain rule refuses the operation (cap reached, self-approval, threshold below the floor...)."""


class ConcurrentEditError(ValidationError):
    """Someone else changed the record since it was read; reload and try again."""

    def __init__(self, what: str):
        super().__init__(f"{what} was changed by someone else since you opened it; reload it and try again",
                         code="concurrent_edit")


class ChangedSinceShown(ConcurrentEditError):
    """What the user decided on changed after their page showed it (a figure, not a record): 409 with the
    message, so they reload, read it again and decide again."""

    def __init__(self, message: str):
        ValidationError.__init__(self, message, code="concurrent_edit")


class Gone(Exception):
    """The record exists but what it points to does not (an image file lost from storage, a purged image):
    410 with the message, not a 500."""
