"""Written convocations of the jury members and the CPREFP export (DOMAIN.md §6): one e-mail
with a PDF letter per seat, never twice, the 8 days' notice warning, the staff button; the
composition and provisional calendar exported as CSV for the CPREFP, safe in a spreadsheet
and scoped to the staff's centres."""

import csv
import datetime
import html
import io
import unicodedata

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from certifications.models import Role
from commissions import juries
from commissions.models import College, JurySession, Seat
from tests.evaluations.conftest import make_jury_member
from tests.factories import CentreFactory, member

pytestmark = pytest.mark.django_db

PLACE = "UIMM Pays de la Loire, salle Vauban, Nantes"


def make_session(centre, certification, *, days, staff=None, place=PLACE):
    session = JurySession.objects.create(
        centre=centre, date=timezone.localdate() + datetime.timedelta(days=days),
        start_time=datetime.time(14, 0), place=place, created_by=staff)
    session.certifications.set([certification])
    return session


@pytest.fixture
def session(centre, certification, staff, jury_members):
    """In 20 days: the president and another employer, the CFDT and CGT members."""
    session = make_session(centre, certification, days=20, staff=staff)
    juries.add_seat(session=session, member=jury_members["president"], president=True)
    for key in ("employer", "cfdt", "cgt"):
        juries.add_seat(session=session, member=jury_members[key])
    return session


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def french_date(day: datetime.date) -> str:
    with translation.override("fr"):
        return dateformat.format(day, "j F Y")


def compose_url(session):
    return reverse("juries:session_compose", args=[session.pk])


# ---------------------------------------------------------------------------
# Written convocations (art. 55.2)
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_one_convocation_per_seat_with_the_pdf_letter(session, staff, jury_members,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        warnings = juries.send_convocations(session=session, actor=staff)
    assert warnings == []
    seats = list(session.seats.select_related("member__user"))
    assert len(mail.outbox) == len(seats) == 4
    assert all(seat.convocation_sent_at for seat in seats)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == sorted(seat.member.user.email for seat in seats)
    cfdt = jury_members["cfdt"]
    message = by_recipient[cfdt.user.email]
    assert message.subject.startswith("Convocation au jury paritaire du ")
    assert message.subject.endswith(french_date(session.date))
    assert "peut être présentée à votre employeur" in message.body
    ((name, content, mimetype),) = message.attachments
    assert mimetype == "application/pdf"
    assert name == f"convocation-jury-{session.date:%Y-%m-%d}.pdf"
    text = pdf_text(content)
    assert str(cfdt) in text
    assert french_date(session.date) in text
    assert "14:00" in text and "Collège salariés" in text and "CFDT" in text
    assert "art. 55.2" in text and "La délégation employeurs" in text


def test_a_second_send_convokes_only_the_new_seats(session, staff, centre, certification,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        juries.send_convocations(session=session, actor=staff)
    first = dict(session.seats.values_list("pk", "convocation_sent_at"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        juries.send_convocations(session=session, actor=staff)
    assert callbacks == []
    assert len(mail.outbox) == 4
    assert dict(session.seats.values_list("pk", "convocation_sent_at")) == first
    # The task itself never sends twice either.
    from commissions.tasks import send_jury_convocation

    assert send_jury_convocation(seat_id=next(iter(first))) is False
    late = make_jury_member(centre=centre, college=College.EMPLOYEES, organisation="CFE-CGC",
                            username="jury.cgc", first_name="Marie", last_name="Caron")
    juries.add_seat(session=session, member=late)
    with django_capture_on_commit_callbacks(execute=True):
        juries.send_convocations(session=session, actor=staff)
    assert len(mail.outbox) == 5
    assert mail.outbox[-1].to == [late.user.email]


def test_warning_when_the_convocation_leaves_less_than_8_days(
        session, staff, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    assert juries.send_convocations(session=session, actor=staff,
                                    today=session.date - datetime.timedelta(days=8)) == []
    with django_capture_on_commit_callbacks(execute=False):
        warnings = juries.send_convocations(session=session, actor=staff,
                                            today=session.date - datetime.timedelta(days=7))
    assert warnings == ["Attention : cette convocation laisse 7 jours aux membres salariés, "
                        "moins que les 8 jours de prévenance dus à leur employeur."]
    JurySession.objects.filter(pk=session.pk).update(date=today + datetime.timedelta(days=5))
    session.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        warnings = juries.send_convocations(session=session, actor=staff)
    assert len(warnings) == 1 and "laisse 5 jours" in warnings[0]
    assert len(mail.outbox) == 4  # the warning does not stop the convocations


def test_staff_send_the_convocations_from_the_compose_page(
        client, session, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    page = html.unescape(client.get(compose_url(session)).content.decode())
    assert 'data-testid="send-convocations"' in page
    assert "Envoyer les convocations" in page
    JurySession.objects.filter(pk=session.pk).update(
        date=timezone.localdate() + datetime.timedelta(days=6))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(compose_url(session), {"action": "send_convocations"})
    assert response.status_code == 302
    assert len(mail.outbox) == 4
    response = client.get(response["Location"])
    assert not Seat.objects.filter(session=session, convocation_sent_at__isnull=True).exists()
    levels = {str(m): m.level_tag for m in response.context["messages"]}
    assert any("laisse 6 jours" in text and level == "warning" for text, level in levels.items())
    page = html.unescape(response.content.decode())
    assert 'data-testid="send-convocations"' not in page
    assert "Convocation envoyée le" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(compose_url(session), {"action": "send_convocations"},
                               follow=True)
    assert "ont déjà reçu leur convocation" in html.unescape(response.content.decode())
    assert len(mail.outbox) == 4


def test_a_jury_member_cannot_send_the_convocations(
        client, session, jury_members, django_capture_on_commit_callbacks):
    client.force_login(jury_members["president"].user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(compose_url(session), {"action": "send_convocations"})
    assert response.status_code in (403, 404)
    assert mail.outbox == []
    assert not Seat.objects.filter(session=session, convocation_sent_at__isnull=False).exists()


# ---------------------------------------------------------------------------
# CPREFP export
# ---------------------------------------------------------------------------
EXPORT_URL = "/jurys/export-cprefp.csv"


def read_export(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(content[1:]), delimiter=";"))


def test_cprefp_export_lists_composition_and_calendar(
        client, centre, certification, session, staff, jury_members,
        django_capture_on_commit_callbacks):
    assert reverse("juries:cprefp_export") == EXPORT_URL
    with django_capture_on_commit_callbacks(execute=True):
        juries.invite_unions(session=session, actor=staff, addresses={
            org: f"{org.lower()}@syndicat.example" for org in settings.JURIES["UNIONS"]})
    recent = make_session(centre, certification, days=-30, place="Saint-Nazaire")
    make_session(centre, certification, days=-120, place="Trop ancienne")
    client.force_login(staff)
    assert "Export CPREFP (CSV)" in html.unescape(
        client.get(reverse("juries:session_list")).content.decode())
    rows = read_export(client.get(EXPORT_URL))
    assert [row["Lieu"] for row in rows] == ["Saint-Nazaire", PLACE]
    row = rows[1]
    assert row["Date"] == session.date.strftime("%d/%m/%Y") and row["Heure"] == "14:00"
    assert row["Certifications"] == f"{certification.kind} {certification.code}"
    assert row["Président"] == "Anne Lefèvre"
    assert row["Membres collège employeurs"] == (
        "Anne Lefèvre (UIMM Loire-Atlantique), Paul Renaud (Chantiers de l'Atlantique)")
    assert row["Membres collège salariés"] == "Nadia Benali (CFDT), Luc Moreau (CGT)"
    sent_on = timezone.localdate().strftime("%d/%m/%Y")
    for organisation in settings.JURIES["UNIONS"]:
        assert f"{organisation} (invitée le {sent_on})" in row["Organisations invitées"]
    assert row["Statut"] == "En préparation"
    assert rows[0]["Date"] == recent.date.strftime("%d/%m/%Y")
    assert rows[0]["Membres collège salariés"] == ""


def test_cprefp_export_neutralises_formulas(client, centre, session, staff):
    formula = make_jury_member(centre=centre, college=College.EMPLOYERS,
                               organisation="=HYPERLINK(1)", username="jury.formule",
                               first_name="Eve", last_name="Formule")
    juries.add_seat(session=session, member=formula)
    client.force_login(staff)
    (row,) = read_export(client.get(EXPORT_URL))
    assert "Eve Formule ('=HYPERLINK(1))" in row["Membres collège employeurs"]
    JurySession.objects.filter(pk=session.pk).update(place="=HYPERLINK(1)")
    (row,) = read_export(client.get(EXPORT_URL))
    assert row["Lieu"] == "'=HYPERLINK(1)"


def test_cprefp_export_is_for_the_staff_of_the_centre(client, centre, certification, session,
                                                      jury_members):
    other_centre = CentreFactory(name="UIMM Bretagne")
    make_session(other_centre, certification, days=10, place="Rennes")
    other_staff = member(Role.STAFF, centre=other_centre, username="gestion.bretagne")
    client.force_login(other_staff)
    rows = read_export(client.get(EXPORT_URL))
    assert [row["Lieu"] for row in rows] == ["Rennes"]
    assert all(PLACE not in row.values() for row in rows)
    for outsider in (jury_members["president"].user,
                     member(Role.EVALUATOR, centre=centre, username="expert.seul")):
        client.force_login(outsider)
        assert client.get(EXPORT_URL).status_code == 404
    client.logout()
    assert client.get(EXPORT_URL).status_code == 302
