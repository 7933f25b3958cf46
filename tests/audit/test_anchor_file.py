"""Anchors outside the database: audit_anchor_record appends signed lines; audit_verify checks the chain and
the lines against each other."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.anchor_file import anchors_read
from audit.services import audit_anchor_record, audit_record

pytestmark = pytest.mark.django_db

KEY = "an-anchor-key-held-only-by-the-anchor-host"


@pytest.fixture
def anchor_file(settings, tmp_path):
    (tmp_path / "anchor.key").write_text(KEY + "\n")
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors" / "anchors.jsonl")
    settings.AUDIT_ANCHOR_KEY_FILE = str(tmp_path / "anchor.key")
    return tmp_path / "anchors" / "anchors.jsonl"


@pytest.fixture
def anchored(detective, anchor_file):
    """Three anchors: after events 2, 4 and 5."""
    for count in (2, 2, 1):
        for _ in range(count):
            audit_record(actor=detective, action="subject.viewed")
        audit_anchor_record()
    return anchor_file


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rewrite(path, entries) -> None:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_each_anchor_is_appended_as_a_signed_line(anchored):
    entries = lines(anchored)
    assert [(e["n"], e["sequence"]) for e in entries] == [(1, 2), (2, 4), (3, 5)]
    assert all(len(e["hmac"]) == 64 for e in entries)
    assert [a.sequence for a in anchors_read(path=anchored, key=KEY.encode())] == [2, 4, 5]


def test_verify_matches_the_chain_with_the_file(anchored, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "audit chain OK: 5 events" in out
    assert "3 anchors matched, signatures checked" in out


def test_without_the_key_the_lines_are_still_matched(anchored, settings, capsys):
    settings.AUDIT_ANCHOR_KEY_FILE = ""
    call_command("audit_verify")
    assert "3 anchors matched, signatures NOT checked (no key given)" in capsys.readouterr().out


def test_a_forged_line_is_named(anchored):
    """Someone who rewrote the database and then the file to match, without the key."""
    entries = lines(anchored)
    entries[1]["hash"] = "f" * 64
    rewrite(anchored, entries)
    with pytest.raises(CommandError, match=r"line 2: the signature does not match"):
        call_command("audit_verify")


def test_a_removed_line_is_named(anchored):
    entries = lines(anchored)
    rewrite(anchored, [entries[0], entries[2]])
    with pytest.raises(CommandError, match=r"line 2 is anchor n=3, expected n=2: lines were removed"):
        call_command("audit_verify")


def test_the_file_can_be_given_on_the_command_line(anchored, settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = ""
    entries = lines(anchored)
    entries[0]["hash"] = "0" * 64
    rewrite(anchored, entries)
    call_command("audit_verify")  # no file configured: nothing to compare with
    with pytest.raises(CommandError, match=r"line 1: the signature does not match"):
        call_command("audit_verify", anchor_file=str(anchored), anchor_key_file=str(tmp_path / "anchor.key"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("audit_verify", anchor_file=str(tmp_path / "missing.jsonl"))


def test_a_host_without_the_key_does_not_write_anchors(detective, anchor_file, settings):
    settings.AUDIT_ANCHOR_KEY_FILE = ""
    audit_record(actor=detective, action="a")
    with pytest.raises(ImproperlyConfigured, match="anchor worker"):
        audit_anchor_record()
    assert not anchor_file.exists()
