"""The permission matrix (issue 8 « Trust », DESIGN.md §2): every URL of the project × every
role gets exactly the status written here, through the Django test client, and a refused
request writes nothing to the database.

The URLs are read from the resolver: a view added to a urls.py without its row in ``MATRIX``
fails ``test_every_url_is_in_the_matrix``, and so does a row left behind by a removed view.
Every row names every role (tests/trust/matrix_world.py): anonymous; a candidate and a tutor
who have just opened their personal link (no account: a link opens its own page, nothing
else); an evaluator of another commission and a jury member of another session, both of the
same centre; the staff of another centre; the staff of the centre that owns every object;
the président of the commission; a member and the president of the jury session.

What the app does, and the matrix holds it to: the visitor without an account is sent to the
login page; a user who may not see an object gets a 404, never a hint that it exists; a user
who sees the object but may not act on it gets a 403 from the grid's and the session's
actions (``views_grid.require_fill``, ``views_jury.require``) but a 404 from the staff's
pages about the same object (composition, ZIP, CPNE bundle, letters) — see the notes by
those rows.
"""

import copy
import dataclasses
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from commissions.services import cancel_commission
from tests.evaluations.conftest import PASSWORD
from tests.trust.matrix_world import (
    ANONYMOUS,
    CANDIDATE,
    EVALUATOR,
    JUROR,
    JURY,
    MEMBER,
    OTHER_STAFF,
    PRESIDENT,
    ROLES,
    STAFF,
    TUTOR,
    World,
    build_world,
    pdf_bytes,
)


# ---------------------------------------------------------------------------
# Expected answers
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Redirect:
    """A 302 to the page named ``url_name`` (query string ignored); ``sign_in``: the page
    asks the visitor to sign in — a refusal."""

    url_name: str
    sign_in: bool = False


LOGIN = Redirect("login", sign_in=True)
ADMIN_LOGIN = Redirect("admin:login", sign_in=True)
MY_COMMISSIONS = Redirect("commissions:my_commissions")
MY_SESSIONS = Redirect("juries:my_sessions")
Expected = int | Redirect

KEYWORDS = {"anonymous": ANONYMOUS, "candidate": CANDIDATE, "tutor": TUTOR,
            "evaluator": EVALUATOR, "jury": JURY, "other_staff": OTHER_STAFF, "staff": STAFF,
            "member": MEMBER, "juror": JUROR, "president": PRESIDENT}


def everyone(status: Expected, **overrides: Expected) -> dict[str, Expected]:
    """The same answer for every role (public pages, method refused before anything)."""
    return {**dict.fromkeys(ROLES, status),
            **{KEYWORDS[k]: v for k, v in overrides.items()}}


NO_ACCOUNT = {"anonymous": LOGIN, "candidate": LOGIN, "tutor": LOGIN}


def logged_in(status: Expected, **overrides: Expected) -> dict[str, Expected]:
    """Login required: the three without an account go to the login page; every account
    gets ``status`` unless named."""
    return everyone(status, **{**NO_ACCOUNT, **overrides})


def staff_page(staff: Expected = 200, **overrides: Expected) -> dict[str, Expected]:
    """A page of the owning centre's staff: every other account gets a 404."""
    return logged_in(404, staff=staff, **overrides)


def centre_staff_page(status: Expected = 200, **overrides: Expected) -> dict[str, Expected]:
    """A staff page not tied to one object (lists, forms): any centre's staff use it, each
    on their own centre's data."""
    return logged_in(404, staff=status, other_staff=status, **overrides)


@dataclasses.dataclass(frozen=True)
class Row:
    """What each role gets from one URL, and how to reach it in the world. ``post`` is there
    when the view accepts POST; ``data`` is what is posted — a real action wherever it is
    cheap to write one (the owner's 302 shows it), so that an outsider's 404 is the refusal
    of the act, not a form error."""

    get: dict[str, Expected]
    post: dict[str, Expected] | None = None
    kwargs: Callable[[World], dict] = lambda w: {}
    data: Callable[[World], dict] = lambda w: {}


def pk_of(attribute: str) -> Callable[[World], dict]:
    """``{"pk": …}`` of one object of the world."""
    return lambda w: {"pk": getattr(w, attribute).pk}


def commission(w: World) -> dict:
    return {"pk": w.commission.pk}


def session(w: World) -> dict:
    return {"pk": w.session.pk}


def session_candidate(w: World) -> dict:
    return {"pk": w.session.pk, "session_candidate_pk": w.session_candidate.pk}


# GET of a POST-only view: `login_required` before `require_POST` sends the anonymous to the
# login page, every account gets a 405; the reverse order (the jury's actions) answers 405
# to everyone.
POST_ONLY = logged_in(405)
POST_ONLY_ANYONE = everyone(405)

MATRIX: dict[str, Row] = {
    # -- entry pages (evaluations.urls, config.urls) ----------------------------------------
    "dashboard": Row(get=logged_in(200)),
    "verify_form": Row(get=everyone(200)),
    # The verification code is public by design: any holder of the document checks it.
    "verify": Row(get=everyone(200),
                  kwargs=lambda w: {"code": w.grid_document.verification_code}),
    # The right of access (DOMAIN.md §8): a POST, since each export is recorded.
    "personal_data_export": Row(get=POST_ONLY, post=staff_page(200),
                                kwargs=lambda w: {"candidate_pk": w.evaluated.candidate_id}),
    "healthz": Row(get=everyone(200)),
    "set_language": Row(get=everyone(Redirect("dashboard")),
                        post=everyone(Redirect("dashboard")),
                        data=lambda w: {"language": "fr", "next": "/"}),
    # -- accounts (django.contrib.auth.urls) ------------------------------------------------
    "login": Row(get=everyone(200)),
    "logout": Row(get=everyone(405), post=everyone(Redirect("login"))),
    "password_change": Row(get=logged_in(200), post=logged_in(200)),
    "password_change_done": Row(get=logged_in(200)),
    "password_reset": Row(get=everyone(200), post=everyone(Redirect("password_reset_done")),
                          data=lambda w: {"email": "personne@example.org"}),
    "password_reset_done": Row(get=everyone(200)),
    "password_reset_confirm": Row(get=everyone(200),
                                  kwargs=lambda w: {"uidb64": "MQ", "token": "faux-jeton"}),
    "password_reset_complete": Row(get=everyone(200)),
    # -- two-factor sign-in (commissions.two_factor_urls; TWO_FACTOR off under tests, and
    # nobody of the world has a device: nothing owed, the code page sends to the dashboard) --
    "two_factor:overview": Row(get=logged_in(200)),
    "two_factor:verify": Row(get=logged_in(Redirect("dashboard")),
                             post=logged_in(Redirect("dashboard")),
                             data=lambda w: {"code": "123456"}),
    # Anyone may enrol; a wrong code is a form error and writes nothing.
    "two_factor:enrol": Row(get=logged_in(200), post=logged_in(200),
                            data=lambda w: {"code": "abcdef"}),
    # Shown once, right after an enrolment; otherwise back to the status page.
    "two_factor:recovery_codes": Row(get=logged_in(Redirect("two_factor:overview"))),
    "two_factor:account_list": Row(get=centre_staff_page()),
    # The staff reset of an account of their centre (here the evaluator's), with a reason.
    "two_factor:reset": Row(get=staff_page(), post=staff_page(Redirect("two_factor:account_list")),
                            kwargs=lambda w: {"pk": w.user(EVALUATOR).pk},
                            data=lambda w: {"reason": "Téléphone perdu, identité vérifiée."}),
    # -- the admin: Django's own patterns are left out, these rows stand for them -----------
    "admin:index": Row(get=everyone(ADMIN_LOGIN, other_staff=200, staff=200)),
    "admin:candidates_registration_changelist": Row(
        get=everyone(ADMIN_LOGIN, other_staff=200, staff=200)),
    # The admin answers an object outside the user's centre by a redirect to its index
    # (« … n'existe pas »), exactly as for an object that does not exist.
    "admin:candidates_registration_change": Row(
        get=everyone(ADMIN_LOGIN, other_staff=Redirect("admin:index"), staff=200),
        kwargs=lambda w: {"object_id": w.evaluated.pk}),
    # nested_admin's script for the admin's inline forms: the admin's users only.
    "nesting_server_data": Row(get=everyone(403, other_staff=200, staff=200)),
    # -- referentials: national, read by staff and evaluators -------------------------------
    "certifications:referential_list": Row(
        get=logged_in(404, evaluator=200, other_staff=200, staff=200, member=200)),
    "certifications:referential_detail": Row(
        get=logged_in(404, evaluator=200, other_staff=200, staff=200, member=200),
        kwargs=lambda w: {"pk": w.version.pk}),
    # -- candidates: the staff of the registration's centre only ----------------------------
    "candidates:registration_list": Row(get=centre_staff_page()),
    "candidates:registration_create": Row(get=centre_staff_page(), post=centre_staff_page()),
    "candidates:registration_detail": Row(get=staff_page(), kwargs=pk_of("evaluated")),
    "candidates:registration_transition": Row(
        get=POST_ONLY, post=staff_page(302), kwargs=pk_of("open_registration"),
        data=lambda w: {"to_state": "abandon", "reason": "Le candidat renonce."}),
    "candidates:dossier_edit": Row(get=staff_page(), post=staff_page(),
                                   kwargs=pk_of("open_registration")),
    "candidates:training_create": Row(get=staff_page(), post=staff_page(),
                                      kwargs=pk_of("open_registration")),
    "candidates:training_complete": Row(
        get=POST_ONLY, post=staff_page(302),
        kwargs=lambda w: {"pk": w.open_registration.pk, "training_pk": w.training.pk},
        data=lambda w: {"end_on": "2025-02-14"}),
    "candidates:without_training": Row(
        get=POST_ONLY, post=staff_page(200), kwargs=pk_of("open_registration"),
        data=lambda w: {"reason": "Expérience suffisante."}),
    "candidates:vae_admissibility": Row(get=staff_page(), post=staff_page(),
                                        kwargs=pk_of("vae_registration")),
    "candidates:document_upload": Row(
        get=staff_page(), post=staff_page(302), kwargs=pk_of("open_registration"),
        data=lambda w: {"kind": "preuve", "file": a_pdf("preuve.pdf")}),
    "candidates:link_issue": Row(get=POST_ONLY, post=staff_page(302),
                                 kwargs=pk_of("open_registration"),
                                 data=lambda w: {"purpose": "candidate"}),
    "candidates:link_revoke": Row(get=POST_ONLY, post=staff_page(302),
                                  kwargs=lambda w: {"pk": w.candidate_link.pk}),
    "candidates:document_download": Row(get=staff_page(),
                                        kwargs=lambda w: {"pk": w.dossier_document.pk}),
    "candidates:company_create": Row(get=centre_staff_page(), post=centre_staff_page()),
    "candidates:tutor_create": Row(
        get=staff_page(), post=staff_page(302),
        kwargs=lambda w: {"pk": w.open_registration.company_id},
        data=lambda w: {"first_name": "Paul", "last_name": "Tuteur",
                        "email": "paul.tuteur@entreprise.example", "job_title": "Chef d'atelier"}),
    "candidates:registration_export": Row(get=centre_staff_page()),
    "candidates:registration_import": Row(get=centre_staff_page(), post=centre_staff_page()),
    # -- personal links: the token is the credential, whoever holds the URL -----------------
    "links:candidate_space": Row(get=everyone(200), post=everyone(302),
                                 kwargs=lambda w: {"token": w.tokens["candidate"]},
                                 data=lambda w: {"file": a_pdf("rapport.pdf")}),
    "links:company_opinion": Row(get=everyone(200), post=everyone(200),
                                 kwargs=lambda w: {"token": w.tokens["opinion"]}),
    "links:company_opinion_thanks": Row(get=everyone(200)),
    # -- commissions ------------------------------------------------------------------------
    "commissions:commission_list": Row(get=centre_staff_page(evaluator=MY_COMMISSIONS,
                                                             member=MY_COMMISSIONS)),
    "commissions:commission_create": Row(get=centre_staff_page(), post=centre_staff_page()),
    # Composition is the staff's: the président, who reads the commission, gets a 404 here.
    "commissions:compose": Row(
        get=staff_page(), post=staff_page(302), kwargs=commission,
        data=lambda w: {"action": "add_member", "evaluator": w.elsewhere.pk,
                        "role": "member"}),
    "commissions:evaluator_list": Row(get=centre_staff_page()),
    "commissions:application_list": Row(get=centre_staff_page()),
    "commissions:application_review": Row(
        get=staff_page(), post=staff_page(302), kwargs=lambda w: {"pk": w.application.pk},
        data=lambda w: {"action": "refuse", "reason": "Profil hors du périmètre."}),
    # Its members read the commission; confirming or cancelling it is the staff's (404).
    "commissions:commission_detail": Row(
        get=staff_page(member=200), post=staff_page(302), kwargs=commission,
        data=lambda w: {"action": "cancel", "reason": "Atelier indisponible."}),
    "commissions:dossier": Row(
        get=staff_page(member=200),
        kwargs=lambda w: {"pk": w.commission.pk, "registration_pk": w.evaluated.pk}),
    "commissions:dossier_document": Row(
        get=staff_page(member=200),
        kwargs=lambda w: {"pk": w.commission.pk, "document_pk": w.dossier_document.pk}),
    "commissions:my_commissions": Row(get=logged_in(404, evaluator=200, member=200)),
    # Only the member the link was made for, signed in, may answer (the président's link).
    "commissions:convocation_answer": Row(
        get=logged_in(404, member=200), post=logged_in(404, member=302),
        kwargs=lambda w: {"token": w.tokens["convocation"]},
        data=lambda w: {"answer": "confirmed"}),
    "commissions:charter": Row(get=logged_in(404, evaluator=200, member=200),
                               post=logged_in(404, evaluator=200, member=200)),
    "commissions:apply": Row(get=everyone(200), post=everyone(200)),
    "commissions:apply_thanks": Row(get=everyone(200)),
    # -- the grid: its commission's members fill and sign, the centre's staff read and reopen;
    # -- a jury never sees a grid ------------------------------------------------------------
    "grids:open": Row(get=staff_page(302, member=302),
                      kwargs=lambda w: {"scheduled_pk": w.draft_grid.scheduled_id}),
    "grids:detail": Row(get=staff_page(member=200), kwargs=pk_of("draft_grid")),
    # The autosave answers JSON: 401 without a session, 403 to the staff who read the grid.
    "grids:save_field": Row(
        get=POST_ONLY_ANYONE,
        post=staff_page(403, member=200, anonymous=401, candidate=401, tutor=401),
        kwargs=pk_of("draft_grid"), data=lambda w: save_field_data(w)),
    "grids:submit": Row(get=POST_ONLY, post=staff_page(403, member=302),
                        kwargs=pk_of("draft_grid")),
    "grids:sign": Row(get=staff_page(403, member=200), post=staff_page(403, member=200),
                      kwargs=pk_of("draft_grid"),
                      data=lambda w: {"password": PASSWORD, "consent": "on"}),
    "grids:reopen": Row(get=staff_page(member=403), post=staff_page(302, member=403),
                        kwargs=pk_of("signed_grid"),
                        data=lambda w: {"reason": "Erreur de saisie sur C2."}),
    "grids:attendance": Row(get=POST_ONLY, post=staff_page(403, member=302),
                            kwargs=pk_of("draft_grid"),
                            data=lambda w: {"attendance": "absent"}),
    "grids:incident_report": Row(
        get=POST_ONLY, post=staff_page(403, member=302), kwargs=pk_of("draft_grid"),
        data=lambda w: {"kind": "fraude", "description": "Document non autorisé."}),
    "grids:incident_resolve": Row(
        get=POST_ONLY, post=staff_page(302, member=403),
        kwargs=lambda w: {"pk": w.draft_grid.pk, "incident_pk": w.incident.pk},
        data=lambda w: {"resolution": "Banc remplacé."}),
    "grids:history": Row(get=staff_page(member=200), kwargs=pk_of("signed_grid")),
    "grids:pdf": Row(get=staff_page(member=200),
                     kwargs=lambda w: {"grid_pk": w.signed_grid.pk}),
    # The ZIP of a commission's grids is asked for and fetched by the staff only.
    "grids:commission_zip": Row(get=POST_ONLY, post=staff_page(302),
                                kwargs=lambda w: {"commission_pk": w.commission.pk}),
    "grids:zip_status": Row(get=staff_page(), kwargs=lambda w: {"batch_pk": w.batch.pk}),
    "grids:zip_download": Row(get=staff_page(), kwargs=lambda w: {"batch_pk": w.batch.pk}),
    # -- the jury paritaire: staff prepare, members read, the president acts ----------------
    "juries:session_list": Row(get=centre_staff_page(jury=MY_SESSIONS, juror=MY_SESSIONS,
                                                     president=MY_SESSIONS)),
    "juries:my_sessions": Row(get=logged_in(404, jury=200, juror=200, president=200)),
    "juries:session_create": Row(get=centre_staff_page(), post=centre_staff_page()),
    "juries:session_detail": Row(get=staff_page(juror=200, president=200), kwargs=session),
    # Composition is the staff's: the members, who read the session, get a 404 here.
    "juries:session_compose": Row(get=staff_page(), post=staff_page(302), kwargs=session,
                                  data=lambda w: {"action": "send_convocations"}),
    # The session's actions: a member who may not act gets a 403 (views_jury.require).
    "juries:record_presence": Row(
        get=POST_ONLY_ANYONE, post=staff_page(302, juror=403, president=302), kwargs=session),
    "juries:open_session": Row(
        get=POST_ONLY_ANYONE, post=staff_page(302, juror=403, president=302), kwargs=session),
    "juries:synthesis": Row(get=staff_page(juror=200, president=200),
                            kwargs=session_candidate),
    # The session is closed: whoever may decide is sent back to the synthesis.
    "juries:decide": Row(get=POST_ONLY_ANYONE,
                         post=staff_page(302, juror=403, president=302),
                         kwargs=session_candidate),
    "juries:correct": Row(
        get=POST_ONLY_ANYONE, post=staff_page(302, juror=403, president=302),
        kwargs=session_candidate,
        data=lambda w: {"outcome": "non_admis", "reason": "Erreur matérielle au PV."}),
    # The PV is signed: anyone who sees the session is sent back to its page.
    "juries:sign_minutes": Row(get=staff_page(302, juror=302, president=302),
                               post=staff_page(302, juror=302, president=302),
                               kwargs=session, data=lambda w: {"password": PASSWORD}),
    "juries:cpne_sent": Row(get=POST_ONLY_ANYONE, post=staff_page(302), kwargs=session),
    "juries:cprefp_export": Row(get=centre_staff_page()),
    "juries:attendance_pdf": Row(get=staff_page(juror=200, president=200), kwargs=session),
    "juries:cpne_bundle": Row(get=POST_ONLY, post=staff_page(302), kwargs=session),
    "juries:cpne_download": Row(get=staff_page(), kwargs=session),
    "juries:document": Row(get=staff_page(juror=200, president=200),
                           kwargs=lambda w: {"document_pk": w.minutes_document.pk}),
    # A candidate's results letter is for the staff only, not for the jury.
    "juries:document [lettre]": Row(get=staff_page(),
                                    kwargs=lambda w: {"document_pk": w.letter_document.pk}),
    # -- partial results that last (evaluations.views_acquired, DOMAIN.md §6) ----------------
    # The dossier's carried-over panel: the staff of the registration's centre only.
    "registration_carried_over": Row(
        get=staff_page(), kwargs=lambda w: {"registration_pk": w.evaluated.pk}),
    # The relevé through the candidate's personal link: the token is the credential; the
    # world's candidate has no relevé yet, so 404 for whoever holds the URL (the relevé
    # served is tested in tests/evaluations/test_carried_over.py).
    "candidate_releve": Row(get=everyone(404),
                            kwargs=lambda w: {"token": w.tokens["candidate"]}),
    # -- statistics (reporting.urls_statistics): the staff of any centre, each on their own
    # -- centre's figures (and the national read-only role, tests/reporting); nobody else --
    "reporting:statistics": Row(get=centre_staff_page()),
    "reporting:statistics_export": Row(get=centre_staff_page()),
    "reporting:annual_report": Row(get=centre_staff_page()),
    # -- declarations to the Caisse des Dépôts (reporting.urls_declarations): the staff of
    # -- any centre on their own centre's awards (the national read-only role reads them,
    # -- tests/reporting); nobody else. In this world the contract with the Caisse is not
    # -- configured: « Générer » sends the staff back to the page with the reason. ---------
    "reporting:declarations": Row(get=centre_staff_page()),
    "reporting:declarations_generate": Row(get=POST_ONLY, post=centre_staff_page(302)),
    "reporting:declarations_batch": Row(get=staff_page(), kwargs=lambda w: {
        "pk": declaration_batch(w).pk}),
    "reporting:declarations_receipt": Row(get=POST_ONLY, post=centre_staff_page(302)),
    "reporting:declarations_resend": Row(get=POST_ONLY, post=staff_page(302),
                                         kwargs=lambda w: {"pk": refused_award(w).pk}),
}


def refused_award(w: World):
    """The world's admitted registration as an award the Caisse refused (made on demand,
    inside the test's savepoint)."""
    from evaluations.models import Decision
    from reporting.models import Award, AwardState

    decision = Decision.objects.filter(registration=w.evaluated).order_by("-pk").first()
    award, _created = Award.objects.get_or_create(
        registration=w.evaluated, defaults={
            "centre": w.evaluated.centre, "decision": decision,
            "id_technique": w.evaluated.reference, "decided_on": w.session.date,
            "due_on": w.session.date, "deadline": w.session.date})
    Award.objects.filter(pk=award.pk).update(state=AwardState.REFUSED)
    return award


def declaration_batch(w: World):
    """A batch of the world's centre whose file is what was recorded."""
    from django.utils import timezone

    from reporting.models import DeclarationBatch
    from reporting.services import write_batch

    batch = DeclarationBatch.objects.create(
        id_flux="MATRICE-0001", created_at=timezone.now(), centre=w.centre,
        id_client="UIMM0001", id_contrat="CTR-1", nature_deposant="CERTIFICATEUR")
    batch.sha256 = write_batch(batch)
    batch.save(update_fields=["sha256"])
    return batch


def a_pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def save_field_data(w: World) -> dict:
    row = w.draft_grid.competence_results.order_by("pk").first()
    return {"row_kind": "competence", "row_id": row.pk, "field": "comment",
            "value": "Observation de l'atelier.", "revision": row.revision}


def url_name(key: str) -> str:
    """``"juries:document [lettre]"`` → ``"juries:document"`` (a second row for one URL)."""
    return key.split(" [")[0]


# ---------------------------------------------------------------------------
# The URL configuration
# ---------------------------------------------------------------------------
# Static and media files are served by the web server, never by a URL of ours (DEBUG only).
DEBUG_ONLY_VIEWS = {"django.views.static.serve"}


def walk(patterns, prefix: str = "", namespace: str = ""):
    """(route, namespace, name with namespaces, view path) of every pattern, nested includes
    resolved."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else ""
            yield route, namespace, name, pattern.lookup_str


def project_urls() -> dict[str, str]:
    """Every URL of the project by name (by route when unnamed, so that it shows), but
    Django's admin — the explicit admin rows of MATRIX stand for it."""
    return {name or f"(sans nom) {route}": route
            for route, namespace, name, view in walk(get_resolver().url_patterns)
            if namespace.split(":")[0] != "admin" and view not in DEBUG_ONLY_VIEWS}


def test_the_matrix_reads_the_project_urls():
    """The resolver walked is the product's, not the bench's (tests/bench/urls.py adds a
    floor view only inside ``make bench``)."""
    assert settings.ROOT_URLCONF == "config.urls"
    assert "bench_floor" not in project_urls()


def test_every_url_is_in_the_matrix():
    urls = project_urls()
    rows = {url_name(key) for key in MATRIX}
    missing = sorted(set(urls) - rows)
    assert not missing, (
        "Ces URL n'ont pas de ligne dans MATRIX (tests/trust/test_permission_matrix.py) : "
        + ", ".join(f"{name} ({urls[name]})" for name in missing)
        + ". Ajoutez chaque vue à la matrice avec le statut attendu pour chaque rôle — un "
          "utilisateur qui ne doit pas voir l'objet reçoit un 404 (DESIGN.md §2).")
    stale = sorted(name for name in rows - set(urls) if not name.startswith("admin:"))
    assert not stale, ("Ces lignes de MATRIX ne correspondent plus à aucune URL : "
                       + ", ".join(stale) + ". Retirez-les ou renommez-les.")


def test_every_row_names_every_role():
    for key, row in MATRIX.items():
        for method, expected in (("GET", row.get), ("POST", row.post)):
            assert expected is None or list(expected) == list(ROLES), f"{key} {method}"


# ---------------------------------------------------------------------------
# The world, once per module; each test runs in a savepoint rolled back after it
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast)):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            world.cookies = {role: cookies_of(world, role) for role in ROLES}
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits (django-ratelimit) and the like count in the cache: every cell starts
    from zero, whatever ran before it."""
    for cache in caches.all():
        cache.clear()


def cookies_of(world: World, role: str) -> SimpleCookie:
    """The cookies of the role's browser: signed in, or back from the person's own link —
    which must give them nothing else. Taken once (the session lives as long as the world)."""
    client = Client()
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    link = {CANDIDATE: "links:candidate_space", TUTOR: "links:company_opinion"}.get(role)
    if link is not None:
        token = world.tokens["candidate" if role == CANDIDATE else "opinion"]
        assert client.get(reverse(link, args=[token])).status_code == 200
    return client.cookies


def client_for(world: World, role: str) -> Client:
    client = Client()
    client.cookies = copy.deepcopy(world.cookies[role])
    return client


class DatabaseWatch:
    """What a refused request must leave as it was: the rows the test's connection has
    written — any table, even a write of the same values — read in one step. The test client
    runs the request on that connection. SQLite: the connection's count of changes.
    PostgreSQL: the rows inserted, updated and deleted so far by the current transaction
    (each test here runs inside one), from ``pg_stat_xact_user_tables``. Reading the content
    of every table before and after each request cost PostgreSQL runs ≈ 3 minutes."""

    def __init__(self):
        self.before = self.state()

    @staticmethod
    def state() -> int:
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            return connection.connection.total_changes
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                           "FROM pg_stat_xact_user_tables")
            return cursor.fetchone()[0]

    def unchanged(self) -> bool:
        return self.state() == self.before


@pytest.mark.django_db
def test_the_watch_sees_a_write(world):
    """The check « a refused request wrote nothing » is only worth what its watch sees."""
    watch = DatabaseWatch()

    client_for(world, STAFF).post(reverse("candidates:link_revoke",
                                          args=[world.candidate_link.pk]))

    assert not watch.unchanged()


def refused(expected: Expected) -> bool:
    if isinstance(expected, Redirect):
        return expected.sign_in
    return expected >= 400


def describe(response) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} → {response['Location']}"
    return str(response.status_code)


def assert_answer(response, expected: Expected) -> None:
    if isinstance(expected, Redirect):
        assert response.status_code == 302, describe(response)
        assert urlsplit(response["Location"]).path == reverse(expected.url_name), \
            describe(response)
    else:
        assert response.status_code == expected, describe(response)


def cells():
    for key, row in MATRIX.items():
        for method, expected in (("GET", row.get), ("POST", row.post)):
            for role, status in (expected or {}).items():
                yield pytest.param(key, method, role, status, id=f"{key}-{method}-{role}")


def release(response) -> None:
    """Close the file a response serves (PDF, ZIP) without ``response.close()``: that also
    sends request_finished, which closes the database connection of a test running inside a
    transaction on PostgreSQL."""
    for closer in response._resource_closers:
        closer()
    response._resource_closers.clear()


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "method", "role", "expected"), list(cells()))
def test_url_answers_each_role(world, key, method, role, expected):
    row = MATRIX[key]
    client = client_for(world, role)
    url = reverse(url_name(key), kwargs=row.kwargs(world))
    watch = DatabaseWatch() if refused(expected) else None

    response = client.get(url) if method == "GET" else client.post(url, row.data(world))
    release(response)

    assert_answer(response, expected)
    if watch is not None:
        assert watch.unchanged(), "a refused request wrote to the database"


# ---------------------------------------------------------------------------
# Personal links: the token opens its own page only
# ---------------------------------------------------------------------------
# (page, token held, who is signed in, status): a token of another purpose is unknown to a
# page (no re-targeting), as a garbage one is.
LINK_CASES = [
    ("links:candidate_space", "candidate", None, 200),
    ("links:candidate_space", "garbage", None, 404),
    ("links:candidate_space", "opinion", None, 404),
    ("links:candidate_space", "convocation", None, 404),
    ("links:company_opinion", "opinion", None, 200),
    ("links:company_opinion", "garbage", None, 404),
    ("links:company_opinion", "candidate", None, 404),
    ("links:company_opinion", "convocation", None, 404),
    ("commissions:convocation_answer", "convocation", MEMBER, 200),
    ("commissions:convocation_answer", "garbage", MEMBER, 404),
    ("commissions:convocation_answer", "candidate", MEMBER, 404),
    ("commissions:convocation_answer", "opinion", MEMBER, 404),
    # Another member's link, though genuine, is not the signed-in member's.
    ("commissions:convocation_answer", "other_convocation", MEMBER, 404),
]
LINK_REFUSAL_TITLE = "Lien non valide"


def link_params():
    for name, token, role, expected in LINK_CASES:
        # A usable link's form is the matrix's business; here, what a refused POST does.
        for method in ("GET", "POST") if expected == 404 else ("GET",):
            yield pytest.param(name, token, role, expected, method,
                               id=f"{name}-{token}-{method}")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "token", "role", "expected", "method"), list(link_params()))
def test_personal_link_opens_its_own_page_only(world, name, token, role, expected, method):
    client = client_for(world, role or ANONYMOUS)
    url = reverse(name, args=[world.tokens[token]])
    watch = DatabaseWatch()

    response = (client.get(url) if method == "GET"
                else client.post(url, {"answer": "confirmed", "overall": "favorable",
                                       "given_by_name": "Paul Tuteur",
                                       "given_by_function": "Chef d'atelier"}))
    release(response)

    assert response.status_code == expected
    if expected == 404:
        assert watch.unchanged()
        if name.startswith("links:"):
            assert LINK_REFUSAL_TITLE in response.content.decode()


# ---------------------------------------------------------------------------
# A cancelled commission gives its members no more access (commissions.views)
# ---------------------------------------------------------------------------
# The rows where the commission's président was let in; after the cancellation, a 404 —
# the grid pages as the dossiers. The commission page itself still tells them it is
# cancelled; their own pages (convocation, charter) are the matrix's business.
CLOSED_BY_CANCELLATION = [
    (key, method)
    for key in ("commissions:dossier", "commissions:dossier_document", "grids:open",
                "grids:detail", "grids:save_field", "grids:submit", "grids:sign",
                "grids:reopen", "grids:attendance", "grids:incident_report",
                "grids:incident_resolve", "grids:history", "grids:pdf")
    for method, expected in (("GET", MATRIX[key].get), ("POST", MATRIX[key].post))
    if expected is not None and expected[MEMBER] != 405
]


@pytest.fixture
def cancelled(db, world):
    cancel_commission(commission=world.commission, actor=world.user(STAFF),
                      reason="Atelier indisponible.")


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "method"), CLOSED_BY_CANCELLATION,
                         ids=[f"{key}-{method}" for key, method in CLOSED_BY_CANCELLATION])
def test_a_cancelled_commission_is_closed_to_its_members(world, cancelled, key, method):
    row = MATRIX[key]
    client = client_for(world, MEMBER)
    url = reverse(url_name(key), kwargs=row.kwargs(world))
    watch = DatabaseWatch()

    response = client.get(url) if method == "GET" else client.post(url, row.data(world))
    release(response)

    assert response.status_code == 404
    assert watch.unchanged()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["grids:detail", "grids:history", "grids:pdf",
                                 "commissions:dossier"])
def test_the_staff_keep_reading_a_cancelled_commission(world, cancelled, key):
    response = client_for(world, STAFF).get(reverse(url_name(key),
                                                    kwargs=MATRIX[key].kwargs(world)))
    release(response)

    assert response.status_code == 200
