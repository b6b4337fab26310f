"""Where uploaded dossier documents and generated PDFs live (issue 11 §1, « stateless web »).

Every file goes through Django's storage API, so any web or worker process reads what another
wrote: a local directory on a single server (``STORAGE_BACKEND=local``, the default), or an
S3-compatible object store shared by all machines (``STORAGE_BACKEND=s3``: Scaleway, OVHcloud,
MinIO, Garage…). The files are private: they are served only by the permission-checked download
views, never from a URL of the store.
"""

import os

from django.core.exceptions import ImproperlyConfigured

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # at MEDIA_ROOT

# A downloaded object is kept in memory up to this size, then spooled to a temporary file:
# a large ZIP never sits whole in a web process's memory (django-storages' default, 0, never
# spools).
S3_MAX_MEMORY_SIZE = 2 * 1024 * 1024


def default_storage_from_env(environ=os.environ) -> dict:
    """The ``STORAGES["default"]`` entry read from the environment; a French
    ImproperlyConfigured for a value that cannot work, at start-up rather than at the first
    upload."""
    backend = environ.get("STORAGE_BACKEND", "").strip().lower() or "local"
    if backend == "local":
        return dict(LOCAL)
    if backend != "s3":
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND doit valoir « local » ou « s3 » (valeur reçue : « {backend} »).")
    bucket = environ.get("S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured(
            "S3_BUCKET doit être défini quand STORAGE_BACKEND vaut « s3 » : c'est le nom du "
            "bucket où sont rangés les documents.")
    from botocore.config import Config  # only when the object store is used

    addressing_style = environ.get("S3_ADDRESSING_STYLE", "").strip() or "path"
    if addressing_style not in ("path", "virtual", "auto"):
        raise ImproperlyConfigured(
            "S3_ADDRESSING_STYLE doit valoir « path », « virtual » ou « auto ».")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("S3_ENDPOINT_URL", "").strip() or None,
            # Empty: boto3's own chain (AWS_* variables, instance profile).
            "access_key": environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": environ.get("S3_REGION", "").strip() or "fr-par",
            # No ACL header: objects keep the store's default, private to the owner (some
            # compatible stores, Garage among them, do not implement ACLs at all).
            "default_acl": None,
            # Should a URL of the store ever be made, it is signed and short-lived.
            "querystring_auth": True,
            "querystring_expire": _expire_seconds(environ),
            "file_overwrite": False,
            "max_memory_size": S3_MAX_MEMORY_SIZE,
            "client_config": Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                # boto3 ≥ 1.36 adds CRC checksums to every upload by default, which several
                # S3-compatible stores refuse; send them only where the API requires them.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        },
    }


def _expire_seconds(environ) -> int:
    value = environ.get("S3_URL_EXPIRE_SECONDS", "").strip() or "60"
    if not value.isdigit() or int(value) == 0:
        raise ImproperlyConfigured(
            "S3_URL_EXPIRE_SECONDS doit être un nombre de secondes (entier positif).")
    return int(value)
