"""The Content-Security-Policy holds on every kind of page (issue 8): Chromium visits the main
pages of each role — and uses their scripts: the registration form's toggles, the grid's
autosave (htmx), the admin's nested inlines and autocomplete — and the test fails on any
``securitypolicyviolation`` event or console message about the policy. A last test proves
the browser really enforces it: inline code injected into a page does not run."""

import contextlib
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from candidates import services as candidate_services
from candidates.models import LinkPurpose
from candidates.tasks import link_url
from certifications import services as certification_services
from certifications.models import ReferentialVersion, VersionStatus
from commissions.models import Commission, JurySession, MemberRole
from evaluations import services
from evaluations.models import GeneratedDocument, Grid, GridState
from tests.browser.conftest import login
from tests.evaluations.conftest import fill_grid
from tests.factories import UserFactory, make_registration

pytestmark = pytest.mark.django_db(transaction=True)

REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
                            + ` (${event.sourceFile}:${event.lineNumber})`);
});
"""


class Visitor:
    """Opens pages in the watched browser page and collects every policy violation."""

    def __init__(self, page, live_server):
        self.page = page
        self.url = live_server.url
        self.violations: list[str] = []
        page.expose_function("reportCspViolation",
                             lambda text: self.violations.append(f"{page.url}: {text}"))
        page.add_init_script(REPORTER)
        page.on("console", self._on_console)

    def _on_console(self, message):
        if "Content Security Policy" in message.text:
            self.violations.append(f"{self.page.url}: console: {message.text}")

    def visit(self, path: str):
        response = self.page.goto(self.url + path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        policy = response.headers.get("content-security-policy", "")
        # Without the header the page could not violate anything: that proves nothing.
        assert "script-src 'self'" in policy, f"{path}: no Content-Security-Policy"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        self.settle()

    def settle(self):
        """Lets the scripts of the page start, the fragments it loads with htmx arrive (their
        markup is checked too, and leaving earlier would abort them: a failed request), and the
        violation events be dispatched. A page that polls is never idle: 3 s at most."""
        self.page.wait_for_load_state("load")
        with contextlib.suppress(PlaywrightTimeoutError):
            self.page.wait_for_load_state("networkidle", timeout=3000)
        self.page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")


@pytest.fixture
def visitor(page, live_server):
    visitor = Visitor(page, live_server)
    yield visitor
    assert visitor.violations == [], "the Content-Security-Policy was violated"


def link_path(registration, purpose) -> str:
    link = candidate_services.issue_link(registration=registration, purpose=purpose, actor=None)
    return urlsplit(link_url(link)).path


def upcoming_commission() -> Commission:
    return Commission.objects.get(members__evaluator__user__username="evaluateur1",
                                  date__gte=timezone.localdate())


def test_public_pages_keep_the_policy(visitor, demo, media_root):
    document = GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.GRID).first()
    registration = make_registration()

    for path in ["/accounts/login/", "/accounts/password_reset/", "/verify/",
                 f"/verify/{document.verification_code}/",
                 "/commissions/devenir-evaluateur/",
                 link_path(registration, LinkPurpose.CANDIDATE_UPLOAD),
                 link_path(registration, LinkPurpose.COMPANY_OPINION)]:
        visitor.visit(path)


def test_staff_pages_keep_the_policy(visitor, live_server, demo):
    page = visitor.page
    commission = upcoming_commission()
    session = JurySession.objects.get(seats__member__user__username="jury1")
    candidate = session.candidates.first()
    registration = candidate.registration
    version = registration.version
    login(page, live_server, "gestionnaire")
    visitor.settle()

    for path in ["/", "/candidats/", f"/candidats/inscriptions/{registration.pk}/",
                 f"/candidats/inscriptions/{registration.pk}/dossier/",
                 "/commissions/", f"/commissions/{commission.pk}/",
                 f"/commissions/{commission.pk}/composer/", "/commissions/evaluateurs/",
                 "/commissions/candidatures/", "/jurys/", f"/jurys/{session.pk}/",
                 f"/jurys/{session.pk}/candidats/{candidate.pk}/",
                 f"/jurys/{session.pk}/composition/",
                 "/referentiels/", f"/referentiels/{version.pk}/"]:
        visitor.visit(path)

    # The registration form's script shows the fields of a new candidate.
    visitor.visit("/candidats/inscriptions/nouvelle/")
    page.get_by_label("Nouveau candidat").check()
    expect(page.locator(".candidate-new").first).to_be_visible()
    visitor.settle()


def test_evaluator_pages_and_the_grid_autosave_keep_the_policy(visitor, live_server, demo):
    page = visitor.page
    commission = upcoming_commission()
    first, second = commission.scheduled.order_by("start_time")[:2]
    president = commission.members.get(role=MemberRole.PRESIDENT).evaluator.user
    grid = services.ensure_grid(scheduled=first, actor=president)
    to_sign = services.ensure_grid(scheduled=second, actor=president)
    services.record_attendance(grid=to_sign, attendance="present", actor=president)
    fill_grid(to_sign, president)
    services.submit_for_signature(grid=to_sign, actor=president)
    assert Grid.objects.get(pk=to_sign.pk).state == GridState.TO_SIGN
    login(page, live_server, "evaluateur1")
    visitor.settle()

    for path in ["/", "/commissions/mes-commissions/", f"/commissions/{commission.pk}/",
                 f"/commissions/{commission.pk}/candidats/{first.registration_id}/",
                 "/commissions/charte/", f"/grilles/{to_sign.pk}/",
                 f"/grilles/{to_sign.pk}/signer/", f"/grilles/{grid.pk}/journal/"]:
        visitor.visit(path)

    # The grid page: a field saves itself through htmx and says so.
    visitor.visit(f"/grilles/{grid.pk}/")
    label = page.locator("label[for^='satisfied-'][for$='-oui']").first
    field_id = label.get_attribute("for")
    label.click()
    state = page.locator(f"#{field_id}").locator(
        "xpath=ancestor::*[contains(@class, 'grid-field')][1]").locator(".field-state")
    expect(state).to_contain_text("enregistré")
    visitor.settle()


def test_jury_pages_keep_the_policy(visitor, live_server, demo):
    session = JurySession.objects.get(seats__member__user__username="jury1")
    candidate = session.candidates.first()
    login(visitor.page, live_server, "jury1")
    visitor.settle()

    for path in ["/", "/jurys/mes-sessions/", f"/jurys/{session.pk}/",
                 f"/jurys/{session.pk}/candidats/{candidate.pk}/"]:
        visitor.visit(path)


def test_admin_pages_keep_the_policy(visitor, live_server, demo):
    page = visitor.page
    UserFactory(username="superviseur", is_staff=True, is_superuser=True)
    published = ReferentialVersion.objects.filter(status=VersionStatus.PUBLISHED,
                                                  blocs__isnull=False).distinct().first()
    draft = certification_services.copy_version(version=published, label="Brouillon CSP")
    grid = Grid.objects.filter(state=GridState.SIGNED).first()
    login(page, live_server, "superviseur", password="motdepasse-solide-42")
    visitor.settle()

    for path in ["/admin/", "/admin/candidates/registration/",
                 "/admin/commissions/commission/", "/admin/evaluations/grid/",
                 f"/admin/evaluations/grid/{grid.pk}/change/",
                 f"/admin/evaluations/grid/{grid.pk}/rouvrir/",
                 "/admin/certifications/certification/",
                 "/admin/certifications/certification/import/",
                 "/admin/axes/accessattempt/", "/admin/auth/user/"]:
        visitor.visit(path)

    # Django's autocomplete (select2) on a change page.
    visitor.visit(f"/admin/candidates/registration/{grid.scheduled.registration_id}/change/")
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    visitor.settle()

    # django-nested-admin: a draft version, a criterion added to a nested inline.
    visitor.visit(f"/admin/certifications/referentialversion/{draft.pk}/change/")
    criteria = page.locator("[name*='criteria-'][name$='-text']:not([name*='__prefix__'])")
    before = criteria.count()
    page.locator("a.djn-add-handler.djn-model-certifications-criterion").first.click()
    expect(criteria).to_have_count(before + 1)
    # …and criteria reordered by drag and drop (jQuery UI sortable).
    group = page.locator("#blocs-0-competences-0-criteria-group")
    texts = group.locator("[name$='-text']:not([name*='__prefix__'])")
    first, second = texts.nth(0).input_value(), texts.nth(1).input_value()
    handles = group.locator(".djn-drag-handler:visible")
    handles.nth(1).drag_to(handles.nth(0))
    expect(texts.nth(0)).to_have_value(second)
    expect(texts.nth(1)).to_have_value(first)
    visitor.settle()


def test_the_browser_refuses_inline_code(context, live_server):
    """The canary: without it, a policy the browser ignored would pass every test above."""
    page = context.new_page()  # not the watched page: violations are expected here
    page.goto(live_server.url + "/accounts/login/")

    with page.expect_console_message(
            lambda message: "Content Security Policy" in message.text) as refused:
        ran = page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true;";
            document.head.appendChild(script);
            const box = document.createElement("div");
            box.innerHTML = '<p id="styled" style="color: rgb(255, 0, 0)">x</p>';
            document.body.appendChild(box);
            return window.inlineRan === true;
        }""")
    color = page.evaluate("() => getComputedStyle(document.getElementById('styled')).color")

    assert ran is False
    assert color != "rgb(255, 0, 0)"
    assert "script-src" in refused.value.text
    page.close()
