"""Writing what the public is told about a deployment (the public notice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import RuleViolation
from core.inputs import has_control_characters
from core.policy import enforce
from deployments.models import Deployment
from transparency.models import AREA_MAX_LENGTH, TEXT_MAX_LENGTH, URL_MAX_LENGTH, PublicNotice
from transparency.policies import public_notice_refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_web_address = URLValidator(schemes=["http", "https"])


def _line(value: str, *, what: str, max_length: int, required: bool) -> str:
    """One line of plain text: inner whitespace collapsed, no control characters, within the length."""
    text = " ".join(value.split())
    if required and not text:
        raise RuleViolation(f"the {what} is required")
    if has_control_characters(text):
        raise RuleViolation(f"the {what} must be plain text")
    if len(text) > max_length:
        raise RuleViolation(f"the {what} may be at most {max_length} characters")
    return text


def _paragraphs(value: str, *, what: str, max_length: int, required: bool) -> str:
    """Plain text that may have line breaks (kept as \\n), nothing else below a space."""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    if required and not text.strip():
        raise RuleViolation(f"the {what} is required")
    if has_control_characters(text.replace("\n", "")):
        raise RuleViolation(f"the {what} must be plain text")
    if len(text) > max_length:
        raise RuleViolation(f"the {what} may be at most {max_length} characters")
    return text


def _web_link(value: str) -> str:
    url = value.strip()
    if not url:
        return ""
    if len(url) > URL_MAX_LENGTH:
        raise RuleViolation(f"the web address may be at most {URL_MAX_LENGTH} characters")
    try:
        _web_address(url)
    except ValidationError:
        raise RuleViolation("the web address must be a full http:// or https:// address") from None
    if "@" in url.split("//", 1)[1].split("/", 1)[0]:
        raise RuleViolation("the web address must not carry a user name or password")
    return url


def public_notice_save(*, actor: User, deployment: Deployment, area: str, purpose: str, more_info: str = "",
                       more_info_url: str = "") -> PublicNotice:
    """Write (or rewrite) what the public is told about ``deployment``. Shown once it is authorised."""
    enforce(public_notice_refusal(user=actor, deployment=deployment))
    values = {
        "area": _line(area, what="area", max_length=AREA_MAX_LENGTH, required=True),
        "purpose": _paragraphs(purpose, what="purpose", max_length=TEXT_MAX_LENGTH, required=True),
        "more_info": _paragraphs(more_info, what="\u201chow to find out more\u201d text", max_length=TEXT_MAX_LENGTH,
                                 required=False),
        "more_info_url": _web_link(more_info_url),
    }
    with transaction.atomic():
        notice, created = PublicNotice.objects.update_or_create(
            deployment=deployment, defaults=values | {"published_by": actor, "published_at": timezone.now()})
        audit_record(actor=actor, action=AuditAction.PUBLIC_NOTICE_SAVED, target=deployment, deployment=deployment,
                     details=values | {"created": created})
    return notice
