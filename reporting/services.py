"""Every write of the declaration of holders to the Caisse des Dépôts (DOMAIN.md §7).

- ``sync_awards``: the awards follow the final, current decisions (a correction puts a
  declared award back on the due list, flagged), and the identity they need.
- ``generate_batch`` / ``write_batch``: one file, streamed, reproduced byte for byte.
- ``import_receipt``: the Caisse's accusé de traitement, all or nothing, idempotent.

What is declared: the decision « admis » on a certification registered on the RNCP or the
RS (its own number: a bloc certified on its own carries its RNCPxxxxxBCxx code). A
validation partielle (blocs acquired inside a CQPM the candidate did not obtain) is not
declared: the file only knows a certification obtained ``PAR_ADMISSION``; the blocs are
kept as partial results (DOMAIN.md §6). Certifications on neither register never are.
"""

import datetime
import functools
import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from candidates.models import BirthCommuneCodeKind, Path
from candidates.validators import validate_insee_code, validate_postal_code
from certifications.models import Registry
from config.planning import joins_as_written
from config.querysets import in_chunks
from evaluations.models import Decision
from reporting import holders_xml, receipts
from reporting.models import (
    TRANSITIONS,
    Award,
    AwardEvent,
    AwardState,
    BatchItem,
    DeclarationBatch,
    HoldersReceipt,
)

PASSED = "admis"
CHUNK = 1000
MAX_PASSAGES = 200_000
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

ACCESS_BY_PATH = {
    Path.SALARIE: "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    Path.DEMANDEUR_EMPLOI: "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    Path.CONTRAT_PRO: "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    Path.APPRENTISSAGE: "FORMATION_INITIALE_APPRENTISSAGE",
    Path.CANDIDAT_LIBRE: "CANDIDAT_LIBRE",
    Path.VAE: "VAE",
}
# The registration does not record a congé VAE: the branch's route is the classic one.
VAE_ROUTE = "VAE_CLASSIQUE"
ALREADY_DECLARED = "existe déjà en base"


def stored_in_french(service):
    """Reasons and timeline messages are data: written in the site's language (French)
    whatever the language of the request that triggered the service."""
    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return service(*args, **kwargs)
    return wrapper


class DeclarationError(ValidationError):
    """A declaration act refused, with a French message for the page or the command."""


def config() -> dict:
    return settings.CDC_DECLARATION


def missing_settings() -> list[str]:
    """The identifiers of the contract with the Caisse not configured (DOMAIN.md §7)."""
    conf = config()
    missing = []
    if len(conf["ID_CLIENT"]) != 8:
        missing.append("CDC_ID_CLIENT (idClient, 8 caractères)")
    if not 1 <= len(conf["ID_CONTRAT"]) <= 20:
        missing.append("CDC_ID_CONTRAT (idContrat, 20 caractères au plus)")
    if conf["NATURE_DEPOSANT"] not in ("CERTIFICATEUR", "TIERS_CONFIANCE"):
        missing.append("CDC_NATURE_DEPOSANT (CERTIFICATEUR ou TIERS_CONFIANCE)")
    return missing


def certification_code(registry: str, number: str) -> str:
    """« RNCP12345 » whether the number was written with its register's prefix or not."""
    number = "".join(number.split()).upper()
    return number if number.startswith(registry) else f"{registry}{number}"


# ---------------------------------------------------------------------------
# State of an award
# ---------------------------------------------------------------------------
def _event(award: Award, to_state: str, *, actor=None, message: str = "", batch=None,
           receipt=None) -> AwardEvent:
    return AwardEvent(award=award, from_state=award.state, to_state=to_state, actor=actor,
                      message=message, batch=batch, receipt=receipt)


def _move(award: Award, to_state: str, **event) -> AwardEvent:
    """Check the table of allowed transitions and prepare the timeline row; the caller
    saves the award and the events (in bulk for a batch)."""
    if to_state not in TRANSITIONS[award.state]:
        raise DeclarationError(_("Passage %(id)s : « %(from)s » ne peut pas devenir « %(to)s ».")
                               % {"id": award.id_technique,
                                  "from": AwardState(award.state).label,
                                  "to": AwardState(to_state).label})
    row = _event(award, to_state, **event)
    award.state = to_state
    return row


@stored_in_french
@transaction.atomic
def transition(*, award: Award, to_state: str, actor=None, message: str = "") -> Award:
    """The one place an award changes state by hand (a re-send after a correction)."""
    award = Award.objects.select_for_update().get(pk=award.pk)
    event = _move(award, to_state, actor=actor, message=message)
    award.save(update_fields=["state"])
    event.save()
    return award


def resend(*, award: Award, actor) -> Award:
    """A refused award, its identity corrected, goes back to the due list under the same
    idTechnique (DOMAIN.md §7)."""
    if award.state not in (AwardState.REFUSED, AwardState.IN_BATCH):
        raise DeclarationError(_("Seul un passage refusé ou en attente d'accusé se renvoie."))
    award = transition(award=award, to_state=AwardState.DUE, actor=actor,
                       message=_("Corrigé, à déclarer de nouveau."))
    sync_awards(centre_ids=[award.centre_id])
    return award


# ---------------------------------------------------------------------------
# Awards follow the decisions
# ---------------------------------------------------------------------------
def _dates(final_at: datetime.datetime) -> dict:
    decided_on = timezone.localtime(final_at).date()
    conf = config()
    deadline = decided_on + relativedelta(months=conf["DEADLINE_MONTHS"])
    # The delay that absorbs corrections never runs past the legal limit (DOMAIN.md §7).
    due_on = min(decided_on + datetime.timedelta(days=conf["DELAY_DAYS"]), deadline)
    return {"decided_on": decided_on, "due_on": due_on, "deadline": deadline}


def identity_gaps(candidate, certification) -> list[str]:
    """What blocks the declaration of one award: missing or invalid identity, or a
    certification without its RNCP/RS number."""
    gaps = list(candidate.declaration_gaps)
    code, kind = candidate.birth_commune_code, candidate.birth_commune_code_kind
    if code and kind:
        check = (validate_insee_code if kind == BirthCommuneCodeKind.INSEE
                 else validate_postal_code)
        try:
            check(code)
        except ValidationError:
            gaps.append(_("code de commune de naissance invalide (%(code)s)") % {"code": code})
    if not certification.registry_number:
        gaps.append(_("numéro %(registry)s de la certification")
                    % {"registry": certification.registry})
    return gaps


@stored_in_french
@transaction.atomic
def sync_awards(*, centre_ids: list[int] | None = None) -> int:
    """Bring the awards in line with the final, current decisions of the centres (all when
    None) and with their holders' identity. Idempotent; a fixed number of queries whatever
    the number of awards. Returns the number of awards changed or created."""
    # Only the decisions that change something, found by the database: an « admis » that no
    # award follows yet, or a decision that supersedes the one its award follows. A page view
    # then reads a handful of rows, not every decision of the centre.
    award = Award.objects.filter(registration_id=OuterRef("registration_id"))
    decisions = (Decision.objects
                 .filter(final_at__isnull=False, superseded_by__isnull=True,
                         registration__version__certification__registry__in=Registry.values)
                 .filter(Q(outcome=PASSED) & ~Exists(award)
                         | Exists(award.exclude(decision_id=OuterRef("pk"))))
                 .annotate(followed_decision=Subquery(award.values("decision_id")[:1]))
                 .values_list("pk", "registration_id", "outcome", "final_at",
                              "registration__centre_id", "registration__reference",
                              "followed_decision"))
    if centre_ids is not None:
        decisions = decisions.filter(registration__centre_id__in=centre_ids)
    # The awards to change are loaded whole, and locked, below.
    created, corrected = [], {}
    for pk, registration_id, outcome, final_at, centre_id, reference, followed_decision \
            in decisions:
        if followed_decision is None:
            if outcome == PASSED:
                created.append(Award(centre_id=centre_id, registration_id=registration_id,
                                      decision_id=pk, id_technique=reference,
                                      **_dates(final_at)))
        elif followed_decision != pk:
            corrected[registration_id] = (pk, outcome, final_at)
    changed, events = [], []
    for award in Award.objects.select_for_update().filter(registration_id__in=corrected):
        pk, outcome, final_at = corrected[award.registration_id]
        # A correction (issue 6): a new decision superseding the one this award followed.
        was_sent = award.last_batch_id is not None
        award.decision_id = pk
        for name, value in _dates(final_at).items():
            setattr(award, name, value)
        if outcome == PASSED:
            award.is_correction = was_sent
            if award.state != AwardState.DUE:
                events.append(_move(award, AwardState.DUE, message=_(
                    "Décision corrigée après déclaration : à déclarer de nouveau (correction)."
                ) if was_sent else _("Décision corrigée.")))
        elif award.state != AwardState.WITHDRAWN:
            events.append(_move(award, AwardState.WITHDRAWN, message=_(
                "Décision corrigée : le candidat n'est plus admis. Déjà transmis à la Caisse "
                "des Dépôts : demandez-lui le retrait de ce passage."
            ) if award.state == AwardState.DECLARED else _(
                "Décision corrigée : le candidat n'est plus admis.")))
        changed.append(award)
    if created:
        Award.objects.bulk_create(created, ignore_conflicts=True)
        fresh = Award.objects.filter(registration_id__in=[a.registration_id for a in created],
                                     state=AwardState.DUE, events__isnull=True)
        events += [AwardEvent(award=a, to_state=AwardState.DUE,
                              message=_("Décision « admis » définitive.")) for a in fresh]
    if changed:
        Award.objects.bulk_update(changed, ["decision", "decided_on", "due_on", "deadline",
                                            "state", "is_correction"])
    blocked = _check_identity(centre_ids, events)
    if blocked:
        Award.objects.bulk_update(blocked, ["state", "blocked_reason"])
    AwardEvent.objects.bulk_create(events)
    return len(created) + len(changed) + len(blocked)


def _check_identity(centre_ids, events: list) -> list[Award]:
    """Block the due awards whose identity is incomplete, release the completed ones."""
    candidate = "registration__candidate__"
    incomplete = (Q(**{f"{candidate}birth_name": ""}) | Q(**{f"{candidate}first_names": ""})
                  | Q(**{f"{candidate}birth_date__isnull": True})
                  | ~Q(**{f"{candidate}sex__in": ["M", "F"]})
                  | Q(**{f"{candidate}birth_commune_code": ""})
                  | Q(**{f"{candidate}birth_commune_code_kind": ""})
                  | Q(registration__version__certification__registry_number=""))
    # The blocked ones, and the due ones the database already sees incomplete: a page view
    # does not read every due award.
    awards = (Award.objects.filter(Q(state=AwardState.BLOCKED)
                                   | Q(state=AwardState.DUE) & incomplete)
              .select_for_update(of=("self",))
              .select_related("registration__candidate", "registration__version__certification"))
    if centre_ids is not None:
        awards = awards.filter(centre_id__in=centre_ids)
    changed = []
    for award in awards:
        registration = award.registration
        gaps = identity_gaps(registration.candidate, registration.version.certification)
        reason = (_("À compléter : %(gaps)s.") % {"gaps": ", ".join(gaps)}) if gaps else ""
        target = AwardState.BLOCKED if gaps else AwardState.DUE
        if target == award.state and reason == award.blocked_reason:
            continue
        if target != award.state:
            events.append(_move(award, target, message=reason or _("Identité complétée.")))
        award.blocked_reason = reason
        changed.append(award)
    return changed


# ---------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------
def payload_of(award: Award) -> dict:
    """What one passage says, read once when the batch is made and stored with it. ``award``
    comes from ``passage_awards``: its dossier's columns are attributes (``dossier_…``)."""
    birth_name = award.dossier_birth_name.strip()
    usage_name = award.dossier_usage_name.strip()
    birth_date = award.dossier_birth_date
    path = award.dossier_path
    return {
        "type": award.dossier_registry,
        "code": certification_code(award.dossier_registry, award.dossier_registry_number),
        "id": award.id_technique,
        "start": award.session_date.isoformat(),
        "end": None,  # the branch's certifications have no end of validity
        "access": ACCESS_BY_PATH[path],
        "vae": VAE_ROUTE if path == Path.VAE else None,
        "birth_name": birth_name,
        "usage_name": usage_name if usage_name and usage_name != birth_name else None,
        "first_name": award.dossier_first_names.replace(",", " ").split()[0],
        "year": f"{birth_date.year:04d}",
        "month": f"{birth_date.month:02d}",
        "day": f"{birth_date.day:02d}",
        "sex": award.dossier_sex,
        "commune_kind": award.dossier_birth_commune_code_kind,
        "commune_code": award.dossier_birth_commune_code,
        "commune_name": award.dossier_birth_commune_name.strip() or None,
        "country_code": award.dossier_birth_country_code or None,
        "country_name": None,
    }


def header_of(batch: DeclarationBatch) -> dict:
    return {"id_flux": batch.id_flux,
            "horodatage": batch.created_at.astimezone(PARIS).isoformat(timespec="seconds"),
            "id_client": batch.id_client, "id_contrat": batch.id_contrat,
            "nature_deposant": batch.nature_deposant}


# What a passage reads of the award's dossier (payload_of), as plain columns of the award's
# row: building a registration, a candidate, a version and a certification for each award
# was a third of a 16 000-passage batch.
PASSAGE_COLUMNS = {
    "path": "registration__path",
    **{name: f"registration__candidate__{name}" for name in (
        "first_names", "birth_name", "usage_name", "birth_date", "sex",
        "birth_commune_code_kind", "birth_commune_code", "birth_commune_name",
        "birth_country_code")},
    "registry": "registration__version__certification__registry",
    "registry_number": "registration__version__certification__registry_number",
}


def passage_awards(centre_ids: list[int] | None):
    """The due awards as a batch reads them: their own state and identifiers (_record), and
    their dossier's columns for the passage (payload_of)."""
    return (due_awards(centre_ids)
            .only("id_technique", "state", "is_correction")
            .annotate(**{f"dossier_{name}": F(path) for name, path in PASSAGE_COLUMNS.items()}))


def due_awards(centre_ids: list[int] | None):
    awards = (Award.objects.filter(state=AwardState.DUE, due_on__lte=timezone.localdate())
              # The jury's date only: the decision's own JSON columns are not read.
              .annotate(session_date=F("decision__session_candidate__session__date"))
              .order_by("registration__version__certification__registry",
                        "registration__version__certification__registry_number",
                        "id_technique"))
    if centre_ids is not None:
        awards = awards.filter(centre_id__in=centre_ids)
    return awards


@dataclass
class GeneratedBatch:
    batch: DeclarationBatch
    count: int


@stored_in_french
@transaction.atomic
def generate_batch(*, actor, out, centre=None, centre_ids: list[int] | None = None
                   ) -> GeneratedBatch:
    """Put every due award of the centres in one new batch and write its file to ``out``
    (binary stream), passage after passage. The awards become « envoyée »."""
    missing = missing_settings()
    if missing:
        raise DeclarationError(_("Déclaration non configurée : renseignez %(names)s.")
                               % {"names": ", ".join(missing)})
    sync_awards(centre_ids=centre_ids)
    conf = config()
    now = timezone.now().replace(microsecond=0)
    batch = DeclarationBatch.objects.create(
        id_flux=f"{now.astimezone(PARIS):%Y%m%d%H%M%S}-{secrets.token_hex(4).upper()}",
        created_at=now, created_by=actor, centre=centre, id_client=conf["ID_CLIENT"],
        id_contrat=conf["ID_CONTRAT"], nature_deposant=conf["NATURE_DEPOSANT"])
    writer = holders_xml.HashingWriter(out)
    state = {"position": 0}

    def payloads():
        # DOMAIN.md §7: 200,000 passages a file at most; the rest go in the next batch.
        awards = passage_awards(centre_ids).select_for_update(of=("self",))
        chunk: list[tuple[Award, dict]] = []
        # Each chunk joins its thousand awards on unique keys: in that order PostgreSQL looks
        # them up (≈ 50 ms a chunk at N=20); left to choose, it merged them with a read of
        # every registration and decision (≈ 120 ms).
        with joins_as_written():
            for award in in_chunks(awards, CHUNK, limit=MAX_PASSAGES):
                payload = payload_of(award)
                chunk.append((award, payload))
                yield payload
                if len(chunk) == CHUNK:
                    _record(batch, chunk, state, actor)
                    chunk = []
            if chunk:
                _record(batch, chunk, state, actor)

    count = holders_xml.write_flux(writer, header=header_of(batch), payloads=payloads())
    if not count:
        raise DeclarationError(_("Aucun passage à déclarer pour l'instant : rien n'a été "
                                 "généré."))
    batch.award_count = count
    batch.sha256 = writer.hexdigest
    batch.save(update_fields=["award_count", "sha256"])
    return GeneratedBatch(batch=batch, count=count)


def _record(batch, chunk: list[tuple[Award, dict]], state: dict, actor) -> None:
    items, events = [], []
    for award, payload in chunk:
        items.append(BatchItem(batch=batch, award=award, position=state["position"],
                               payload=payload))
        state["position"] += 1
        events.append(_move(award, AwardState.IN_BATCH, actor=actor, batch=batch,
                            message=_("Correction envoyée dans le lot %(flux)s.")
                            % {"flux": batch.id_flux} if award.is_correction else
                            _("Envoyé dans le lot %(flux)s.") % {"flux": batch.id_flux}))
        award.last_batch = batch
    BatchItem.objects.bulk_create(items)
    Award.objects.filter(pk__in=[a.pk for a, _p in chunk]).update(
        state=AwardState.IN_BATCH, last_batch=batch)
    AwardEvent.objects.bulk_create(events)


def write_batch(batch: DeclarationBatch, out=None) -> str:
    """Write the batch's file again from what was stored; returns its SHA-256 (equal to
    ``batch.sha256`` for a file reproduced byte for byte)."""
    writer = holders_xml.HashingWriter(out)
    payloads = (payload for payload in
                batch.items.order_by("position").values_list("payload", flat=True)
                .iterator(chunk_size=CHUNK))
    holders_xml.write_flux(writer, header=header_of(batch), payloads=payloads)
    return writer.hexdigest


# ---------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------
@dataclass
class ReceiptResult:
    receipt: HoldersReceipt | None
    already_imported: bool = False
    declared: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.already_imported:
            return _("Cet accusé de traitement a déjà été importé : rien n'a changé.")
        return _("Accusé de traitement importé : %(ok)d passage(s) déclaré(s), %(ko)d "
                 "refusé(s), %(same)d inchangé(s).") % {
            "ok": len(self.declared), "ko": len(self.refused), "same": len(self.unchanged)}


@stored_in_french
@transaction.atomic
def import_receipt(*, data: bytes, actor=None, centre_ids: list[int] | None = None
                   ) -> ReceiptResult:
    """Read the Caisse's accusé de traitement: accepted awards become declared (the date is
    kept), refused ones go to the worklist with the Caisse's message; « existe déjà en
    base » counts as declared. All or nothing: an unknown idTechnique, or a file that is
    not a well-formed receipt, refuses the whole file (``receipts.ReceiptRefused``)."""
    digest = hashlib.sha256(data).hexdigest()
    if HoldersReceipt.objects.filter(sha256=digest).exists():
        return ReceiptResult(receipt=None, already_imported=True)
    parsed = receipts.parse(data)
    ids = set(parsed.accepted) | set(parsed.refused)
    awards = Award.objects.select_for_update().filter(id_technique__in=ids,
                                                      last_batch__isnull=False)
    if centre_ids is not None:
        awards = awards.filter(centre_id__in=centre_ids)
    known = {a.id_technique: a for a in awards}
    unknown = sorted(ids - set(known))
    if unknown:
        raise receipts.ReceiptRefused(_(
            "Accusé refusé : identifiant(s) technique(s) inconnu(s) ou jamais envoyé(s) : "
            "%(ids)s. Rien n'a été modifié.") % {"ids": ", ".join(unknown[:20])})
    batch = DeclarationBatch.objects.filter(
        id_flux=parsed.file_name.removeprefix("accrochage-").removesuffix(".xml")).first()
    receipt = HoldersReceipt.objects.create(file_name=parsed.file_name[:255], sha256=digest,
                                            imported_by=actor, batch=batch)
    result = ReceiptResult(receipt=receipt)
    today = timezone.localdate()
    events = []
    for id_technique, message in sorted(parsed.refused.items()):
        if ALREADY_DECLARED in message.lower():
            parsed.accepted.append(id_technique)
            continue
        award = known[id_technique]
        if award.state != AwardState.IN_BATCH:
            result.unchanged.append(id_technique)
            continue
        events.append(_move(award, AwardState.REFUSED, actor=actor, receipt=receipt,
                            message=message))
        award.refusal_message = message
        result.refused.append(id_technique)
    for id_technique in sorted(set(parsed.accepted)):
        award = known[id_technique]
        if award.state not in (AwardState.IN_BATCH, AwardState.REFUSED):
            result.unchanged.append(id_technique)
            continue
        events.append(_move(award, AwardState.DECLARED, actor=actor, receipt=receipt,
                            message=_("Accepté par la Caisse des Dépôts.")))
        award.declared_on = today
        award.refusal_message = ""
        award.is_correction = False
        result.declared.append(id_technique)
    Award.objects.bulk_update(known.values(), ["state", "declared_on", "refusal_message",
                                               "is_correction"])
    AwardEvent.objects.bulk_create(events)
    receipt.accepted, receipt.refused = len(result.declared), len(result.refused)
    receipt.save(update_fields=["accepted", "refused"])
    return result
