from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from pgvector.django import CosineDistance

from accounts.permissions import require_capability, user_can
from core.inputs import without_control_characters
from core.policy import enforce
from recognition import runtime  # runtime.current_model_id(), looked up at each call (tests replace it)
from recognition.ml.models import ModelFileError
from recognition.runtime import enrolment_policy
from watchlists.ages import reference_enrolled_as_child
from watchlists.categories import category_problems
from watchlists.models import BulkImport, ReferenceImage, Subject, Watchlist
from watchlists.policies import Action, awaiting_approval_by, watchlist_role_refusal
from watchlists.quality_words import face_box, quality_summary


def access_watchlist(*, user, id: int) -> Watchlist:
    require_capability(user=user, capability="view_watchlist")
    try:
        return Watchlist.objects.select_related("compiled_by", "approved_by").get(pk=id)
    except Watchlist.DoesNotExist:
        raise Http404("no such watchlist") from None


def access_subject(*, user, id: int) -> Subject:
    require_capability(user=user, capability="view_watchlist")
    try:
        return Subject.objects.select_related("added_by").get(pk=id)
    except Subject.DoesNotExist:
        raise Http404("no such subject") from None


def access_reference_image(*, user, id: int) -> ReferenceImage:
    require_capability(user=user, capability="view_biometric_data")
    try:
        return ReferenceImage.objects.select_related("subject").get(pk=id)
    except ReferenceImage.DoesNotExist:
        raise Http404("no such image") from None


def watchlist_list(*, user) -> QuerySet[Watchlist]:
    require_capability(user=user, capability="view_watchlist")
    return (Watchlist.objects.select_related("compiled_by", "approved_by")
            .annotate(subject_count=Count("entries")).order_by("name", "pk"))


def watchlist_approval_queue(*, user) -> QuerySet[Watchlist]:
    enforce(watchlist_role_refusal(user=user, action=Action.APPROVE))
    return watchlist_list(user=user).filter(awaiting_approval_by(user=user))


def subject_list(*, user, watchlist: Watchlist | None = None, search: str = "") -> QuerySet[Subject]:
    require_capability(user=user, capability="view_watchlist")
    enrolled = Q(images__status=ReferenceImage.Status.ENROLLED)
    subjects = Subject.objects.select_related("added_by").annotate(
        enrolled_images=Count("images", filter=enrolled),
        # The decision aids of the lists: the newest enrolled photo (its thumbnail) and the latest date one was taken.
        latest_image_id=Max("images__pk", filter=enrolled),
        latest_image_taken_on=Max("images__capture_date", filter=enrolled))
    if watchlist is not None:
        subjects = subjects.filter(entries__watchlist=watchlist)
    search = without_control_characters(search).strip()
    if search:
        subjects = subjects.filter(Q(name__icontains=search) | Q(reference__icontains=search))
    return subjects.order_by("name", "pk")


def subjects_review_due(*, user, today: dt.date | None = None) -> QuerySet[Subject]:
    """Active subjects whose review date has come, for the detective who added them."""
    today = today or timezone.localdate()
    return Subject.objects.filter(added_by=user, status=Subject.Status.ACTIVE, review_date__lte=today).order_by("review_date")


def watchlist_review_is_current(*, watchlist: Watchlist, max_age_days: int, now=None) -> bool:
    now = now or timezone.now()
    return watchlist.reviewed_at is not None and now - watchlist.reviewed_at <= dt.timedelta(days=max_age_days)


def reference_images_nearest(*, embedding: np.ndarray, model_id: str, exclude_subject_id: int | None = None,
                             limit: int = 5) -> list[tuple[ReferenceImage, float]]:
    """Closest enrolled images of active subjects, by cosine similarity (pgvector HNSW index)."""
    images = ReferenceImage.objects.select_related("subject").filter(
        status__in=[ReferenceImage.Status.ENROLLED, ReferenceImage.Status.DUPLICATE], model_id=model_id,
        subject__status=Subject.Status.ACTIVE)
    if exclude_subject_id is not None:
        images = images.exclude(subject_id=exclude_subject_id)
    nearest = images.annotate(distance=CosineDistance("embedding", embedding)).order_by("distance")[:limit]
    return [(image, 1.0 - float(image.distance)) for image in nearest]


def reference_image_quality_summary(*, image: ReferenceImage) -> list[str]:
    """The image's quality figures in words, judged against the enrolment standard."""
    return quality_summary(image.quality, policy=enrolment_policy())


def reference_image_face_outlined(*, image: ReferenceImage) -> bool:
    """Whether to show the image with its enrolled face outlined: it had several faces and the one used is known."""
    return (image.face_count or 0) > 1 and face_box(image.quality) is not None


@dataclass(frozen=True)
class DuplicateMatch:
    """What a viewer may see of the subject a flagged image looks like."""

    subject: Subject | None  # None: the viewer may not see that subject
    image: ReferenceImage | None  # that subject's image closest to the flagged one; None: not to be shown or none
    hidden_because: str = ""


def reference_image_duplicate_match(*, user, image: ReferenceImage) -> DuplicateMatch | None:
    """For an image flagged as looking like another subject: that subject and its enrolled image closest to
    this one, each only as far as ``user`` may see them (through the same fetchers as their own pages)."""
    if image.status != ReferenceImage.Status.DUPLICATE or image.duplicate_of_id is None:
        return None
    try:
        other = access_subject(user=user, id=image.duplicate_of_id)
    except (PermissionDenied, Http404):
        return DuplicateMatch(None, None, "you may not see the subject this image looks like")
    if not user_can(user=user, capability="view_biometric_data"):
        return DuplicateMatch(other, None, "you may not see reference images")
    candidates = other.images.filter(status__in=[ReferenceImage.Status.ENROLLED, ReferenceImage.Status.DUPLICATE])
    if image.embedding is not None and image.model_id:
        candidates = candidates.filter(model_id=image.model_id).order_by(CosineDistance("embedding", image.embedding))
    match = candidates.first()
    return DuplicateMatch(other, match, "" if match else "that subject has no enrolled image left")


def reference_images_of_subjects(*, subject_ids: Iterable[int]) -> dict[int, list[ReferenceImage]]:
    """Each subject's images in upload order, for a report that lists many subjects (one query)."""
    images: dict[int, list[ReferenceImage]] = {}
    for image in ReferenceImage.objects.filter(subject_id__in=list(subject_ids)).order_by("pk").defer("embedding"):
        images.setdefault(image.subject_id, []).append(image)
    return images


def access_bulk_import(*, user, id: int) -> BulkImport:
    """Progress and report of an import: whoever may see watchlists."""
    require_capability(user=user, capability="view_watchlist")
    try:
        return BulkImport.objects.select_related("created_by").get(pk=id)
    except BulkImport.DoesNotExist:
        raise Http404("no such import") from None


def watchlist_child_entries(*, watchlist: Watchlist) -> list[Subject]:
    """Active entries of the watchlist with an enrolled reference image showing a child (watchlists/ages.py)."""
    images = (ReferenceImage.objects.filter(subject__entries__watchlist=watchlist, subject__status=Subject.Status.ACTIVE,
                                            subject__date_of_birth__isnull=False, status=ReferenceImage.Status.ENROLLED)
              .select_related("subject").only("capture_date", "created_at", "subject__date_of_birth", "subject__name",
                                               "subject__reference"))
    children = {image.subject_id: image.subject for image in images
                if reference_enrolled_as_child(subject=image.subject, image=image)}
    return sorted(children.values(), key=lambda s: (s.name, s.pk))


def enrolment_model_id() -> str | None:
    """The model the snapshot takes embeddings of (deployments' _snapshot_create); None when the model pack
    cannot be read here, and then an image enrolled with any model counts."""
    try:
        return runtime.current_model_id()
    except ModelFileError:
        return None


def subjects_without_enrolled_image(*, watchlist: Watchlist, model_id: str | None) -> QuerySet[Subject]:
    """The entries a snapshot of ``watchlist`` would leave out: active and unexpired (so in the manifest), with no
    image ENROLLED with ``model_id`` (None: with any model). They cannot be matched."""
    enrolled = ReferenceImage.objects.filter(status=ReferenceImage.Status.ENROLLED)
    if model_id is not None:
        enrolled = enrolled.filter(model_id=model_id)
    return (Subject.objects.filter(entries__watchlist=watchlist, status=Subject.Status.ACTIVE,
                                   expires_on__gt=timezone.localdate())
            .exclude(pk__in=enrolled.values("subject_id")).only("pk", "reference", "name").order_by("name", "pk"))


def subjects_breaking_category_rules(*, watchlist: Watchlist | None = None,
                                     added_by=None) -> list[tuple[Subject, list[str]]]:
    """Active entries (of ``watchlist``, or added by ``added_by``) that break their category's rules
    (watchlists/categories.py) as they are now, with what each breaks: entries written before a rule existed or
    changed are never altered silently; a detective fixes them, and approval refuses a list holding one until
    then. Limits count from the entry's last write."""
    subjects = Subject.objects.filter(status=Subject.Status.ACTIVE)
    if watchlist is not None:
        subjects = subjects.filter(entries__watchlist=watchlist)
    if added_by is not None:
        subjects = subjects.filter(added_by=added_by)
    subjects = subjects.only(
        "pk", "reference", "name", "status", "category", "engagement_instructions", "exceptional_justification",
        "review_date", "expires_on", "updated_at").order_by("name", "pk")
    breaking = []
    for subject in subjects.iterator(chunk_size=1000):
        problems = subject_category_problems(subject=subject)
        if problems:
            breaking.append((subject, problems))
    return breaking


def subject_category_problems(*, subject: Subject) -> list[str]:
    """The category rules ``subject`` breaks as stored (limits counted from its last write); empty if none."""
    if subject.status != Subject.Status.ACTIVE:
        return []
    values = {field: getattr(subject, field) for field in (
        "category", "engagement_instructions", "exceptional_justification", "review_date", "expires_on")}
    return category_problems(values, written_on=timezone.localdate(subject.updated_at))
