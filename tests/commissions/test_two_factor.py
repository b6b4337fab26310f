"""Two-factor sign-in (issue 11 §4): who must use it, how a session is held at the code or
enrolment page until it is done, codes accepted and refused, recovery codes used once, and
the audited staff reset."""

import datetime
import os
import subprocess
import sys
from base64 import b32encode
from pathlib import Path

import pyotp
import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from certifications.models import Role
from commissions import two_factor
from commissions.models import College, JuryMember, JurySession, Seat, SessionStatus
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db

VERIFY = reverse("two_factor:verify")
ENROL = reverse("two_factor:enrol")
PASSWORD = "motdepasse-solide-42"


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR = {**settings.TWO_FACTOR, "REQUIRED": True}


def enrolled(user) -> tuple[pyotp.TOTP, list[str]]:
    """Enrol ``user`` through the service, with a code computed by pyotp; the device's
    last step is moved back so that the test may use the current code again."""
    key = two_factor.new_secret()
    totp = pyotp.TOTP(b32encode(bytes.fromhex(key)).decode())
    device, codes = two_factor.enrol(user=user, key=key, code=totp.now())
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return totp, codes


def sign_in(client, user):
    """The password step, as the login page does it (fires ``user_logged_in``)."""
    response = client.post(reverse("login"), {"username": user.username,
                                               "password": PASSWORD})
    assert response.status_code == 302
    return response


def jury_president(centre, *, status=SessionStatus.PLANNED):
    user = member(Role.JURY, centre=centre)
    jury_member = JuryMember.objects.create(user=user, centre=centre,
                                            college=College.EMPLOYERS, organisation="UIMM")
    session = JurySession.objects.create(centre=centre, date=datetime.date.today(),
                                         start_time=datetime.time(14), place="Nantes")
    JurySession.objects.filter(pk=session.pk).update(status=status)
    Seat.objects.create(session=session, member=jury_member, is_president=True)
    return user


# ---------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------
def test_policy_requires_staff_national_and_django_staff(required, staff, centre):
    assert two_factor.is_required(staff)
    assert two_factor.is_required(member(Role.NATIONAL, centre=centre))
    assert two_factor.is_required(UserFactory(is_staff=True))


def test_evaluator_and_ordinary_jury_member_are_not_required(required, evaluator_factory,
                                                             centre):
    assert not two_factor.is_required(evaluator_factory().user)
    assert not two_factor.is_required(member(Role.JURY, centre=centre))


def test_jury_president_required_only_while_the_session_is_not_closed(required, centre):
    assert two_factor.is_required(jury_president(centre, status=SessionStatus.PLANNED))
    assert two_factor.is_required(jury_president(centre, status=SessionStatus.OPEN))
    assert not two_factor.is_required(jury_president(centre, status=SessionStatus.CLOSED))


def test_setting_off_requires_nobody(settings, staff):
    settings.TWO_FACTOR = {**settings.TWO_FACTOR, "REQUIRED": False}
    assert not two_factor.is_required(staff)


def test_production_default_requires_two_factor():
    """DEBUG=0 without TWO_FACTOR_REQUIRED: required (read in a fresh interpreter, as
    gunicorn would)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("TWO_FACTOR_REQUIRED", "DJANGO_SETTINGS_MODULE")}
    env.update(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="certif.example")
    script = "import config.settings as s; print(s.TWO_FACTOR['REQUIRED'])"
    for extra, expected in (({}, "True"), ({"TWO_FACTOR_REQUIRED": "0"}, "False")):
        result = subprocess.run([sys.executable, "-c", script], env={**env, **extra},
                                cwd=Path(__file__).resolve().parents[2], capture_output=True,
                                text=True, check=True)
        assert result.stdout.strip().splitlines()[-1] == expected


# ---------------------------------------------------------------------------
# Held at the door until done
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/candidats/", "/admin/", "/accounts/2fa/comptes/",
                                 "/accounts/password_change/"])
def test_required_staff_without_device_is_sent_to_enrolment_everywhere(required, client,
                                                                      staff, url):
    sign_in(client, staff)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(ENROL + "?next=")


def test_exempt_pages_stay_reachable_before_the_second_factor(required, client, staff):
    sign_in(client, staff)
    assert client.get(ENROL).status_code == 200
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("verify_form")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_htmx_request_is_redirected_by_htmx(required, client, staff):
    sign_in(client, staff)
    response = client.get("/candidats/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith(ENROL)


def test_enrolled_user_is_asked_for_a_code_even_when_not_required(client, evaluator_factory):
    user = evaluator_factory().user
    enrolled(user)
    sign_in(client, user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == VERIFY + "?next=%2F"
    assert client.get(reverse("two_factor:enrol")).url == VERIFY  # no replacing unverified


def test_not_required_user_without_device_goes_straight_in(required, client,
                                                           evaluator_factory):
    sign_in(client, evaluator_factory().user)
    assert client.get("/").status_code == 200


def age_the_check(client, seconds: int) -> None:
    """As if the session's last look at the policy were ``seconds`` older."""
    session = client.session
    session[two_factor.CHECKED_KEY] -= seconds
    session.save()


def test_someone_named_president_while_signed_in_must_enrol_once_the_check_is_due(
        required, client, centre, settings):
    user = member(Role.JURY, centre=centre)
    sign_in(client, user)
    assert client.get("/").status_code == 200
    jury_member = JuryMember.objects.create(user=user, centre=centre,
                                            college=College.EMPLOYERS, organisation="UIMM")
    session = JurySession.objects.create(centre=centre, date=datetime.date.today(),
                                         start_time=datetime.time(14), place="Nantes")
    Seat.objects.create(session=session, member=jury_member, is_president=True)

    # Not on every request: within the delay the session still owes nothing.
    assert client.get("/").status_code == 200
    age_the_check(client, settings.TWO_FACTOR["RECHECK_SECONDS"])
    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith(ENROL + "?next=")
    assert client.get("/").url.startswith(ENROL)


def test_someone_made_gestionnaire_while_signed_in_must_enrol_once_the_check_is_due(
        required, client, centre):
    user = member(Role.EVALUATOR, centre=centre)
    sign_in(client, user)
    assert client.get("/").status_code == 200
    member_role = user.memberships.get()
    member_role.role = Role.STAFF
    member_role.save()

    age_the_check(client, 300)

    assert client.get("/").url.startswith(ENROL)


def test_a_session_still_owing_nothing_is_checked_once_per_delay(required, client,
                                                                 evaluator_factory):
    sign_in(client, evaluator_factory().user)
    checked = client.session[two_factor.CHECKED_KEY]
    assert client.get("/").status_code == 200
    assert client.session[two_factor.CHECKED_KEY] == checked  # not due: not checked again

    age_the_check(client, 300)
    assert client.get("/").status_code == 200

    assert client.session[two_factor.CHECKED_KEY] >= checked  # checked, owes nothing still
    assert client.session[two_factor.SESSION_KEY] == two_factor.DONE


def test_a_session_verified_by_a_code_is_not_asked_again(required, client, staff):
    totp, _codes = enrolled(staff)
    sign_in(client, staff)
    client.post(VERIFY, {"code": totp.now(), "next": "/"})
    age_the_check(client, 3600)

    assert client.get("/").status_code == 200
    assert client.session[two_factor.SESSION_KEY] == two_factor.DONE


def test_wrong_code_refused_in_french_then_right_code_passes(required, client, staff):
    totp, _codes = enrolled(staff)
    sign_in(client, staff)
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong, "next": "/candidats/"})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert client.get("/").status_code == 302

    # django-otp throttles the device after a failure: the right code waits its turn.
    response = client.post(VERIFY, {"code": totp.now(), "next": "/candidats/"})
    assert "Trop de codes erronés" in response.content.decode()
    TOTPDevice.objects.filter(user=staff).update(
        throttling_failure_timestamp=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))

    response = client.post(VERIFY, {"code": totp.now(), "next": "/candidats/"})
    assert response.status_code == 302
    assert response.url == "/candidats/"
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_code_is_accepted_once(client, staff):
    """The same TOTP code cannot open a second session (django-otp's last_t)."""
    totp, _codes = enrolled(staff)
    code = totp.now()
    sign_in(client, staff)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post(reverse("logout"))
    sign_in(client, staff)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()


def test_recovery_code_works_once_only(required, client, staff):
    _totp, codes = enrolled(staff)
    sign_in(client, staff)
    response = client.post(VERIFY, {"code": codes[0].upper(), "next": "/"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=staff).count() == 9

    client.post(reverse("logout"))
    sign_in(client, staff)
    response = client.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert client.get("/").status_code == 302


def test_enrolment_page_shows_qr_and_secret_then_recovery_codes_once(required, client,
                                                                       staff):
    sign_in(client, staff)
    page = client.get(ENROL + "?next=/candidats/")
    body = page.content.decode()
    assert 'src="data:image/svg+xml' in body
    secret = page.context["secret"].replace(" ", "")
    totp = pyotp.TOTP(secret)

    response = client.post(ENROL, {"code": "000000" if totp.now() != "000000" else "111111",
                                   "next": "/candidats/"})
    assert "Code incorrect" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff).exists()

    response = client.post(ENROL, {"code": totp.now(), "next": "/candidats/"})
    assert response.status_code == 302
    codes_page = client.get(response.url)
    codes = codes_page.context["codes"]
    assert len(codes) == 10
    assert all(code in codes_page.content.decode() for code in codes)
    assert "ne seront plus jamais affichés" in codes_page.content.decode()
    assert codes_page.context["next"] == "/candidats/"
    assert client.get(response.url).status_code == 302  # shown once
    assert client.get("/candidats/").status_code == 200  # the session is verified
    assert TOTPDevice.objects.get(user=staff).confirmed


def test_an_outsider_never_sees_someone_elses_enrolment(client, staff, other_staff):
    client.force_login(staff)
    mine = client.get(ENROL).context["secret"].replace(" ", "")
    other = type(client)()
    other.force_login(other_staff)
    theirs = other.get(ENROL)
    assert mine not in theirs.content.decode()
    # The code of the first person's secret does not enrol the second.
    other.post(ENROL, {"code": pyotp.TOTP(mine).now()})
    assert not TOTPDevice.objects.filter(user=other_staff).exists()
    # Nor can they reset it: another centre's account is not found.
    assert other.get(reverse("two_factor:reset", args=[staff.pk])).status_code == 404


# ---------------------------------------------------------------------------
# Staff reset
# ---------------------------------------------------------------------------
def test_staff_reset_deletes_devices_and_is_audited(client, staff, centre, caplog):
    colleague = member(Role.JURY, centre=centre)
    enrolled(colleague)
    client.force_login(staff)
    url = reverse("two_factor:reset", args=[colleague.pk])
    assert client.get(reverse("two_factor:account_list")).status_code == 200

    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=colleague).exists()

    with caplog.at_level("WARNING", logger="commissions.two_factor"):
        response = client.post(url, {"reason": "Téléphone perdu, appel vérifié."})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticToken.objects.filter(device__user=colleague).exists()
    entry = LogEntry.objects.get(object_id=str(colleague.pk))
    assert entry.user == staff
    assert "Téléphone perdu, appel vérifié." in entry.change_message
    assert f"target_user_id={colleague.pk} actor_user_id={staff.pk}" in caplog.text
    assert colleague.username not in caplog.text  # ids only in the log
    assert "Téléphone perdu" in client.get(url).content.decode()  # history shown


def test_staff_may_not_reset_their_own_nor_another_centres(client, staff, other_staff):
    client.force_login(staff)  # then enrols: a verified session (the enrolment page does so)
    enrolled(staff)
    assert client.get(reverse("two_factor:reset", args=[staff.pk])).status_code == 404
    assert client.post(reverse("two_factor:reset", args=[staff.pk]),
                       {"reason": "Moi-même"}).status_code == 404
    assert client.get(reverse("two_factor:reset", args=[other_staff.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=staff).exists()
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.reset(target=staff, actor=staff, reason="Moi-même")
    assert not LogEntry.objects.exists()


def test_evaluator_has_no_reset_page(client, evaluator_factory, staff):
    client.force_login(evaluator_factory().user)
    assert client.get(reverse("two_factor:account_list")).status_code == 404
    assert client.get(reverse("two_factor:reset", args=[staff.pk])).status_code == 404


def test_reset_user_is_sent_to_enrolment_at_next_sign_in(required, client, staff, centre):
    colleague = member(Role.STAFF, centre=centre)
    enrolled(colleague)
    two_factor.reset(target=colleague, actor=staff, reason="Téléphone perdu")
    sign_in(client, colleague)
    assert client.get("/").url.startswith(ENROL)


def test_devices_are_not_editable_in_the_admin():
    # Only the audited reset (with a reason) removes a device: not django-otp's admin pages.
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
