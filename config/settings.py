"""Settings for the whole project, read from the environment (DESIGN.md §6).

Laptop defaults: SQLite under var/, Celery tasks run eagerly when no broker is set,
e-mails printed on the console. Production: set DATABASE_URL, CELERY_BROKER_URL (or
REDIS_URL), SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL and DEBUG=0.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, parse_email_url
from config.logging_config import logging_config
from config.storage import default_storage_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=True)
_INSECURE_KEY = "django-insecure-dev-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY)
if not DEBUG and SECRET_KEY == _INSECURE_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY doit être défini quand DEBUG est désactivé.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "nested_admin",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "pgtrigger",
    "axes",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "certifications",
    "candidates",
    "commissions",
    "evaluations",
    "reporting",
]

MIDDLEWARE = [
    # First: every line logged while a request runs carries its id (config/request_id.py).
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp: marks the session verified by a second factor (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Two-factor sign-in (commissions/two_factor.py): owes a code or an enrolment → that page.
    "commissions.two_factor.TwoFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last (django-axes): turns a sign-in refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "certifications.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several requests (and the live-server tests) share the file: wait instead of failing.
    # IMMEDIATE: a transaction takes the write lock when it begins, so concurrent writers
    # (autosaves of one grid page) wait for each other; a deferred one that reads then writes
    # fails at once with « database is locked » (SQLite never waits on that upgrade).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20,
                                                           "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # No server-side cursors: a `.iterator()` (every ModelChoiceField renders through one)
    # otherwise costs a DECLARE … WITH HOLD whose commit was measured at ~15 ms per form on
    # PostgreSQL; it also keeps the app compatible with PgBouncer in transaction mode.
    # Large reads go in chunks instead (candidates.exports).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DB_DISABLE_SERVER_SIDE_CURSORS", default=True)
    # A server that hangs instead of refusing fails a request (and /healthz) within seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis (Django's own backend) when CACHE_URL or REDIS_CACHE_URL is set, e.g.
# redis://127.0.0.1:6379/2 — needed in production, where the rate limits (RATELIMIT_* below)
# must be shared by every gunicorn worker. Without it, each process keeps its own (make run,
# tests).
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_CACHE_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("CACHE_URL doit être une adresse redis://, rediss:// ou "
                                   "unix:// (cache Redis).")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL, "KEY_PREFIX": "uimm",
                          # Bounded waits: a hung Redis fails fast instead of holding workers.
                          "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "uimm"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (login page, admin) while the username + address is locked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "certifications.auth.DemoAwareModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# DESIGN.md §6: the demo password « demo » works only on a DEBUG install (read once, from the
# environment: the test runner's runtime DEBUG=False does not change it).
DEMO_PASSWORD_ALLOWED = env_bool("DEMO_PASSWORD_ALLOWED", default=DEBUG)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Two-factor sign-in (django-otp, commissions/two_factor.py): after the password, a code from
# an authenticator app (TOTP) or a single-use recovery code. REQUIRED: staff (gestionnaire or
# national role, Django staff accounts) and presidents of a jury session not yet closed must
# enrol; everyone else may. Whoever has enrolled is asked for a code, required or not. Wrong
# codes are throttled by django-otp (1 s, 2 s, 4 s… between attempts).
TWO_FACTOR = {
    "REQUIRED": env_bool("TWO_FACTOR_REQUIRED", default=not DEBUG),
    # A session that owed no code at sign-in is checked against the policy again after this
    # many seconds (someone made gestionnaire or jury president while signed in).
    "RECHECK_SECONDS": env_int("TWO_FACTOR_RECHECK_SECONDS", 300),
}
OTP_TOTP_ISSUER = "Certifications UIMM"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a secret key or its QR code

# Sign-in throttling (django-axes, config/login_throttling.py): after AXES_FAILURE_LIMIT failed
# attempts for one username from one address, that pair is refused for AXES_COOLOFF_TIME
# (HTTP 429, French page), even with the right password; a success clears the count.
# Behind the reverse proxy, the address is read from X-Forwarded-For: set TRUSTED_PROXY_COUNT
# to the number of proxies in front of gunicorn that append to it (1: one nginx; 0: gunicorn
# reached directly, REMOTE_ADDR is the client). Never more than really exist: the client
# writes the entries further left, and could then change « address » at each attempt.
# (Our own reading, not axes' AXES_IPWARE_* settings: those need django-ipware, not installed.)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.login_throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_throttling.client_ip"
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0 if DEBUG else 1)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))  # never served directly
# Uploaded and generated files (config/storage.py): STORAGE_BACKEND=local (MEDIA_ROOT) or s3
# (S3_BUCKET, S3_ENDPOINT_URL, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION,
# S3_ADDRESSING_STYLE, S3_URL_EXPIRE_SECONDS), private, served only by permission-checked views.
STORAGES = {
    "default": default_storage_from_env(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The PDF fonts (static/documents/fonts) are read by WeasyPrint from the tree, never sent to
# a browser: compressing them (Brotli, ~10 s each) only made collectstatic slow.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz",
                                       "bz2", "tbz", "xz", "br", "swf", "flv", "woff", "woff2",
                                       "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg",
                                       "mpg", "webm", "wmv", "ttf", "otf"]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: no broker configured means "eager" (tasks run in-process), as on a laptop.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message taken by a worker that dies without acknowledging it (acks_late) goes back to the
# queue after this many seconds (Redis transport); a worker process killed mid-task is
# replaced and its task requeued at once (REJECT_ON_WORKER_LOST).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = TIME_ZONE
# Workers and beat log through LOGGING, like the web (config/celery.py hands logging to it).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# E-mail
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "certifications@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
_email_url = env_str("EMAIL_URL", "console:" if DEBUG else "smtp://localhost:25")
globals().update(parse_email_url(_email_url))
ADMINS = [("Admin", addr) for addr in env_list("ADMINS")]

# Security: on by default whenever DEBUG is off (check --deploy is clean).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Load balancers and probes call /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): no inline script, style or handler anywhere — behaviour
# lives in static/js/, data in data-* attributes or json_script blocks (never executed).
# data: images are Bootstrap's own SVG icons (select arrow, navbar toggler, form validation).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SILENCED_SYSTEM_CHECKS = ["security.W021"] if not SECURE_HSTS_PRELOAD else []

# Rate limits of the public forms (django-ratelimit), counted in the default cache per client
# address (the same reading of X-Forwarded-For as the sign-in throttling). Rates « n/period »
# (s, m, h, d); a refused request gets the French 429 page (templates/429.html).
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "config.login_throttling.client_ip"
RATELIMIT_RATES = {
    # « Devenez évaluateur »: submissions per address.
    "PUBLIC_APPLICATION": env_str("RATELIMIT_PUBLIC_APPLICATION", "10/h"),
    # Forms of a personal link (upload of the report, the tutor's avis): submissions per link.
    "LINK_FORM": env_str("RATELIMIT_LINK_FORM", "30/h"),
    # The public verify page (evaluations.views_documents.verify): lookups per address.
    "VERIFY": env_str("RATELIMIT_VERIFY", "30/m"),
}
# django_ratelimit.E003 says a per-process cache does not share its counts between workers:
# true, and refused in production (set CACHE_URL); on a laptop and under the test runner
# there is one process, so the local cache counts right. W001: the library lists only
# django-redis among Redis backends, but Django's own RedisCache increments atomically (INCR),
# which is all it needs.
if CACHES["default"]["BACKEND"].endswith("LocMemCache") and DEBUG:
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Logs (config/logging_config.py): one line per record on stderr, JSON by default when DEBUG is
# off (LOG_FORMAT=json|text), with request_id, user_id, task_id and task_name; LOG_LEVEL.
LOGGING = logging_config(fmt=env_str("LOG_FORMAT", "text" if DEBUG else "json"),
                         level=env_str("LOG_LEVEL", "INFO"))

# ---------------------------------------------------------------------------
# Business settings (DOMAIN.md rules marked "(setting)"), each with its default.
# ---------------------------------------------------------------------------
CERTIFICATION = {
    # Maximum size of an imported referential file (bytes).
    "REFERENTIAL_MAX_BYTES": env_int("REFERENTIAL_MAX_BYTES", 2 * 1024 * 1024),
}

CANDIDATES = {
    # DOMAIN.md §2: minimum related professional experience for VAE recevabilité (months).
    "VAE_MIN_EXPERIENCE_MONTHS": env_int("VAE_MIN_EXPERIENCE_MONTHS", 12),
    # Uploaded documents: maximum size (bytes).
    "DOCUMENT_MAX_BYTES": env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024),
    # Lifetime of personal links (days).
    "CANDIDATE_LINK_DAYS": env_int("CANDIDATE_LINK_DAYS", 30),
    "OPINION_LINK_DAYS": env_int("OPINION_LINK_DAYS", 21),
}

# Absolute address of the site, for links sent by e-mail (no request in Celery tasks).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

COMMISSIONS = {
    # DOMAIN.md §4: minimum members of an evaluation commission (one of them president).
    "MIN_MEMBERS": env_int("COMMISSION_MIN_MEMBERS", 2),
    # DOMAIN.md §4: default length of an evaluator's habilitation (months, renewable).
    "HABILITATION_MONTHS": env_int("HABILITATION_MONTHS", 12),
    # DOMAIN.md §4: may staff override the impartiality rule with a justification? (off)
    "IMPARTIALITY_OVERRIDE_ALLOWED": env_bool("IMPARTIALITY_OVERRIDE_ALLOWED", default=False),
    # Reminders to members and candidates, days before the commission.
    "REMINDER_DAYS_BEFORE": env_int("COMMISSION_REMINDER_DAYS", 3),
}

# The outbox (config/tasks.py): work recorded in the database but never delivered to a worker
# (broker down, message lost) is sent again by a sweep once it is GRACE_SECONDS old.
OUTBOX = {
    "GRACE_SECONDS": env_int("OUTBOX_GRACE_SECONDS", 120),
    "SWEEP_SECONDS": env_int("OUTBOX_SWEEP_SECONDS", 300),
}

CELERY_BEAT_SCHEDULE = {
    "commission-reminders": {
        "task": "commissions.tasks.send_due_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "outbox-sweep": {
        "task": "evaluations.tasks.requeue_pending_work",
        "schedule": OUTBOX["SWEEP_SECONDS"],
    },
    "holders-awards": {
        "task": "reporting.tasks.sync_holders_awards",
        "schedule": crontab(hour=6, minute=0),
    },
}

# /healthz (config/health.py, config/heartbeat.py): beat records its own heartbeat and sends a
# worker one every HEARTBEAT_SECONDS; either is down once older than STALE_SECONDS; the last
# backup must be younger than BACKUP_MAX_AGE_HOURS. Details (each check, its age) are shown to
# staff and to callers sending « Authorization: Bearer <HEALTHZ_TOKEN> » (empty: nobody).
HEALTH = {
    "HEARTBEAT_SECONDS": env_int("HEALTH_HEARTBEAT_SECONDS", 60),
    "STALE_SECONDS": env_int("HEALTH_STALE_SECONDS", 180),
    "BACKUP_MAX_AGE_HOURS": env_int("HEALTH_BACKUP_MAX_AGE_HOURS", 26),
    "TOKEN": env_str("HEALTHZ_TOKEN"),
}
CELERY_BEAT_SCHEDULER = "config.heartbeat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {
    "task": "config.heartbeat.worker_heartbeat",
    "schedule": HEALTH["HEARTBEAT_SECONDS"],
    # Not piled up while no worker runs: a late heartbeat is worth nothing.
    "options": {"expires": HEALTH["HEARTBEAT_SECONDS"]},
}

# Nightly backup (config/backup.py), scheduled only when BACKUP_DIR is set: database dump,
# stored files and manifest in BACKUP_DIR/backup-YYYYMMDD-HHMMSS at BACKUP_TIME (HH:MM, local
# time), keeping the BACKUP_KEEP newest. A failure is mailed to ADMINS and shown on /healthz.
BACKUP_DIR = env_str("BACKUP_DIR")
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)
BACKUP_TIME = env_str("BACKUP_TIME", "02:30")
if BACKUP_DIR:
    _backup_hour, _backup_minute = (int(part) for part in BACKUP_TIME.split(":"))
    CELERY_BEAT_SCHEDULE["nightly-backup"] = {
        "task": "config.backup.nightly_backup",
        "schedule": crontab(hour=_backup_hour, minute=_backup_minute),
    }

JURIES = {
    # DOMAIN.md §6: representative trade-union organisations of the branch (check the arrêté).
    "UNIONS": env_list("JURY_UNIONS", ["CFDT", "CFE-CGC", "CGT", "CGT-FO"]),
    # Minimum members sitting per collège, and strict parity of those who deliberate.
    "MIN_PER_COLLEGE": env_int("JURY_MIN_PER_COLLEGE", 1),
    "STRICT_PARITY": env_bool("JURY_STRICT_PARITY", default=True),
    # Days: invitations to unions before the jury; notice employee members give their employer.
    "INVITATION_DAYS_BEFORE": 15,
    "EMPLOYEE_NOTICE_DAYS": 8,
    # Months to send the bundle to the CPNE's GTP « Certifications » after the jury.
    "CPNE_BUNDLE_MONTHS": env_int("CPNE_BUNDLE_MONTHS", 3),
}

RESULTS = {
    # DOMAIN.md §6 (art. 55.3): validated competences stay acquired 24 months from the
    # deliberation; validated blocs 5 years when the certification is registered on the RNCP.
    "COMPETENCE_VALIDITY_MONTHS": env_int("RESULTS_COMPETENCE_VALIDITY_MONTHS", 24),
    "BLOC_VALIDITY_YEARS": env_int("RESULTS_BLOC_VALIDITY_YEARS", 5),
}

RETENTION = {
    # DOMAIN.md §8: a decided dossier (registration, documents, avis, grids, their PDFs and
    # audit details) is kept this many years after its latest final decision — a correction
    # restarts the count — then anonymised by `manage.py apply_retention`. The fact of
    # certification (who, what, when, decision, PV and the codes of its documents) is kept
    # without limit.
    "DECIDED_YEARS": env_int("RETENTION_DECIDED_YEARS", 5),
    # A registration that never reached a decision (abandon): the same 5 years, counted from
    # its last activity (the abandonment — a closed dossier accepts nothing more). A
    # registration still open is never purged: staff close a dormant one first; the command
    # lists those without activity for this long.
    "UNDECIDED_YEARS": env_int("RETENTION_UNDECIDED_YEARS", 5),
}

# Issue 10 §4: the « Statistiques » page keeps its figures this many seconds in the shared
# cache (0: computed on every visit); the page says when they were computed and offers to
# recompute them. Exports and the annual report are always computed afresh.
STATISTICS = {"CACHE_SECONDS": env_int("STATISTICS_CACHE_SECONDS", 300)}

# DOMAIN.md §7: declaration of holders to the Caisse des Dépôts (« accrochage certificateurs »).
# The identifiers come from the centre's contract with the Caisse: empty means not configured
# (the page says so and the file cannot be generated). DELAY_DAYS absorbs corrections after
# the decision before an award becomes due, always within the 3-month legal limit.
CDC_DECLARATION = {
    "ID_CLIENT": env_str("CDC_ID_CLIENT", ""),
    "ID_CONTRAT": env_str("CDC_ID_CONTRAT", ""),
    "NATURE_DEPOSANT": env_str("CDC_NATURE_DEPOSANT", "CERTIFICATEUR"),
    "DELAY_DAYS": env_int("CDC_DELAY_DAYS", 15),
    "DEADLINE_MONTHS": 3,
    "RECEIPT_MAX_BYTES": env_int("CDC_RECEIPT_MAX_BYTES", 50 * 1024 * 1024),
}
