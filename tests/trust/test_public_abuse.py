"""Public forms resist robots and floods (issue 8): the evaluator application counts the
submissions of each address and refuses the one past the limit with a French 429 page,
keeping nothing; a filled honeypot is thanked and discarded; the forms of a personal link
count per link. The counts live in the cache, which production must share between workers:
the system check says so."""

import html
import json
import os
import random
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidates import services
from candidates.models import Document, LinkPurpose
from candidates.tasks import link_url
from commissions.models import EvaluatorApplication
from tests.factories import CentreFactory, make_registration, make_siret

pytestmark = pytest.mark.django_db

LIMIT = 3
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def limits(settings):
    """Small limits over a day (no window boundary crossed while a test runs), read from
    the settings as production reads them."""
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES,
                                "PUBLIC_APPLICATION": f"{LIMIT}/d", "LINK_FORM": f"{LIMIT}/d"}
    settings.TRUSTED_PROXY_COUNT = 0


def new_address() -> str:
    """An address of its own for each test: a fresh count whatever ran before, on any cache."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def centre(db):
    return CentreFactory()


def application(centre, n: int = 0, **overrides) -> dict:
    data = {
        "centre": centre.pk, "first_name": "Nadia", "last_name": f"Benali{n}",
        "email": f"nadia{n}@industrie.example", "phone": "06 12 34 56 78",
        "employer_name": "Chantiers de l'Atlantique", "employer_siret": make_siret(424_242),
        "profession": "Cheffe d'équipe chaudronnerie", "experience_years": 14,
        "expertise": "Chaudronnerie.", "motivation": "Transmettre.", "website": "",
    }
    data.update(overrides)
    return data


def apply(client, data, address):
    return client.post(reverse("commissions:apply"), data, REMOTE_ADDR=address)


# ---------------------------------------------------------------------------
# « Devenez évaluateur »: a count per address
# ---------------------------------------------------------------------------
def test_the_submission_past_the_limit_gets_a_french_429_and_keeps_nothing(client, centre,
                                                                           limits):
    address = new_address()
    for n in range(LIMIT):
        assert apply(client, application(centre, n), address).status_code == 302
    assert EvaluatorApplication.objects.count() == LIMIT

    response = apply(client, application(centre, LIMIT), address)

    assert response.status_code == 429
    content = html.unescape(response.content.decode())
    assert "Trop de demandes" in content
    assert "Rien n'a été enregistré" in content
    assert EvaluatorApplication.objects.count() == LIMIT


def test_invalid_and_robot_submissions_count_too(client, centre, limits):
    address = new_address()
    apply(client, application(centre, employer_siret="123"), address)
    apply(client, application(centre, website="http://spam.example"), address)
    apply(client, application(centre, 1), address)

    assert apply(client, application(centre, 2), address).status_code == 429
    assert EvaluatorApplication.objects.count() == 1


def test_the_limit_is_per_address_and_reading_the_form_is_not_limited(client, centre, limits):
    flooder, neighbour = new_address(), new_address()
    for n in range(LIMIT + 1):
        apply(client, application(centre, n), flooder)

    assert client.get(reverse("commissions:apply"), REMOTE_ADDR=flooder).status_code == 200
    assert apply(client, application(centre, 99), neighbour).status_code == 302


def test_behind_the_proxy_each_client_has_its_own_count_and_cannot_forge_another(
        client, centre, limits, settings):
    """One nginx in front (TRUSTED_PROXY_COUNT=1): the client is the address nginx appended
    to X-Forwarded-For; what the client wrote further left changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy, client_address = "10.0.0.1", new_address()

    def through_proxy(n, forged=""):
        forwarded = f"{forged}, {client_address}" if forged else client_address
        return client.post(reverse("commissions:apply"), application(centre, n),
                           REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)

    statuses = [through_proxy(n, forged=new_address()).status_code for n in range(LIMIT + 1)]
    other_client = client.post(reverse("commissions:apply"), application(centre, 50),
                               REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=new_address())

    assert statuses == [302] * LIMIT + [429]
    assert other_client.status_code == 302


# ---------------------------------------------------------------------------
# The honeypot
# ---------------------------------------------------------------------------
def test_a_filled_honeypot_is_thanked_and_discarded(client, centre, limits):
    address = new_address()
    human = apply(client, application(centre, 1), address)
    EvaluatorApplication.objects.all().delete()

    robot = apply(client, application(centre, 2, website="https://casino.example"), address)
    invalid_robot = apply(client, application(centre, 3, website="x", email="pas-un-email"),
                          address)

    assert robot.status_code == invalid_robot.status_code == human.status_code == 302
    assert robot["Location"] == invalid_robot["Location"] == human["Location"]
    assert not EvaluatorApplication.objects.exists()


def test_the_honeypot_is_hidden_by_a_stylesheet_class_not_an_inline_style(client, centre):
    content = client.get(reverse("commissions:apply")).content.decode()

    trap = content.split('class="form-trap"', 1)[1].split("</div>", 1)[0]
    assert 'name="website"' in trap
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    assert "style=" not in content.split("<form", 1)[1].split("</form>", 1)[0]
    stylesheet = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()
    assert ".form-trap {" in stylesheet and "left: -10000px" in stylesheet


# ---------------------------------------------------------------------------
# Forms of a personal link: a count per link
# ---------------------------------------------------------------------------
def test_a_link_form_past_its_limit_gets_a_french_429_and_stores_nothing(client, media_root,
                                                                         limits):
    first = services.issue_link(registration=make_registration(),
                                purpose=LinkPurpose.CANDIDATE_UPLOAD, actor=None)
    other = services.issue_link(registration=make_registration(),
                                purpose=LinkPurpose.CANDIDATE_UPLOAD, actor=None)
    path = link_url(first).removeprefix(settings.SITE_URL)
    for n in range(LIMIT):
        client.post(path, {"file": SimpleUploadedFile(f"v{n}.pdf", PDF)})
    assert Document.objects.count() == LIMIT

    response = client.post(path, {"file": SimpleUploadedFile("encore.pdf", PDF)})

    assert response.status_code == 429
    content = response.content.decode()
    assert "Trop de demandes" in content
    assert first.registration.candidate.birth_name not in content
    assert response["Referrer-Policy"] == "same-origin"
    assert Document.objects.count() == LIMIT
    assert client.get(path).status_code == 200  # reading the page is not limited
    other_path = link_url(other).removeprefix(settings.SITE_URL)
    assert client.post(other_path, {"file": SimpleUploadedFile("r.pdf", PDF)}).status_code \
        == 302


# ---------------------------------------------------------------------------
# The cache: shared in production, the system check says when it is not
# ---------------------------------------------------------------------------
PROBE = (
    "import json, django; django.setup(); "
    "from django.conf import settings; from django.core import checks; "
    "print(json.dumps({'backend': settings.CACHES['default']['BACKEND'], "
    "'location': settings.CACHES['default']['LOCATION'], "
    "'issues': sorted(m.id for m in checks.run_checks() if not m.is_silenced() "
    "and m.id.startswith('django_ratelimit'))}))"
)


def _settings_under(tmp_path, **env) -> subprocess.CompletedProcess:
    inherited = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR")
                 if key in os.environ}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, capture_output=True, text=True,
        timeout=120, check=False,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": ".",
             "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env},
    )


def probe(tmp_path, **env) -> dict:
    result = _settings_under(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "certif.example.org"}


def test_production_without_a_shared_cache_fails_the_system_check(tmp_path):
    assert "django_ratelimit.E003" in probe(tmp_path, **PRODUCTION)["issues"]


def test_production_with_redis_passes_and_a_laptop_needs_nothing(tmp_path):
    redis = probe(tmp_path, **PRODUCTION, CACHE_URL="redis://cache.internal:6379/2")
    laptop = probe(tmp_path)

    assert redis == {"backend": "django.core.cache.backends.redis.RedisCache",
                     "location": "redis://cache.internal:6379/2", "issues": []}
    assert laptop["backend"] == "django.core.cache.backends.locmem.LocMemCache"
    assert laptop["issues"] == []


def test_a_cache_url_that_is_not_redis_is_refused_in_french(tmp_path):
    result = _settings_under(tmp_path, REDIS_CACHE_URL="memcached://127.0.0.1:11211")

    assert result.returncode != 0
    assert "CACHE_URL doit être une adresse redis://" in result.stderr
