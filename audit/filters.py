"""What the audit log page and an export select: one immutable filter, turned into a query here."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

PREFIX_MARKS = (".", "*")


@dataclass(frozen=True)
class AuditFilter:
    """Every criterion is optional; the ones given are combined with AND.

    `action` ending in "." or "*" is a prefix ("alert." = every alert event), otherwise exact. The page and the
    API take only the known actions and their kinds' prefixes (audit.forms.action_choices).
    `role` matches events whose actor held that role at the time (the roles recorded in the event).
    The period is whole days in the portal's time zone, both ends included.
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    deployment_id: int | None = None
    actor: str = ""
    role: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""

    def as_dict(self) -> dict[str, str | int]:
        """The criteria given, JSON-ready (for the manifest, the export's audit event and links)."""
        values = {}
        for name, value in asdict(self).items():
            if value is None or value == "":
                continue
            values[name] = value.isoformat() if isinstance(value, dt.date) else value
        return values

    def as_query_string(self) -> str:
        names = {"deployment_id": "deployment"}
        return urlencode({names.get(k, k): v for k, v in self.as_dict().items()})

    def q(self) -> Q:
        query = Q()
        zone = timezone.get_current_timezone()
        if self.date_from is not None:
            query &= Q(occurred_at__gte=dt.datetime.combine(self.date_from, dt.time.min, tzinfo=zone))
        if self.date_to is not None:
            day_after = self.date_to + dt.timedelta(days=1)
            query &= Q(occurred_at__lt=dt.datetime.combine(day_after, dt.time.min, tzinfo=zone))
        if self.deployment_id is not None:
            query &= Q(deployment_id=self.deployment_id)
        if self.actor:
            query &= Q(actor_username=self.actor)
        if self.role:
            query &= Q(actor_roles__contains=[self.role])
        if self.action:
            if self.action.endswith(PREFIX_MARKS):
                query &= Q(action__startswith=self.action.rstrip("*"))
            else:
                query &= Q(action=self.action)
        if self.target_type:
            query &= Q(target_type=self.target_type)
        if self.target_id:
            query &= Q(target_id=self.target_id)
        return query
