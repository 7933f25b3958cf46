"""The base of management commands that write audit events (call services): the events carry channel
"command" and one correlation id per run (audit/context.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from audit.context import Channel, audit_context


class AuditedCommand(BaseCommand):
    def execute(self, *args, **options):
        with audit_context(channel=Channel.COMMAND):
            return super().execute(*args, **options)
