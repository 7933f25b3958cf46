"""What both evaluation commands do with a calibration: write it as JSON, store it (audited), and find the actor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


def add_calibration_arguments(parser, *, store_help: str, write_help: str) -> None:
    """--store-calibration, --write-calibration PATH and --actor USERNAME, as both evaluation commands take them."""
    parser.add_argument("--store-calibration", action="store_true", help=store_help)
    parser.add_argument("--write-calibration", default=None, metavar="PATH", help=write_help)
    parser.add_argument("--actor", default=None, metavar="USERNAME",
                        help="the user the stored calibration is recorded against (default: the system)")


def calibration_actor(username: str | None):
    """The active user a stored calibration is recorded against; None: the system."""
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {username!r}")
    return user


def calibration_output(command: BaseCommand, calibration: dict, *, write_to: str | None, store: bool, actor,
                       to_json: Callable[[dict], str], label: str, stored_note: str) -> None:
    if write_to:
        path = Path(write_to)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_json(calibration))
        command.stdout.write(f"wrote {label} {path}")
    if store:
        from recognition.calibration import model_calibration_store

        record = model_calibration_store(actor=actor, calibration=calibration)
        command.stdout.write(f"stored {label} {record.pk} for model {record.model_id}{stored_note.format(record=record)}")
