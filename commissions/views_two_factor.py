"""Pages of the two-factor sign-in (commissions.two_factor): the code asked after the
password, the enrolment (QR code, secret, confirmation, recovery codes shown once), the
person's own status page, and the staff reset of a colleague's lost device."""

from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from certifications.scoping import staff_centre_ids
from commissions import two_factor
from commissions.two_factor import two_factor_exempt
from commissions.two_factor_forms import CodeForm, ResetForm
from config.pdf import qr_svg_data_uri

ENROL_KEY = "two_factor_enrol_key"  # the secret being enrolled, kept server-side
CODES_KEY = "two_factor_new_codes"  # recovery codes, shown once then forgotten
PAGE_SIZE = 25


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return url
    return reverse("dashboard")


@login_required
@two_factor_exempt
def verify(request):
    """The code asked after the password (or a recovery code, used once)."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):  # reset by staff meanwhile, or nothing to verify
        step = request.session[two_factor.SESSION_KEY] = two_factor.pending_step(user)
        if step == two_factor.ENROL:
            return redirect("two_factor:enrol")
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.verify(user=user, code=form.cleaned_data["code"])
        except two_factor.TwoFactorError as error:
            form.add_error("code", error)
        else:
            two_factor.mark_done(request, device)
            if device.__class__ is not TOTPDevice:
                left = two_factor.remaining_recovery_codes(user)
                messages.warning(request, _(
                    "Code de secours utilisé : il ne servira plus. Il vous en reste %(n)d. "
                    "Si vous avez perdu votre téléphone, configurez dès maintenant une "
                    "nouvelle application (Double authentification).") % {"n": left})
            return redirect(_next_url(request))
    return render(request, "two_factor/verify.html",
                  {"form": form, "next": _next_url(request)})


@login_required
@two_factor_exempt
def enrol(request):
    """Set up the authenticator app. Replacing a device needs a verified session first."""
    user = request.user
    if user_has_device(user) and not user.is_verified():
        return redirect("two_factor:verify")
    key = request.session.get(ENROL_KEY) or two_factor.new_secret()
    request.session[ENROL_KEY] = key
    form = CodeForm(request.POST or None, submit_label=_("Activer"),
                    help_text=_("Le code à 6 chiffres affiché par l'application."))
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.enrol(user=user, key=key, code=form.cleaned_data["code"])
        except two_factor.TwoFactorError as error:
            form.add_error("code", error)
        else:
            two_factor.mark_done(request, device)
            del request.session[ENROL_KEY]
            request.session[CODES_KEY] = codes
            return redirect(reverse("two_factor:recovery_codes") + "?"
                            + urlencode({"next": _next_url(request)}))
    device = two_factor.totp_device_for_key(user, key)
    secret = b32encode(device.bin_key).decode()
    return render(request, "two_factor/enrol.html", {
        "form": form, "qr_code": qr_svg_data_uri(device.config_url),
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "replacing": user_has_device(user), "required": two_factor.is_required(user),
        "next": _next_url(request)})


@login_required
def recovery_codes(request):
    """The new recovery codes, once: they are not stored in readable form anywhere else
    than the person's own notes."""
    codes = request.session.pop(CODES_KEY, None)
    if not codes:
        return redirect("two_factor:overview")
    return render(request, "two_factor/recovery_codes.html",
                  {"codes": codes, "next": _next_url(request)})


@login_required
def overview(request):
    """The person's own status: enrolled or not, required or not, recovery codes left."""
    user = request.user
    return render(request, "two_factor/overview.html", {
        "enrolled": user_has_device(user), "required": two_factor.is_required(user),
        "codes_left": two_factor.remaining_recovery_codes(user)})


def _may_reset_anyone(user) -> bool:
    return user.is_superuser or bool(staff_centre_ids(user))


def _accounts_of(user):
    """Accounts whose second factor ``user`` may reset (self excluded)."""
    accounts = get_user_model().objects.exclude(pk=user.pk)
    if not user.is_superuser:
        accounts = accounts.filter(memberships__centre_id__in=staff_centre_ids(user)).distinct()
    return accounts.annotate(enrolled=Exists(
        TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))


@login_required
def account_list(request):
    """Staff: the accounts of their centres and whether each has set up two-factor."""
    if not _may_reset_anyone(request.user):
        raise Http404
    accounts = _accounts_of(request.user).order_by("last_name", "first_name", "username")
    query = request.GET.get("q", "").strip()
    if query:
        accounts = accounts.filter(Q(username__icontains=query) | Q(last_name__icontains=query)
                                   | Q(first_name__icontains=query))
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "two_factor/account_list.html", {
        "page": page, "query": query, "query_string": urlencode({"q": query}) if query else ""})


@login_required
def reset(request, pk: int):
    """Staff: remove a colleague's devices (lost phone, no recovery code left), with a
    reason kept in the account's history. Others — the person themself included — get 404."""
    target = get_object_or_404(get_user_model(), pk=pk)
    if not two_factor.may_reset(request.user, target):
        raise Http404
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.reset(target=target, actor=request.user,
                             reason=form.cleaned_data["reason"])
        except two_factor.TwoFactorError as error:
            form.add_error("reason", error)
        else:
            messages.success(request, _(
                "Double authentification de %(name)s réinitialisée : le compte en configurera "
                "une nouvelle à sa prochaine connexion.")
                % {"name": target.get_full_name() or target.get_username()})
            return redirect("two_factor:account_list")
    return render(request, "two_factor/reset.html", {
        "form": form, "target": target, "enrolled": user_has_device(target),
        "history": two_factor.reset_history(target)})
