"""Celery tasks of the candidates app: thin, idempotent wrappers (STYLE.md §7)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from candidates.models import AccessLink, LinkPurpose
from config.links import make_token

TEMPLATES = {
    LinkPurpose.CANDIDATE_UPLOAD: "candidates/email/candidate_link",
    LinkPurpose.COMPANY_OPINION: "candidates/email/opinion_link",
}
URL_NAMES = {
    LinkPurpose.CANDIDATE_UPLOAD: "links:candidate_space",
    LinkPurpose.COMPANY_OPINION: "links:company_opinion",
}


def link_url(link: AccessLink) -> str:
    token = make_token(link_id=link.pk, nonce=link.nonce, purpose=link.purpose)
    return settings.SITE_URL + reverse(URL_NAMES[link.purpose], args=[token])


@shared_task(acks_late=True)
def send_link_email(*, link_id: int) -> bool:
    """E-mail a personal link once: ``sent_at`` makes a second run a no-op."""
    with transaction.atomic():
        link = (AccessLink.objects.select_for_update(of=("self",))
                .select_related("registration__candidate", "registration__centre",
                                "registration__version__certification", "registration__tutor")
                .filter(pk=link_id).first())
        if link is None or link.sent_at is not None or link.revoked_at is not None:
            return False
        context = {"link": link, "registration": link.registration, "url": link_url(link),
                   "centre": link.registration.centre}
        base = TEMPLATES[link.purpose]
        subject = render_to_string(f"{base}_subject.txt", context).strip()
        body = render_to_string(f"{base}.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [link.email])
        link.sent_at = timezone.now()
        link.save(update_fields=["sent_at"])
    return True
