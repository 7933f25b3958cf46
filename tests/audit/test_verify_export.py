"""Offline verification of an export: `manage.py audit_verify --export` and the standalone script."""

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import chain, verify_export
from audit.export import export_bundle
from audit.filters import AuditFilter
from audit.log_access import audit_export_record
from audit.services import audit_anchor_record, audit_record, event_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(detective, officer):
    recorded = [
        audit_record(actor=detective, action="subject.viewed", target=("watchlists.subject", 1),
                     details={"name": "Zoë Ødegård 李", "nested": {"list": [1, 2.5, None, {"deep": "€"}], "b": False}}),
        audit_record(actor=officer, action="alert.viewed", deployment=4, details={"emoji": "👮", "tab": "a\tb"}),
        audit_record(actor=None, action="system.purge", details={}),
        audit_record(actor=officer, action="alert.adjudicated", deployment=4, details={"outcome": "no_match"}),
        audit_record(actor=detective, action="subject.viewed", details={"quote": "\"x\",y\nz"}),
    ]
    return recorded


def write_bundle(folder: Path, actor, export_format: str = "csv", filters: AuditFilter | None = None) -> Path:
    filters = filters if filters is not None else AuditFilter()
    export_event = audit_export_record(actor=actor, filters=filters, export_format=export_format)
    path = folder / f"export-{export_format}.zip"
    path.write_bytes(b"".join(export_bundle(filters=filters, export_format=export_format, export_event=export_event)))
    return path


def rewrite(path: Path, member: str, change) -> None:
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents[member] = change(contents[member])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def lines_changed(change):
    def apply(data: bytes) -> bytes:
        lines = data.decode("utf-8").splitlines(keepends=True)
        return "".join(change(lines)).encode("utf-8")
    return apply


def verify_fails(path: Path, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("audit_verify", export=str(path))


def test_both_canonical_forms_give_the_chain_hash_of_real_events(events):
    for event in events:
        fields = event_fields(event)
        assert verify_export.canonical_json(fields) == chain.canonical_json(fields)
        assert verify_export.event_hash(fields) == chain.event_hash(fields) == event.hash
    assert verify_export.HASHED_FIELDS == chain.HASHED_FIELDS
    assert verify_export.GENESIS_HASH == chain.GENESIS_HASH


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
def test_a_good_export_verifies(tmp_path, oversight, events, export_format, capsys):
    path = write_bundle(tmp_path, oversight, export_format)
    call_command("audit_verify", export=str(path))
    assert "export OK: 6 events verified" in capsys.readouterr().out


def test_a_loose_events_file_verifies_with_its_manifest_beside_it(tmp_path, oversight, events, capsys):
    with zipfile.ZipFile(write_bundle(tmp_path, oversight, "jsonl")) as archive:
        archive.extractall(tmp_path / "unpacked")
    call_command("audit_verify", export=str(tmp_path / "unpacked" / "events.jsonl"))
    assert "export OK" in capsys.readouterr().out


def test_an_altered_line_is_named(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "csv")
    # line 1 is the header; event #2 is on line 3
    rewrite(path, "events.csv", lines_changed(lambda lines: lines[:2] + [lines[2].replace("👮", "🕵")] + lines[3:]))
    verify_fails(path, r"BROKEN at line 3 \(event #2\): altered")


def test_an_altered_and_rehashed_line_is_named_by_the_next_link(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "jsonl")

    def forge(lines):
        event = json.loads(lines[1])
        event["actor_username"] = "someone_else"
        event["hash"] = verify_export.event_hash(event)
        return lines[:1] + [verify_export.canonical_json(event) + "\n"] + lines[2:]

    rewrite(path, "events.jsonl", lines_changed(forge))
    verify_fails(path, r"BROKEN at line 3 \(event #3\): does not link to the hash of event #2")


def test_a_deleted_line_is_named(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "jsonl")
    rewrite(path, "events.jsonl", lines_changed(lambda lines: lines[:2] + lines[3:]))
    verify_fails(path, r"BROKEN at line 3 \(event #4\): event #3 is missing")


def test_a_deleted_line_in_a_filtered_export_is_caught_by_the_manifest(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "csv", AuditFilter(action="subject.viewed"))
    rewrite(path, "events.csv", lines_changed(lambda lines: lines[:2]))
    verify_fails(path, r"manifest mismatch: count is 2 in manifest.json but 1 in the events file")


def test_a_deleted_first_line_no_longer_links_to_the_manifest(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "jsonl")
    rewrite(path, "events.jsonl", lines_changed(lambda lines: lines[1:]))
    verify_fails(path, r"BROKEN at line 1 \(event #2\): does not link to the manifest's prev_hash")


def test_a_reordered_line_is_named(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "csv")
    rewrite(path, "events.csv", lines_changed(lambda lines: lines[:2] + [lines[3], lines[2]] + lines[4:]))
    # event #3 now comes first: #2 is missing before it
    verify_fails(path, r"BROKEN at line 3 \(event #3\): event #2 is missing")


def test_a_reordered_line_in_a_filtered_export_is_out_of_order(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "jsonl", AuditFilter(action="s*"))  # events #1, #3, #5
    rewrite(path, "events.jsonl", lines_changed(lambda lines: [lines[0], lines[2], lines[1]]))
    verify_fails(path, r"BROKEN at line 3 \(event #3\): out of order: it follows event #5")


def test_a_manifest_mismatch_is_named(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "jsonl")

    def edit(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["last_hash"] = "f" * 64
        return json.dumps(manifest).encode()

    rewrite(path, "manifest.json", edit)
    verify_fails(path, r"manifest mismatch: last_hash is 'f{64}' in manifest.json")


def test_an_added_trailing_byte_changes_the_sha256(tmp_path, oversight, events):
    path = write_bundle(tmp_path, oversight, "csv")
    rewrite(path, "events.csv", lambda data: data.replace(b"\n", b"\r\n", 1))  # still parses, same content
    verify_fails(path, r"manifest mismatch: events_sha256")


def test_not_an_export(tmp_path):
    path = tmp_path / "nothing.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    verify_fails(path, "no readable manifest.json")


def run_standalone(bundle: Path, folder: Path) -> subprocess.CompletedProcess:
    """The script copied out of the bundle, run by a bare interpreter: -I keeps the project off sys.path."""
    script = folder / "verify_export.py"
    with zipfile.ZipFile(bundle) as archive:
        script.write_bytes(archive.read("verify_export.py"))
    return subprocess.run([sys.executable, "-I", str(script), str(bundle)], cwd=folder, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


def test_the_standalone_script_verifies_a_real_bundle(tmp_path, oversight, events):
    bundle = write_bundle(tmp_path, oversight, "csv")
    good = run_standalone(bundle, tmp_path)
    assert good.returncode == 0, good.stderr
    assert "export OK: 6 events verified" in good.stdout

    rewrite(bundle, "events.csv", lines_changed(lambda lines: lines[:4] + [lines[4].replace("no_match", "match")]
                                                + lines[5:]))
    bad = run_standalone(bundle, tmp_path)
    assert bad.returncode == 1
    assert "BROKEN at line 5 (event #4): altered" in bad.stderr


def test_the_standalone_script_imports_only_the_standard_library():
    tree = ast.parse(Path(verify_export.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names)


def test_anchored_chain_heads_inside_the_range_are_checked_and_listed(tmp_path, oversight, events, capsys):
    anchor = audit_anchor_record()  # the head is the last event of the fixture
    audit_record(actor=oversight, action="subject.viewed")
    path = write_bundle(tmp_path, oversight, "jsonl")

    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert [a["head_sequence"] for a in manifest["anchors"]] == [anchor.head_sequence]
    call_command("audit_verify", export=str(path))
    assert f"event #{anchor.head_sequence} {anchor.head_hash}" in capsys.readouterr().out


def test_an_export_that_disagrees_with_an_anchor_is_named(tmp_path, oversight, events):
    anchor = audit_anchor_record()
    path = write_bundle(tmp_path, oversight, "csv")

    def edit(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["anchors"][0]["head_hash"] = "0" * 64  # as if the exported history differed from the anchor
        return json.dumps(manifest).encode()

    rewrite(path, "manifest.json", edit)
    verify_fails(path, rf"event #{anchor.head_sequence}\): history was rewritten: the chain head anchored")


# --- channel and correlation_id (format 2) -------------------------------------------------------

def test_the_verifier_hashes_channel_and_correlation_id_as_the_chain_does(detective):
    from audit.context import Channel, audit_context

    with audit_context(channel=Channel.API, client_ip="192.0.2.5", correlation_id="req-5"):
        event = audit_record(actor=detective, action="subject.viewed")
    fields = event_fields(event)
    assert verify_export.event_hash(fields) == chain.event_hash(fields) == event.hash
    assert verify_export.HASHED_IF_SET == chain.HASHED_IF_SET
    assert verify_export.COLUMNS == chain.HASHED_FIELDS + chain.HASHED_IF_SET + ("hash",)


def _as_format_1(path: Path) -> None:
    """Rewrite a bundle as the exporter before channel and correlation_id wrote it."""
    import csv
    import hashlib
    import io

    with zipfile.ZipFile(path) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("events.csv").decode("utf-8"))))
    keep = [i for i, name in enumerate(rows[0]) if name not in ("channel", "correlation_id")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([row[i] for i in keep])
    events = buffer.getvalue().encode("utf-8")
    rewrite(path, "events.csv", lambda data: events)

    def manifest(data: bytes) -> bytes:
        content = json.loads(data)
        content["format_version"] = 1
        content["events_sha256"] = hashlib.sha256(events).hexdigest()
        return json.dumps(content).encode()

    rewrite(path, "manifest.json", manifest)


def test_an_export_in_format_1_still_verifies(tmp_path, oversight, events, capsys):
    path = write_bundle(tmp_path, oversight, "csv")
    _as_format_1(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("events.csv").decode().splitlines()[0] == ",".join(verify_export.VERSION_COLUMNS[1])
    call_command("audit_verify", export=str(path))
    assert "export OK: 6 events verified" in capsys.readouterr().out


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
def test_an_altered_channel_or_correlation_id_is_named(tmp_path, oversight, events, export_format):
    from audit.context import Channel, audit_context

    with audit_context(channel=Channel.WEB, client_ip="192.0.2.6", correlation_id="req-original"):
        audit_record(actor=oversight, action="subject.viewed")
    path = write_bundle(tmp_path, oversight, export_format)
    call_command("audit_verify", export=str(path))  # as exported, it holds
    line = 7 if export_format == "csv" else 6  # event #6, after the header in CSV
    rewrite(path, verify_export.EVENT_FILES[export_format],
            lines_changed(lambda lines: [text.replace("req-original", "req-forged") for text in lines]))
    verify_fails(path, rf"BROKEN at line {line} \(event #6\): altered")
