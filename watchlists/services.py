"""Watchlist curation: subjects, reference images and enrolment, watchlists and their approval, retention."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.permissions import require_capability
from audit.actions import AuditAction
from audit.services import audit_record
from core.errors import ConcurrentEditError, Gone, RuleViolation
from core.policy import enforce
from recognition.ml.images import ImageError, decode_image
from recognition.runtime import enrolment_policy, face_engine
from watchlists.ages import age_on
from watchlists.categories import category_problems, category_rules
from watchlists.face_outline import outline_face
from watchlists.models import (
    InclusionCategory,
    Priority,
    ReferenceImage,
    Subject,
    WarningMarker,
    Watchlist,
    WatchlistEntry,
)
from watchlists.policies import Action, watchlist_refusal, watchlist_role_refusal
from watchlists.quality_words import face_box
from watchlists.selectors import (
    enrolment_model_id,
    reference_images_nearest,
    subjects_breaking_category_rules,
    subjects_without_enrolled_image,
)
from watchlists.signals import enrolment_requested
from watchlists.storage import protected_delete, protected_read, protected_read_for_person, protected_save

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

AUDITED_REFERENCES = 500  # subject references named in one audit event; the count is always whole
DOMINANT_FACE_AREA_RATIO = 2.0  # largest face at least twice the next: a bystander, not a group
SUBJECT_EDITABLE_FIELDS = frozenset({
    "name", "date_of_birth", "under_18_justification", "category", "reason", "legal_basis", "priority",
    "review_date", "expires_on", "warning_markers", "engagement_instructions", "exceptional_justification",
})


def _today() -> dt.date:
    return timezone.localdate()


def warning_markers_clean(markers) -> list[str]:
    """The markers as stored: known codes only (an unknown one is refused, naming it), each once, in list order."""
    if isinstance(markers, str) or not all(isinstance(m, str) for m in markers):
        raise RuleViolation("warning markers are a list of codes")
    codes = [m.strip() for m in markers if m.strip()]
    unknown = sorted(set(codes) - set(WarningMarker.values))
    if unknown:
        raise RuleViolation(f"unknown warning marker(s) {', '.join(unknown)}; known: {', '.join(WarningMarker.values)}")
    return [code for code in WarningMarker.values if code in codes]


def _validate_subject(values: dict) -> None:
    if values["category"] not in InclusionCategory.values:
        raise RuleViolation(f"inclusion category must be one of: {', '.join(InclusionCategory.values)}")
    if values["priority"] not in Priority.values:
        raise RuleViolation(f"priority must be one of: {', '.join(Priority.values)}")
    values["warning_markers"] = warning_markers_clean(values.get("warning_markers") or [])
    for field, label in (("name", "name"), ("reason", "a written reason"), ("legal_basis", "the legal basis")):
        if not str(values.get(field) or "").strip():
            raise RuleViolation(f"{label} is required")
    today = _today()
    dob = values.get("date_of_birth")
    if dob is not None:
        if dob > today:
            raise RuleViolation("date of birth is in the future")
        if age_on(dob, today) < 18 and values["category"] == InclusionCategory.TEST_SUBJECT:
            raise RuleViolation("a test subject is a consenting adult member of staff: not under 18")
        if age_on(dob, today) < 18 and not str(values.get("under_18_justification") or "").strip():
            raise RuleViolation("this subject is under 18: an additional recorded justification is required")
    if values["expires_on"] <= today:
        raise RuleViolation("the expiry date must be in the future")
    if values["review_date"] > values["expires_on"]:
        raise RuleViolation("the review date must not be after the expiry date")
    problems = category_problems(values, written_on=today)  # a write now: the limits count from today
    if problems:
        raise RuleViolation(problems)


def subject_create(*, actor: User, reference: str, name: str, category: str, reason: str, legal_basis: str,
                   priority: str = Priority.MEDIUM, date_of_birth: dt.date | None = None,
                   under_18_justification: str = "", review_date: dt.date | None = None,
                   expires_on: dt.date | None = None, warning_markers: Sequence[str] = (),
                   engagement_instructions: str = "", exceptional_justification: str = "") -> Subject:
    """A subject, its review date and expiry by default the settings' or the category's longest, the shorter."""
    require_capability(user=actor, capability="manage_watchlist")
    today = _today()
    rules = category_rules(category)
    values = {
        "reference": reference.strip(), "name": name.strip(), "category": category, "reason": reason.strip(),
        "legal_basis": legal_basis.strip(), "priority": priority, "date_of_birth": date_of_birth,
        "under_18_justification": under_18_justification.strip(),
        "review_date": review_date or (rules.default_review_date(today) if rules else
                                       today + dt.timedelta(days=settings.SUBJECT_REVIEW_DAYS)),
        "expires_on": expires_on or (rules.default_expiry(today) if rules else
                                     today + dt.timedelta(days=settings.SUBJECT_RETENTION_DAYS)),
        "warning_markers": list(warning_markers), "engagement_instructions": engagement_instructions.strip(),
        "exceptional_justification": exceptional_justification.strip(),
    }
    if not values["reference"]:
        raise RuleViolation("a subject reference (PNC or case id) is required")
    _validate_subject(values)
    with transaction.atomic():
        if Subject.objects.filter(reference=values["reference"]).exists():
            raise RuleViolation(f"a subject with reference {values['reference']} already exists")
        subject = Subject.objects.create(added_by=actor, **values)
        audit_record(actor=actor, action=AuditAction.SUBJECT_CREATED, target=subject, details={
            "reference": subject.reference, "category": subject.category, "legal_basis": subject.legal_basis,
            "under_18": bool(date_of_birth and age_on(date_of_birth, today) < 18),
            "warning_markers": subject.warning_markers, "engagement_instructions": subject.engagement_instructions,
        })
    return subject


def subject_update(*, actor: User, subject: Subject, expected_version: int, changes: dict) -> Subject:
    require_capability(user=actor, capability="manage_watchlist")
    unknown = set(changes) - SUBJECT_EDITABLE_FIELDS
    if unknown:
        raise RuleViolation(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    if subject.status != Subject.Status.ACTIVE:
        raise RuleViolation("a purged subject cannot be edited")
    changes = {k: v.strip() if isinstance(v, str) and k != "category" else v for k, v in changes.items()}
    values = {f: getattr(subject, f) for f in SUBJECT_EDITABLE_FIELDS} | changes
    _validate_subject(values)
    if "warning_markers" in changes:
        changes["warning_markers"] = values["warning_markers"]
    with transaction.atomic():
        watchlists_return_to_draft(actor=actor, subjects=[subject], why=f"subject {subject.reference} was edited")
        updated = Subject.objects.filter(pk=subject.pk, version=expected_version).update(
            **changes, version=F("version") + 1, updated_at=timezone.now())
        if not updated:
            raise ConcurrentEditError(f"subject {subject.reference}")
        subject.refresh_from_db()
        after = {k: getattr(subject, k) if k == "warning_markers" else str(getattr(subject, k)) for k in changes}
        audit_record(actor=actor, action=AuditAction.SUBJECT_UPDATED, target=subject,
                     details={"fields": sorted(changes), "after": after})
    return subject


def watchlists_return_to_draft(*, actor: User | None, why: str, subjects: Sequence[Subject] = (),
                               watchlists: Sequence[Watchlist] = ()) -> list[Watchlist]:
    """The one rule: whatever changes what a watchlist would freeze at authorisation (its entries, their
    subjects' details, which of their images are enrolled) sends it back to draft for a fresh approval.

    Covers the given watchlists and every watchlist holding one of ``subjects``; ``watchlists`` instances are
    updated in place. Call it first in the transaction of the change: it locks the watchlists, and every lock
    taken after it (the subject, the images, the audit chain's) comes in the order watchlist_approve and
    deployment_authorise take them, so the two cannot deadlock."""
    given = {w.pk: w for w in watchlists}
    holding = Q(pk__in=list(given))
    if subjects:
        holding |= Q(pk__in=WatchlistEntry.objects.filter(subject__in=subjects).values("watchlist_id"))
    returned = []
    # Drafts are locked too: a submission in flight is waited for and its outcome read, not the draft before it.
    for locked in Watchlist.objects.select_for_update().filter(holding).order_by("pk"):
        if locked.status == Watchlist.Status.DRAFT:
            continue
        watchlist = given.get(locked.pk, locked)
        watchlist.status = Watchlist.Status.DRAFT
        watchlist.approved_by = None
        watchlist.approved_at = None
        watchlist.version = locked.version + 1
        watchlist.save(update_fields=["status", "approved_by", "approved_at", "version", "updated_at"])
        audit_record(actor=actor, action=AuditAction.WATCHLIST_RETURNED_TO_DRAFT, target=watchlist,
                     details={"previous_status": locked.status, "why": why})
        returned.append(watchlist)
    return returned


# --- reference images and enrolment -------------------------------------------------------------

def reference_image_add(*, actor: User, subject: Subject, data: bytes, image_source: str, original_name: str = "",
                        capture_date: dt.date | None = None, use_largest_face: bool = False,
                        enrol: bool = True) -> ReferenceImage:
    """Check the upload is a usable image, store it outside any public URL, queue enrolment."""
    require_capability(user=actor, capability="manage_watchlist")
    if subject.status != Subject.Status.ACTIVE:
        raise RuleViolation("images cannot be added to a purged subject")
    if not image_source.strip():
        raise RuleViolation("the image source (e.g. custody image reference) is required")
    if capture_date and capture_date > _today():
        raise RuleViolation("the capture date is in the future")
    if len(data) > settings.REFERENCE_IMAGE_MAX_BYTES:
        raise RuleViolation(f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                            f"{settings.REFERENCE_IMAGE_MAX_BYTES / 1e6:.0f} MB")
    try:
        pixels = decode_image(data, max_pixels=settings.REFERENCE_IMAGE_MAX_PIXELS)
    except ImageError as exc:
        raise RuleViolation(str(exc)) from exc
    name, sha256 = protected_save(data=data, folder=f"subjects/{subject.pk}", suffix=".img")
    try:
        with transaction.atomic():
            watchlists_return_to_draft(actor=actor, subjects=[subject],
                                       why=f"a reference image was added to {subject.reference}")
            image = ReferenceImage.objects.create(
                subject=subject, file_name=name, sha256=sha256, original_name=original_name[:255],
                image_source=image_source.strip(), capture_date=capture_date, width=pixels.shape[1],
                height=pixels.shape[0], uploaded_by=actor, use_largest_face=use_largest_face,
            )
            audit_record(actor=actor, action=AuditAction.REFERENCE_IMAGE_ADDED, target=image,
                         details={"subject": subject.reference, "sha256": sha256, "source": image.image_source})
            if enrol:
                transaction.on_commit(lambda: enrolment_requested.send(sender=ReferenceImage, image_ids=[image.pk]))
    except BaseException:
        protected_delete(name)  # nothing half-saved: no orphan file without its row
        raise
    return image


def reference_images_enrol(*, image_ids: Sequence[int]) -> list[ReferenceImage]:
    """Quality gate, one face, duplicate check, embedding: batched across images through the engine."""

    images = list(ReferenceImage.objects.select_related("subject").filter(
        pk__in=image_ids, status=ReferenceImage.Status.PENDING))
    if not images:
        return []
    engine = face_engine()
    frames, decodable = [], []
    for image in images:
        try:
            frames.append(decode_image(protected_read(image.file_name), max_pixels=settings.REFERENCE_IMAGE_MAX_PIXELS))
            decodable.append(image)
        except (ImageError, OSError) as exc:
            _enrolment_finish(image, status=ReferenceImage.Status.REFUSED, reasons=[str(exc)])
    results = engine.embed_reference_images(frames, policy=enrolment_policy())
    for image, result in zip(decodable, results, strict=True):
        _enrolment_decide(image=image, result=result)
    return images


def _enrolment_decide(*, image: ReferenceImage, result) -> None:
    warnings: list[str] = []
    if result.face is None:
        _enrolment_finish(image, status=ReferenceImage.Status.REFUSED, reasons=result.refusal_reasons, face_count=0)
        return
    quality: dict = {k: round(float(v), 3) for k, v in vars(result.face.quality).items()}
    quality["bbox"] = _face_box(result.face.box, image)  # shown outlined when the largest of several was used
    # A bystander far smaller than the subject is no ambiguity; faces of similar size are.
    dominant = result.face.area >= DOMINANT_FACE_AREA_RATIO * result.runner_up_area
    if result.several_faces and not (image.use_largest_face or dominant):
        _enrolment_finish(image, status=ReferenceImage.Status.REFUSED, face_count=result.face_count, reasons=[
            f"{result.face_count} faces found in the image: crop it to the subject's face, or choose to "
            f"enrol the largest face"])
        return
    if result.several_faces:
        warnings.append(f"{result.face_count} faces in the image: the largest was used; check it is the subject")

    if image.capture_date and (_today() - image.capture_date).days > settings.REFERENCE_IMAGE_MAX_AGE_DAYS:
        warnings.append(f"the image was taken on {image.capture_date:%d %b %Y}, more than "
                        f"{settings.REFERENCE_IMAGE_MAX_AGE_DAYS // 365} years ago: replace it with a recent one")
    if result.refusal_reasons:
        _enrolment_finish(image, status=ReferenceImage.Status.REFUSED, reasons=result.refusal_reasons,
                          warnings=warnings, quality=quality, face_count=result.face_count)
        return
    embedding = np.asarray(result.embedding, dtype=np.float32)
    duplicate = _closest_other_subject(embedding=embedding, subject_id=image.subject_id, model_id=result.model_id)
    status = ReferenceImage.Status.ENROLLED
    if duplicate is not None and duplicate[1] >= settings.DUPLICATE_SIMILARITY:
        status = ReferenceImage.Status.DUPLICATE
    _enrolment_finish(image, status=status, warnings=warnings, quality=quality, face_count=result.face_count,
                      embedding=embedding, model_id=result.model_id,
                      duplicate=duplicate if status == ReferenceImage.Status.DUPLICATE else None)


def _face_box(box, image: ReferenceImage) -> list[int]:
    """The face's box in whole image pixels, inside the image (a tight crop's box can reach past its edges)."""
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    width, height = image.width or x2, image.height or y2
    return [max(0, x1), max(0, y1), min(width, x2), min(height, y2)]


def _closest_other_subject(*, embedding: np.ndarray, subject_id: int, model_id: str) -> tuple[Subject, float] | None:
    nearest = reference_images_nearest(embedding=embedding, model_id=model_id, exclude_subject_id=subject_id, limit=1)
    if not nearest:
        return None
    image, similarity = nearest[0]
    return image.subject, similarity


ENROLMENT_ACTIONS: dict[str, AuditAction] = {
    ReferenceImage.Status.ENROLLED: AuditAction.REFERENCE_IMAGE_ENROLLED,
    ReferenceImage.Status.REFUSED: AuditAction.REFERENCE_IMAGE_REFUSED,
    ReferenceImage.Status.DUPLICATE: AuditAction.REFERENCE_IMAGE_DUPLICATE,
}


def _enrolment_finish(image: ReferenceImage, *, status: str, reasons: list[str] | None = None,
                      warnings: list[str] | None = None, quality: dict | None = None, face_count: int | None = None,
                      embedding: np.ndarray | None = None, model_id: str = "",
                      duplicate: tuple[Subject, float] | None = None) -> None:
    with transaction.atomic():
        if status == ReferenceImage.Status.ENROLLED:
            # The upload already returned the watchlists to draft, but one may have been approved while
            # this image was waiting: the approver never saw it enrolled.
            watchlists_return_to_draft(actor=None, subjects=[image.subject],
                                       why=f"an image of {image.subject.reference} was enrolled")
        image.status = status
        image.refusal_reasons = reasons or []
        image.warnings = warnings or []
        image.quality = quality or {}
        image.face_count = face_count
        image.embedding = embedding
        image.model_id = model_id
        image.duplicate_of, image.duplicate_score = (duplicate[0], round(duplicate[1], 4)) if duplicate else (None, None)
        image.enrolled_at = timezone.now() if status == ReferenceImage.Status.ENROLLED else None
        image.save()
        details = {"subject": image.subject.reference, "status": status, "reasons": image.refusal_reasons,
                   "warnings": image.warnings, "model_id": model_id}
        if duplicate:
            details |= {"duplicate_of": duplicate[0].reference, "similarity": image.duplicate_score}
        audit_record(actor=None, action=ENROLMENT_ACTIONS[status], target=image, details=details)


def reference_image_confirm_duplicate(*, actor: User, image: ReferenceImage, justification: str) -> ReferenceImage:
    """A detective confirms a flagged image really is this subject (e.g. twins, a known alias)."""
    require_capability(user=actor, capability="manage_watchlist")
    if image.status != ReferenceImage.Status.DUPLICATE:
        raise RuleViolation("only an image flagged as a possible duplicate needs confirmation")
    if not justification.strip():
        raise RuleViolation("say why this image is enrolled despite looking like another subject")
    with transaction.atomic():
        watchlists_return_to_draft(actor=actor, subjects=[image.subject],
                                   why=f"a flagged image of {image.subject.reference} was confirmed and enrolled")
        image.status = ReferenceImage.Status.ENROLLED
        image.enrolled_at = timezone.now()
        image.warnings = [*image.warnings, f"confirmed despite similarity to {image.duplicate_of}: {justification}"]
        image.save(update_fields=["status", "enrolled_at", "warnings"])
        audit_record(actor=actor, action=AuditAction.REFERENCE_IMAGE_DUPLICATE_CONFIRMED, target=image,
                     details={"justification": justification, "duplicate_of": getattr(image.duplicate_of, "reference", None)})
    return image


def reference_image_delete(*, actor: User, image: ReferenceImage) -> None:
    require_capability(user=actor, capability="manage_watchlist")
    with transaction.atomic():
        subject = image.subject
        watchlists_return_to_draft(actor=actor, subjects=[subject],
                                   why=f"a reference image of {subject.reference} was deleted")
        audit_record(actor=actor, action=AuditAction.REFERENCE_IMAGE_DELETED, target=image,
                     details={"subject": subject.reference, "sha256": image.sha256})
        file_name = image.file_name
        image.delete()
        transaction.on_commit(lambda: protected_delete(file_name))


# --- watchlists ---------------------------------------------------------------------------------

def watchlist_create(*, actor: User, name: str, purpose: str) -> Watchlist:
    require_capability(user=actor, capability="manage_watchlist")
    if not name.strip() or not purpose.strip():
        raise RuleViolation("a watchlist needs a name and a purpose")
    with transaction.atomic():
        watchlist = Watchlist.objects.create(name=name.strip(), purpose=purpose.strip(), compiled_by=actor)
        audit_record(actor=actor, action=AuditAction.WATCHLIST_CREATED, target=watchlist,
                     details={"name": watchlist.name})
    return watchlist


def _locked(watchlist: Watchlist, expected_version: int | None) -> Watchlist:
    locked = Watchlist.objects.select_for_update().get(pk=watchlist.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConcurrentEditError(f"watchlist {locked.name}")
    return locked


def watchlist_subjects_add(*, actor: User, watchlist: Watchlist, subjects: Sequence[Subject],
                           expected_version: int | None = None) -> int:
    require_capability(user=actor, capability="manage_watchlist")
    with transaction.atomic():
        watchlist = _locked(watchlist, expected_version)
        existing = set(watchlist.entries.values_list("subject_id", flat=True))
        new = [s for s in subjects if s.pk not in existing]
        if any(s.status != Subject.Status.ACTIVE for s in new):
            raise RuleViolation("purged subjects cannot be added to a watchlist")
        if len(existing) + len(new) > settings.WATCHLIST_MAX_SUBJECTS:
            raise RuleViolation(f"a watchlist holds at most {settings.WATCHLIST_MAX_SUBJECTS} subjects; this one has "
                                f"{len(existing)} and {len(new)} more were asked for")
        WatchlistEntry.objects.bulk_create([WatchlistEntry(watchlist=watchlist, subject=s, added_by=actor) for s in new])
        if new:
            watchlists_return_to_draft(actor=actor, watchlists=[watchlist], why="subjects were added")
            watchlist.version += 1
            watchlist.save(update_fields=["version", "updated_at"])
            audit_record(actor=actor, action=AuditAction.WATCHLIST_SUBJECTS_ADDED, target=watchlist,
                         details={"subjects": [s.reference for s in new]})
    return len(new)


def watchlist_subject_remove(*, actor: User, watchlist: Watchlist, subject: Subject) -> None:
    require_capability(user=actor, capability="manage_watchlist")
    with transaction.atomic():
        watchlist = _locked(watchlist, None)
        deleted, _ = WatchlistEntry.objects.filter(watchlist=watchlist, subject=subject).delete()
        if not deleted:
            raise RuleViolation(f"{subject.reference} is not on this watchlist")
        watchlists_return_to_draft(actor=actor, watchlists=[watchlist], why=f"{subject.reference} was removed")
        watchlist.version += 1
        watchlist.save(update_fields=["version", "updated_at"])
        audit_record(actor=actor, action=AuditAction.WATCHLIST_SUBJECT_REMOVED, target=watchlist,
                     details={"subject": subject.reference})


def watchlist_submit(*, actor: User, watchlist: Watchlist) -> Watchlist:
    enforce(watchlist_role_refusal(user=actor, action=Action.SUBMIT))
    with transaction.atomic():
        watchlist = _locked(watchlist, None)
        enforce(watchlist_refusal(user=actor, watchlist=watchlist, action=Action.SUBMIT))
        if not watchlist.entries.exists():
            raise RuleViolation("the watchlist is empty")
        watchlist.status = Watchlist.Status.SUBMITTED
        watchlist.save(update_fields=["status", "updated_at"])
        # Submitting is allowed; the approver is shown them and must acknowledge them.
        unenrolled = [s.reference for s in subjects_without_enrolled_image(
            watchlist=watchlist, model_id=enrolment_model_id())]
        audit_record(actor=actor, action=AuditAction.WATCHLIST_SUBMITTED, target=watchlist,
                     details={"subjects": watchlist.entries.count(), "version": watchlist.version,
                              "without_enrolled_image": len(unenrolled),
                              "without_enrolled_image_references": unenrolled[:AUDITED_REFERENCES]})
    return watchlist


def _listed(references: Sequence[str], limit: int = 10) -> str:
    more = len(references) - limit
    return ", ".join(references[:limit]) + (f" and {more} more" if more > 0 else "")


def watchlist_approve(*, actor: User, watchlist: Watchlist, expected_version: int | None = None,
                      unenrolled_acknowledged: bool = False) -> Watchlist:
    """Two-person rule: compiled by one person, approved by an authorising officer who is someone else.

    Refused while an entry breaks its category's rules (watchlists/categories.py), naming them; entries with no
    image enrolled with the current model (left out of any snapshot) need ``unenrolled_acknowledged``."""
    enforce(watchlist_role_refusal(user=actor, action=Action.APPROVE))
    with transaction.atomic():
        watchlist = _locked(watchlist, expected_version)
        enforce(watchlist_refusal(user=actor, watchlist=watchlist, action=Action.APPROVE))
        breaking = subjects_breaking_category_rules(watchlist=watchlist)
        if breaking:
            raise RuleViolation(
                f"{len(breaking)} subject(s) break their category's rules and must be fixed (and the list "
                f"submitted again) before approval: " + "; ".join(
                    f"{subject.reference}: {' / '.join(problems)}" for subject, problems in breaking[:10])
                + (f"; and {len(breaking) - 10} more" if len(breaking) > 10 else ""))
        unenrolled = [s.reference for s in subjects_without_enrolled_image(
            watchlist=watchlist, model_id=enrolment_model_id())]
        if unenrolled and not unenrolled_acknowledged:
            raise RuleViolation(
                f"{len(unenrolled)} subject(s) have no image enrolled with the current model and will not be "
                f"matched ({_listed(unenrolled)}): acknowledge this to approve, or return the list")
        now = timezone.now()
        watchlist.status = Watchlist.Status.APPROVED
        watchlist.approved_by = actor
        watchlist.approved_at = now
        watchlist.reviewed_at = now
        watchlist.save(update_fields=["status", "approved_by", "approved_at", "reviewed_at", "updated_at"])
        audit_record(actor=actor, action=AuditAction.WATCHLIST_APPROVED, target=watchlist,
                     details={"subjects": watchlist.entries.count(), "version": watchlist.version,
                              "without_enrolled_image": len(unenrolled),
                              "without_enrolled_image_references": unenrolled[:AUDITED_REFERENCES]})
    return watchlist


def watchlist_reject(*, actor: User, watchlist: Watchlist, reasons: str) -> Watchlist:
    enforce(watchlist_role_refusal(user=actor, action=Action.RETURN))
    if not reasons.strip():
        raise RuleViolation("say why the watchlist is returned")
    with transaction.atomic():
        watchlist = _locked(watchlist, None)
        enforce(watchlist_refusal(user=actor, watchlist=watchlist, action=Action.RETURN))
        watchlists_return_to_draft(actor=actor, watchlists=[watchlist], why=reasons)
        audit_record(actor=actor, action=AuditAction.WATCHLIST_REJECTED, target=watchlist,
                     details={"reasons": reasons.strip(), "version": watchlist.version})
    return watchlist


def watchlist_review(*, actor: User, watchlist: Watchlist, note: str = "") -> Watchlist:
    """The approver confirms an approved watchlist is still necessary before another deployment."""
    enforce(watchlist_role_refusal(user=actor, action=Action.REVIEW))
    with transaction.atomic():
        watchlist = _locked(watchlist, None)
        enforce(watchlist_refusal(user=actor, watchlist=watchlist, action=Action.REVIEW))
        watchlist.reviewed_at = timezone.now()
        watchlist.save(update_fields=["reviewed_at", "updated_at"])
        audit_record(actor=actor, action=AuditAction.WATCHLIST_REVIEWED, target=watchlist, details={"note": note})
    return watchlist


# --- a new subject, whole: record, watchlist entry, photos ------------------------------------

@dataclass(frozen=True)
class ReferenceImageUpload:
    """A photo to add with a new subject: what reference_image_add takes besides the subject."""

    data: bytes
    image_source: str
    original_name: str = ""
    capture_date: dt.date | None = None
    use_largest_face: bool = False


def subject_enrol(*, actor: User, reference: str, name: str, category: str, reason: str, legal_basis: str,
                  priority: str = Priority.MEDIUM, date_of_birth: dt.date | None = None,
                  under_18_justification: str = "", review_date: dt.date | None = None,
                  expires_on: dt.date | None = None, warning_markers: Sequence[str] = (),
                  engagement_instructions: str = "", exceptional_justification: str = "",
                  watchlist: Watchlist | None = None, watchlist_version: int | None = None,
                  images: Sequence[ReferenceImageUpload] = (), enrol: bool = True) -> Subject:
    """Create a subject, put it on ``watchlist`` and add its photos, as one transaction: refused anywhere
    (a rule of the subject, a full or concurrently edited watchlist, a bad photo), nothing is left behind:
    no subject, no entry, no image record and no file in protected storage.

    Each part is its service and writes its events: subject.created, then (with a watchlist)
    watchlist.returned_to_draft if it was not a draft and watchlist.subjects_added, then
    reference_image.added per photo. ``watchlist_version``: the version the caller read (a list changed
    since is a ConcurrentEditError); None, not checked. With ``enrol``, each photo's enrolment task is
    queued after commit; without it the caller enrols them itself (bulk import does, in batches)."""
    require_capability(user=actor, capability="manage_watchlist")
    stored: list[str] = []
    try:
        with transaction.atomic():
            if watchlist is not None:
                # Locked before anything else (the audit chain's lock included), as watchlist_approve takes
                # them: else an approval between the subject and its entry would deadlock with this.
                _locked(watchlist, watchlist_version)
            subject = subject_create(
                actor=actor, reference=reference, name=name, category=category, reason=reason,
                legal_basis=legal_basis, priority=priority, date_of_birth=date_of_birth,
                under_18_justification=under_18_justification, review_date=review_date, expires_on=expires_on,
                warning_markers=warning_markers, engagement_instructions=engagement_instructions,
                exceptional_justification=exceptional_justification)
            if watchlist is not None:
                watchlist_subjects_add(actor=actor, watchlist=watchlist, subjects=[subject],
                                       expected_version=watchlist_version)
            for upload in images:  # last: each stores a file (and removes it itself when refused)
                image = reference_image_add(actor=actor, subject=subject, enrol=enrol, **asdict(upload))
                stored.append(image.file_name)
    except BaseException:
        # A later photo refused rolls back the earlier ones' records: their files go with them.
        for file_name in stored:
            protected_delete(file_name)
        raise
    return subject


# --- retention ----------------------------------------------------------------------------------

def subject_purge(*, actor: User | None, subject: Subject, why: str) -> int:
    """Delete every image and embedding of a subject; the subject row stays as a non-biometric record."""
    with transaction.atomic():
        watchlists_return_to_draft(actor=actor, subjects=[subject], why=f"{subject.reference} was purged: {why}")
        subject = Subject.objects.select_for_update().get(pk=subject.pk)
        if subject.status == Subject.Status.PURGED:
            return 0
        files = list(subject.images.values_list("file_name", flat=True))
        count = subject.images.count()
        subject.images.all().delete()
        watchlists = list(Watchlist.objects.filter(entries__subject=subject).values_list("pk", flat=True))
        WatchlistEntry.objects.filter(subject=subject).delete()
        subject.status = Subject.Status.PURGED
        subject.purged_at = timezone.now()
        subject.version += 1
        subject.save(update_fields=["status", "purged_at", "version"])
        audit_record(actor=actor, action=AuditAction.SUBJECT_PURGED, target=subject, details={
            "reference": subject.reference, "images_deleted": count, "why": why, "removed_from_watchlists": watchlists})
        transaction.on_commit(lambda: [protected_delete(name) for name in files])
    return count


def subjects_purge_expired(*, today: dt.date | None = None) -> int:
    today = today or _today()
    expired = Subject.objects.filter(status=Subject.Status.ACTIVE, expires_on__lte=today)
    purged = 0
    for subject in expired.iterator():
        subject_purge(actor=None, subject=subject, why=f"retention expired on {subject.expires_on:%Y-%m-%d}")
        purged += 1
    if purged:
        logger.info("retention: purged %s expired subjects", purged)
    return purged


# --- audited reads of biometric data ------------------------------------------------------------

def subject_view_record(*, actor: User, subject: Subject) -> None:
    """Every view of a subject page is audited (it shows biometric enrolment details)."""
    audit_record(actor=actor, action=AuditAction.SUBJECT_VIEWED, target=subject,
                 details={"reference": subject.reference})


def reference_image_read(*, actor: User, image: ReferenceImage, outlined: bool = False) -> bytes:
    """The bytes of a face image, for a permission-checked view; audited, a missing file too (then Gone)."""
    require_capability(user=actor, capability="view_biometric_data")
    if image.status == ReferenceImage.Status.PURGED:
        raise Gone("this image has been purged")
    variant = {"outlined": True} if outlined else {}

    def audit(outcome: dict) -> None:
        with transaction.atomic():
            audit_record(actor=actor, action=AuditAction.REFERENCE_IMAGE_VIEWED, target=image,
                         details={"subject": image.subject.reference, **variant, **outcome})

    return protected_read_for_person(image.file_name, what=f"the file of reference image {image.pk} "
                                     f"({image.subject.reference})", audit=audit)


def reference_image_read_outlined(*, actor: User, image: ReferenceImage) -> bytes:
    """The image with the enrolled face outlined (the largest of several): the same checked, audited read."""
    box = face_box(image.quality)
    if box is None:
        raise RuleViolation("no enrolled face is recorded for this image")
    data = reference_image_read(actor=actor, image=image, outlined=True)
    return outline_face(data, box, max_pixels=settings.REFERENCE_IMAGE_MAX_PIXELS)
