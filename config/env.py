"""Reading settings from the environment: small, typed helpers, no business meaning."""

import os
from urllib.parse import parse_qs, unquote, urlparse

TRUE_VALUES = {"1", "true", "yes", "on", "oui"}
SMTP_DEFAULT_PORTS = {"smtp": 25, "smtps": 465, "submission": 587}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE_VALUES


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_email_url(url: str) -> dict:
    """Turn ``smtp://user:password@host:587?tls=1`` (or ``console:``, ``locmem:``,
    ``dummy:``) into Django EMAIL_* settings."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "submission": "django.core.mail.backends.smtp.EmailBackend",
    }
    if scheme not in backends:
        raise ValueError(f"EMAIL_URL: unsupported scheme {scheme!r}")
    result: dict = {"EMAIL_BACKEND": backends[scheme]}
    if scheme == "file":
        result["EMAIL_FILE_PATH"] = unquote(parsed.path)
    if scheme in SMTP_DEFAULT_PORTS:
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        result.update(
            EMAIL_HOST=parsed.hostname or "localhost",
            EMAIL_PORT=parsed.port or SMTP_DEFAULT_PORTS[scheme],
            EMAIL_HOST_USER=unquote(parsed.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parsed.password or ""),
            EMAIL_USE_SSL=scheme == "smtps" or query.get("ssl", "").lower() in TRUE_VALUES,
            EMAIL_USE_TLS=scheme == "submission" or query.get("tls", "").lower() in TRUE_VALUES,
        )
    return result
