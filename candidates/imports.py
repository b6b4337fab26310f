"""CSV import of a batch of candidates and their registrations (docs/import-candidats.md).

All or nothing: every row is checked first and every problem is reported with its line and
column; if there is one, nothing is written. Otherwise one transaction creates the companies,
tutors and candidates, and the registrations through ``services.create_registration`` so that
their references and timeline are those of any other registration. A dry run does the same
work and rolls it back, so that what it announces is exactly what a real import would do.
"""

import csv
import datetime
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from candidates import services
from candidates.models import (
    OPEN_STATES,
    PATHS_WITH_EMPLOYER,
    Candidate,
    Company,
    Path,
    Registration,
    RegistrationState,
    Tutor,
)
from candidates.validators import normalise_siret, validate_siret
from certifications.models import (
    Certification,
    CertificationKind,
    ReferentialVersion,
    VersionStatus,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

# The file's columns, in the order of the documentation and of the example file.
COLUMNS = [
    "reference_externe", "nom_naissance", "nom_usage", "prenoms", "date_naissance", "sexe",
    "code_commune_naissance", "type_code_commune", "commune_naissance", "pays_naissance",
    "email", "telephone", "entreprise_siret", "entreprise_nom", "tuteur_email", "tuteur_nom",
    "tuteur_prenom", "certification_type", "certification_code", "version", "parcours",
    "date_inscription",
]
REQUIRED_COLUMNS = [
    "nom_naissance", "prenoms", "date_naissance", "certification_type", "certification_code",
    "parcours",
]
# Where a model field's validation error is shown.
CANDIDATE_FIELD_COLUMNS = {
    "birth_name": "nom_naissance", "usage_name": "nom_usage", "first_names": "prenoms",
    "birth_date": "date_naissance", "sex": "sexe", "email": "email", "phone": "telephone",
    "birth_commune_code": "code_commune_naissance",
    "birth_commune_code_kind": "type_code_commune", "birth_commune_name": "commune_naissance",
    "birth_country_code": "pays_naissance",
}
# Identity for the declaration to the Caisse des Dépôts (DOMAIN.md §7): a known candidate's
# blanks are filled from the file, never overwritten.
IDENTITY_FIELDS = ("birth_commune_code", "birth_commune_code_kind", "birth_commune_name",
                   "birth_country_code")
TUTOR_FIELD_COLUMNS = {"email": "tuteur_email", "last_name": "tuteur_nom",
                       "first_name": "tuteur_prenom"}
COMPANY_FIELD_COLUMNS = {"name": "entreprise_nom", "siret": "entreprise_siret"}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
DATE_PATTERN = re.compile(r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2}")
# A registration date outside this range is a typo, not history or planning.
OLDEST_REGISTRATION = datetime.date(1990, 1, 1)
REGISTRATION_DAYS_AHEAD = 366
EXTERNAL_REFERENCE_MAX = 50


# ---------------------------------------------------------------------------
# What the import reports
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """A problem (or a warning) found in the file. ``line`` counts the file's lines, the
    header being line 1; 0 means the file as a whole."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.line:
            return self.message
        if self.column:
            return _("ligne %(line)d, %(column)s : %(message)s") % {
                "line": self.line, "column": self.column, "message": self.message}
        return _("ligne %(line)d : %(message)s") % {"line": self.line, "message": self.message}


class CandidateImportError(Exception):
    """The file is refused; ``errors`` lists every problem found. Nothing was written."""

    def __init__(self, errors: list[Issue]):
        self.errors = sorted(errors, key=lambda issue: issue.line)
        super().__init__(ngettext(
            "Import refusé (%(count)d erreur) : rien n'a été enregistré.",
            "Import refusé (%(count)d erreurs) : rien n'a été enregistré.",
            len(self.errors),
        ) % {"count": len(self.errors)})


@dataclass
class ImportedRow:
    line: int
    candidate: str
    candidate_created: bool
    certification: str
    version: str
    path: str
    reference: str
    registration_id: int | None  # None after a dry run: nothing was kept


@dataclass
class ImportResult:
    dry_run: bool
    rows: list[ImportedRow] = field(default_factory=list)
    candidates_created: int = 0
    candidates_reused: int = 0
    companies_created: int = 0
    tutors_created: int = 0
    registrations_created: int = 0
    warnings: list[Issue] = field(default_factory=list)

    def summary(self) -> list[str]:
        """The counts in French, one sentence per kind of row."""
        would = self.dry_run
        counts = [
            (self.registrations_created,
             ngettext("%(count)d inscription créée", "%(count)d inscriptions créées",
                      self.registrations_created),
             ngettext("%(count)d inscription serait créée", "%(count)d inscriptions seraient "
                      "créées", self.registrations_created)),
            (self.candidates_created,
             ngettext("%(count)d candidat créé", "%(count)d candidats créés",
                      self.candidates_created),
             ngettext("%(count)d candidat serait créé", "%(count)d candidats seraient créés",
                      self.candidates_created)),
            (self.candidates_reused,
             ngettext("%(count)d candidat déjà connu réutilisé",
                      "%(count)d candidats déjà connus réutilisés", self.candidates_reused),
             ngettext("%(count)d candidat déjà connu serait réutilisé",
                      "%(count)d candidats déjà connus seraient réutilisés",
                      self.candidates_reused)),
            (self.companies_created,
             ngettext("%(count)d entreprise créée", "%(count)d entreprises créées",
                      self.companies_created),
             ngettext("%(count)d entreprise serait créée", "%(count)d entreprises seraient "
                      "créées", self.companies_created)),
            (self.tutors_created,
             ngettext("%(count)d tuteur créé", "%(count)d tuteurs créés", self.tutors_created),
             ngettext("%(count)d tuteur serait créé", "%(count)d tuteurs seraient créés",
                      self.tutors_created)),
        ]
        # Registrations always; the other counts only when something happened.
        return [(conditional if would else done) % {"count": count}
                for index, (count, done, conditional) in enumerate(counts)
                if count or index == 0]


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------
def fold(text: str) -> str:
    """Case-, accent-, hyphen- and apostrophe-insensitive form of a name, for matching."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    for separator in "-'’":
        text = text.replace(separator, " ")
    return " ".join(text.casefold().split())


def _column_key(header: str) -> str:
    """``Date naissance`` and ``date-naissance`` name the column ``date_naissance``."""
    return fold(header).replace(" ", "_")


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise CandidateImportError([Issue(line, "", _(
            "caractère invalide : le fichier n'est pas encodé en UTF-8. Dans le tableur, "
            "enregistrez-le au format « CSV UTF-8 (délimité par des points-virgules) »."
        ))]) from error
    if "\x00" in text:
        # Never text (PostgreSQL refuses it in a string): a binary file, or a damaged one.
        line = text[:text.index("\x00")].count("\n") + 1
        raise CandidateImportError([Issue(line, "", _(
            "caractère nul : ce fichier n'est pas un CSV texte (fichier binaire ou "
            "endommagé)."))])
    return text


# The csv module's messages are English; the ones a file can cause, in French.
CSV_REASONS = {
    "field larger than field limit": _lazy("valeur trop longue"),
    "unexpected end of data": _lazy("fin de fichier inattendue"),
    "new-line character seen in unquoted field": _lazy("retour à la ligne inattendu"),
    "',' expected after '\"'": _lazy("séparateur attendu après un guillemet fermant"),
    "';' expected after '\"'": _lazy("séparateur attendu après un guillemet fermant"),
}


def _csv_reason(error: csv.Error) -> str:
    message = str(error)
    for english, french in CSV_REASONS.items():
        if message.startswith(english):
            return str(french)
    return message


def _delimiter(text: str) -> str:
    """``;`` (French Excel) or ``,``, guessed from the header line."""
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,").delimiter
    except csv.Error:
        return "," if header.count(",") > header.count(";") else ";"


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first line of the record, values) for each non-blank record of the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    previous = 0
    try:
        for values in reader:
            start, previous = previous + 1, reader.line_num
            if any(value.strip() for value in values):
                yield start, values
    except csv.Error as error:
        raise CandidateImportError([Issue(reader.line_num or 1, "", _(
            "ligne illisible (%(reason)s) : vérifiez les guillemets."
        ) % {"reason": _csv_reason(error)})]) from error


def _header(line: int, values: list[str]) -> list[str | None]:
    """The column key at each position (None for an unnamed position), or the errors."""
    errors, keys, seen = [], [], set()
    for raw in values:
        raw = raw.strip()
        if not raw:
            keys.append(None)
            continue
        key = _column_key(raw)
        if key not in COLUMNS:
            close = difflib.get_close_matches(key, COLUMNS, n=1)
            hint = (_(" — vouliez-vous dire « %(name)s » ?") % {"name": close[0]} if close
                    else _(" — colonnes acceptées : %(names)s") % {"names": ", ".join(COLUMNS)})
            errors.append(Issue(line, raw, _("colonne inconnue") + hint))
        elif key in seen:
            errors.append(Issue(line, raw, _("colonne en double")))
        seen.add(key)
        keys.append(key)
    errors += [Issue(line, name, _("colonne obligatoire absente de l'en-tête"))
               for name in REQUIRED_COLUMNS if name not in seen]
    if errors:
        raise CandidateImportError(errors)
    return keys


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: stripped value}) for every data row; refuses the file's shape
    (size, encoding, header, row count, values outside the named columns)."""
    if len(data) > MAX_BYTES:
        raise CandidateImportError([Issue(0, "", _(
            "Le fichier dépasse la taille maximale de 5 Mo : découpez-le en plusieurs fichiers."
        ))])
    text = _decode(data)
    records = iter(_records(text))
    first = next(records, None)
    if first is None:
        raise CandidateImportError([Issue(0, "", _("Le fichier est vide."))])
    keys = _header(*first)
    rows, errors = [], []
    for line, values in records:
        if len(rows) == MAX_ROWS:
            raise CandidateImportError([Issue(0, "", _(
                "Le fichier compte plus de %(max)s lignes de données : découpez-le en plusieurs "
                "fichiers."
            ) % {"max": f"{MAX_ROWS:,}".replace(",", "\u202f")})])
        row = dict.fromkeys(COLUMNS, "")
        for position, value in enumerate(values):
            key = keys[position] if position < len(keys) else None
            if key is not None:
                row[key] = value.strip()
            elif value.strip():
                errors.append(Issue(line, "", _(
                    "valeur « %(value)s » hors des colonnes de l'en-tête (séparateur en trop ? "
                    "entourez de guillemets une valeur qui contient le séparateur)"
                ) % {"value": value.strip()}))
        rows.append((line, row))
    if errors:
        raise CandidateImportError(errors)
    if not rows:
        raise CandidateImportError([Issue(0, "", _(
            "Le fichier ne contient aucune ligne de données sous l'en-tête."))])
    return rows


def parse_date(value: str) -> datetime.date | None:
    """JJ/MM/AAAA or AAAA-MM-JJ, with a four-digit year (``1/2/26`` is not year 26)."""
    if not DATE_PATTERN.fullmatch(value):
        return None
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------
# Checking every row
# ---------------------------------------------------------------------------
@dataclass
class _Plan:
    """One valid row, resolved against the database."""

    line: int
    external_reference: str
    identity: tuple
    candidate_fields: dict
    candidate: Candidate | None  # an existing candidate of the centre
    siret: str
    company_name: str
    company: Company | None  # an existing company of the centre
    tutor_email: str
    tutor_fields: dict
    tutor: Tutor | None  # an existing tutor of that company
    certification: Certification
    version: ReferentialVersion
    path: str
    registered_on: datetime.date


def _model_errors(instance, line: int, columns: dict[str, str], exclude: list[str],
                  skip: set[str]) -> list[Issue]:
    """The model's own validation (lengths, e-mail, plausibility), on the file's columns."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return [Issue(line, columns.get(name, ""), message)
                for name, messages in error.message_dict.items()
                if columns.get(name) not in skip
                for message in messages]
    return []


class _Checker:
    """Checks the rows against the rules and the centre's data, in a fixed number of
    queries whatever the number of rows."""

    def __init__(self, centre, rows: list[tuple[int, dict[str, str]]]):
        self.centre = centre
        self.rows = rows
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self._load()

    def _load(self):
        rows = [row for _line, row in self.rows]
        sirets = {normalise_siret(r["entreprise_siret"]) for r in rows if r["entreprise_siret"]}
        self.companies = {c.siret: c for c in Company.objects.filter(centre=self.centre,
                                                                      siret__in=sirets)}
        emails = {r["tuteur_email"].lower() for r in rows if r["tuteur_email"]}
        self.tutors: dict[str, list[Tutor]] = {}
        for tutor in (Tutor.objects.select_related("company").annotate(email_key=Lower("email"))
                      .filter(company__centre=self.centre, email_key__in=emails)
                      .order_by("pk")):
            self.tutors.setdefault(tutor.email_key, []).append(tutor)
        kinds = {r["certification_type"].upper() for r in rows}
        versions = ReferentialVersion.objects.order_by("-valid_from", "-pk")
        self.certifications = {
            (c.kind, " ".join(c.code.upper().split())): c
            for c in Certification.objects.filter(kind__in=kinds)
            .prefetch_related(Prefetch("versions", queryset=versions))
        }
        dates = {parse_date(r["date_naissance"]) for r in rows} - {None}
        self.candidates: dict[tuple, Candidate] = {}
        for candidate in Candidate.objects.filter(centre=self.centre,
                                                  birth_date__in=dates).order_by("pk"):
            key = (fold(candidate.birth_name), fold(candidate.first_names), candidate.birth_date)
            self.candidates.setdefault(key, candidate)
        self.open_registrations: dict[tuple[int, int], Registration] = {
            (r.candidate_id, r.version.certification_id): r
            for r in Registration.objects.filter(
                candidate__in=[c.pk for c in self.candidates.values()], state__in=OPEN_STATES,
            ).select_related("version")
        }

    def error(self, line, column, message):
        self.errors.append(Issue(line, column, message))

    def check(self) -> list[_Plan]:
        plans = [plan for line, row in self.rows if (plan := self._row(line, row))]
        self._across_rows(plans)
        if self.errors:
            raise CandidateImportError(self.errors)
        return plans

    def _row(self, line: int, row: dict[str, str]) -> _Plan | None:
        count = len(self.errors)
        for name in REQUIRED_COLUMNS:
            if not row[name]:
                self.error(line, name, _("valeur obligatoire manquante"))
        birth_date = self._date(line, row, "date_naissance")
        registered_on = self._registration_date(line, row)
        sex = row["sexe"].upper()
        if sex and sex not in ("M", "F"):
            self.error(line, "sexe", _("valeur « %(value)s » inconnue (attendu M ou F)")
                       % {"value": row["sexe"]})
        path = row["parcours"].lower()
        if path and path not in Path.values:
            self.error(line, "parcours", _("parcours inconnu « %(value)s » (attendu : %(choices)s)")
                       % {"value": row["parcours"], "choices": ", ".join(Path.values)})
        external_reference = row["reference_externe"]
        if len(external_reference) > EXTERNAL_REFERENCE_MAX:
            self.error(line, "reference_externe",
                       _("%(max)d caractères au plus") % {"max": EXTERNAL_REFERENCE_MAX})

        candidate_fields = {
            "birth_name": row["nom_naissance"], "usage_name": row["nom_usage"],
            "first_names": row["prenoms"], "birth_date": birth_date, "sex": sex,
            "email": row["email"], "phone": row["telephone"],
            "birth_commune_code": row["code_commune_naissance"].upper(),
            "birth_commune_code_kind": row["type_code_commune"].lower(),
            "birth_commune_name": row["commune_naissance"],
            "birth_country_code": row["pays_naissance"].upper(),
        }
        identity = (fold(row["nom_naissance"]), fold(row["prenoms"]), birth_date)
        # Checked even for a known candidate: the file's values may fill blanks of the record.
        # Columns already refused above are not reported twice.
        already = {issue.column for issue in self.errors[count:]}
        self.errors += _model_errors(
            Candidate(centre=self.centre, **candidate_fields), line, CANDIDATE_FIELD_COLUMNS,
            exclude=["centre", "employer"], skip=already)
        candidate = self.candidates.get(identity) if birth_date else None
        if candidate is not None:
            self._compare(line, candidate, candidate_fields)

        siret, company = self._company(line, row)
        tutor_email, tutor_fields, tutor = self._tutor(line, row, siret, company)
        certification, version = self._certification(line, row)
        if path in PATHS_WITH_EMPLOYER and not row["entreprise_siret"]:
            self.error(line, "entreprise_siret", _(
                "le parcours « %(path)s » suppose une entreprise : renseignez entreprise_siret"
            ) % {"path": path})
        if candidate is not None and certification is not None:
            open_registration = self.open_registrations.get((candidate.pk, certification.pk))
            if open_registration is not None:
                self.error(line, "certification_code", _(
                    "%(name)s est déjà inscrit(e) sur %(kind)s %(code)s (inscription "
                    "%(reference)s, état « %(state)s ») : une seule inscription ouverte par "
                    "certification"
                ) % {"name": candidate.full_name, "kind": certification.kind,
                     "code": certification.code, "reference": open_registration.reference,
                     "state": RegistrationState(open_registration.state).label})
        if len(self.errors) > count:
            return None
        return _Plan(
            line=line, external_reference=external_reference, identity=identity,
            candidate_fields=candidate_fields, candidate=candidate, siret=siret,
            company_name=row["entreprise_nom"], company=company, tutor_email=tutor_email,
            tutor_fields=tutor_fields, tutor=tutor, certification=certification,
            version=version, path=path, registered_on=registered_on,
        )

    def _date(self, line, row, column) -> datetime.date | None:
        value = row[column]
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(line, column, _(
                "date invalide « %(value)s » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)"
            ) % {"value": value})
        return parsed

    def _registration_date(self, line, row) -> datetime.date:
        today = timezone.localdate()
        registered_on = self._date(line, row, "date_inscription")
        if registered_on is None:
            return today
        if not (OLDEST_REGISTRATION <= registered_on
                <= today + datetime.timedelta(days=REGISTRATION_DAYS_AHEAD)):
            self.error(line, "date_inscription", _(
                "date d'inscription invraisemblable « %(value)s »"
            ) % {"value": row["date_inscription"]})
        return registered_on

    def _compare(self, line, candidate: Candidate, fields: dict):
        """A known candidate keeps their record; say where the file disagrees with it."""
        labels = {"usage_name": _("nom d'usage"), "sex": _("sexe"), "email": _("e-mail"),
                  "phone": _("téléphone")}
        for name, label in labels.items():
            stored, given = getattr(candidate, name), fields[name]
            if stored and given and fold(stored) != fold(given):
                self.warnings.append(Issue(line, CANDIDATE_FIELD_COLUMNS[name], _(
                    "%(label)s différent de la fiche de %(candidate)s : « %(stored)s » est "
                    "conservé"
                ) % {"label": label, "candidate": candidate.full_name, "stored": stored}))

    def _company(self, line, row) -> tuple[str, Company | None]:
        raw, name = row["entreprise_siret"], row["entreprise_nom"]
        if not raw:
            if name:
                self.error(line, "entreprise_siret", _(
                    "obligatoire quand entreprise_nom est renseigné"))
            return "", None
        try:
            validate_siret(raw)
        except ValidationError as error:
            self.error(line, "entreprise_siret", _("« %(value)s » : %(reason)s")
                       % {"value": raw, "reason": " ".join(error.messages)})
            return "", None
        siret = normalise_siret(raw)
        company = self.companies.get(siret)
        if company is None and name:
            # Whether some row names the new company is checked across rows.
            self.errors += _model_errors(Company(centre=self.centre, name=name, siret=siret),
                                         line, COMPANY_FIELD_COLUMNS, exclude=["centre"],
                                         skip=set())
        elif company is not None and name and fold(name) != fold(company.name):
            self.warnings.append(Issue(line, "entreprise_nom", _(
                "le SIRET %(siret)s est celui de « %(stored)s » : ce nom est conservé"
            ) % {"siret": siret, "stored": company.name}))
        return siret, company

    def _tutor(self, line, row, siret, company) -> tuple[str, dict, Tutor | None]:
        email = row["tuteur_email"]
        fields = {"last_name": row["tuteur_nom"], "first_name": row["tuteur_prenom"],
                  "email": email}
        if not email:
            if row["tuteur_nom"] or row["tuteur_prenom"]:
                self.error(line, "tuteur_email", _(
                    "obligatoire quand tuteur_nom ou tuteur_prenom est renseigné"))
            return "", fields, None
        if not row["entreprise_siret"]:
            self.error(line, "tuteur_email", _(
                "un tuteur appartient à une entreprise : renseignez entreprise_siret"))
            return "", fields, None
        known = self.tutors.get(email.lower(), [])
        own = [t for t in known if company is not None and t.company_id == company.pk]
        if own:
            return email.lower(), fields, own[0]
        if known:
            other = known[0].company
            self.error(line, "tuteur_email", _(
                "le tuteur « %(email)s » est rattaché à une autre entreprise : %(company)s "
                "(SIRET %(siret)s)"
            ) % {"email": email, "company": other.name, "siret": other.siret})
            return "", fields, None
        if row["tuteur_nom"] or row["tuteur_prenom"]:
            # A new tutor is named once in the file (checked across rows), fully.
            for column in ("tuteur_nom", "tuteur_prenom"):
                if not row[column]:
                    self.error(line, column, _("valeur nécessaire pour créer le tuteur"))
            self.errors += _model_errors(Tutor(**fields), line, TUTOR_FIELD_COLUMNS,
                                         exclude=["company"],
                                         skip={"tuteur_nom", "tuteur_prenom"})
        return email.lower(), fields, None

    def _certification(self, line, row) -> tuple[Certification | None, ReferentialVersion | None]:
        kind, code = row["certification_type"].upper(), row["certification_code"]
        if not kind or not code:
            return None, None
        if kind not in CertificationKind.values:
            self.error(line, "certification_type", _(
                "type « %(value)s » inconnu (attendu : %(choices)s)"
            ) % {"value": row["certification_type"],
                 "choices": ", ".join(CertificationKind.values)})
            return None, None
        certification = self.certifications.get((kind, " ".join(code.upper().split())))
        if certification is None:
            self.error(line, "certification_code", _(
                "certification inconnue : %(kind)s « %(code)s »") % {"kind": kind, "code": code})
            return None, None
        versions = list(certification.versions.all())
        label = row["version"]
        if label:
            wanted = label[1:] if label[:1] in "vV" and len(label) > 1 else label
            version = next((v for v in versions if v.label in (label, wanted)), None)
            if version is None:
                self.error(line, "version", _(
                    "version « %(label)s » inconnue pour %(kind)s %(code)s (versions : "
                    "%(labels)s)"
                ) % {"label": label, "kind": kind, "code": certification.code,
                     "labels": ", ".join(v.label for v in versions) or "—"})
            elif version.status != VersionStatus.PUBLISHED:
                self.error(line, "version", _(
                    "la version « %(label)s » de %(kind)s %(code)s n'est pas publiée (statut : "
                    "%(status)s) : on n'inscrit que sur une version publiée"
                ) % {"label": version.label, "kind": kind, "code": certification.code,
                     "status": version.get_status_display()})
                version = None
            return certification, version
        version = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        if version is None:
            self.error(line, "certification_code", _(
                "%(kind)s %(code)s n'a aucune version publiée du référentiel"
            ) % {"kind": kind, "code": certification.code})
        return certification, version

    def _across_rows(self, plans: list[_Plan]):
        """Rows that contradict each other: the same registration twice, one SIRET under two
        names, one tutor in two companies, one external reference twice; a new company or
        tutor must be named on at least one row, which the other rows then share."""
        registrations, references = {}, {}
        company_rows: dict[str, list[_Plan]] = {}
        tutor_rows: dict[str, list[_Plan]] = {}
        for plan in plans:
            key = (plan.identity, plan.certification.pk)
            if key in registrations:
                self.error(plan.line, "", _(
                    "doublon de la ligne %(other)d : même candidat, même certification"
                ) % {"other": registrations[key]})
            registrations.setdefault(key, plan.line)
            if plan.external_reference:
                other = references.setdefault(plan.external_reference, plan.line)
                if other != plan.line:
                    self.error(plan.line, "reference_externe", _(
                        "référence déjà utilisée ligne %(other)d") % {"other": other})
            if plan.siret and plan.company is None:
                company_rows.setdefault(plan.siret, []).append(plan)
            if plan.tutor_email and plan.tutor is None:
                tutor_rows.setdefault(plan.tutor_email, []).append(plan)
        for siret, rows in company_rows.items():
            named = [plan for plan in rows if plan.company_name]
            if not named:
                self.error(rows[0].line, "entreprise_nom", _(
                    "entreprise inconnue du centre (SIRET %(siret)s) : indiquez entreprise_nom "
                    "pour la créer"
                ) % {"siret": siret})
                continue
            for plan in named[1:]:
                if fold(plan.company_name) != fold(named[0].company_name):
                    self.error(plan.line, "entreprise_nom", _(
                        "le SIRET %(siret)s est nommé « %(name)s » ligne %(other)d"
                    ) % {"siret": siret, "name": named[0].company_name,
                         "other": named[0].line})
            for plan in rows:
                plan.company_name = named[0].company_name
        for email, rows in tutor_rows.items():
            for plan in rows[1:]:
                if plan.siret != rows[0].siret:
                    self.error(plan.line, "tuteur_email", _(
                        "le tuteur « %(email)s » est rattaché ligne %(other)d à une autre "
                        "entreprise"
                    ) % {"email": email, "other": rows[0].line})
            named = [plan for plan in rows if plan.tutor_fields["last_name"]]
            if not named:
                for column in ("tuteur_nom", "tuteur_prenom"):
                    self.error(rows[0].line, column, _(
                        "tuteur « %(email)s » inconnu de l'entreprise : nom et prénom sont "
                        "nécessaires pour le créer"
                    ) % {"email": email})
                continue
            for plan in rows:
                plan.tutor_fields = named[0].tutor_fields


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def import_registrations(*, centre, actor, data: bytes, dry_run: bool) -> ImportResult:
    """Import a CSV file of candidates and their registrations into ``centre``: every row
    or none (docs/import-candidats.md). Raises CandidateImportError listing every problem
    by line and column. A known candidate of the centre (same birth name, first names and
    birth date, ignoring case and accents) is reused, never duplicated; one open
    registration per candidate and certification."""
    checker = _Checker(centre, read_rows(data))
    plans = checker.check()
    result = ImportResult(dry_run=dry_run, warnings=list(checker.warnings))
    with transaction.atomic():
        _write(plans, centre=centre, actor=actor, result=result)
        if dry_run:
            transaction.set_rollback(True)
    result.warnings.sort(key=lambda issue: issue.line)
    return result


def _write(plans: list[_Plan], *, centre, actor, result: ImportResult) -> None:
    companies: dict[str, Company] = {}
    tutors: dict[str, Tutor] = {}
    candidates: dict[tuple, tuple[Candidate, bool]] = {}
    errors = []
    for plan in plans:
        company = plan.company or companies.get(plan.siret)
        if plan.siret and company is None:
            company = Company.objects.create(centre=centre, name=plan.company_name,
                                             siret=plan.siret)
            companies[plan.siret] = company
            result.companies_created += 1
        tutor = plan.tutor or tutors.get(plan.tutor_email)
        if plan.tutor_email and tutor is None:
            tutor = Tutor.objects.create(company=company, **plan.tutor_fields)
            tutors[plan.tutor_email] = tutor
            result.tutors_created += 1
        if plan.identity not in candidates:
            if plan.candidate is not None:
                _complete(plan.candidate, plan.candidate_fields, company)
                result.candidates_reused += 1
                candidates[plan.identity] = (plan.candidate, False)
            else:
                candidate = Candidate.objects.create(centre=centre, employer=company,
                                                     **plan.candidate_fields)
                result.candidates_created += 1
                candidates[plan.identity] = (candidate, True)
        candidate, created = candidates[plan.identity]
        dossier = {}
        if plan.external_reference:
            dossier["external_reference"] = plan.external_reference
        try:
            outcome = services.create_registration(
                actor=actor, centre=centre, candidate=candidate, version=plan.version,
                path=plan.path, company=company, tutor=tutor, registered_on=plan.registered_on,
                **dossier,
            )
        except ValidationError as error:
            errors += [Issue(plan.line, "", message) for message in error.messages]
            continue
        registration = outcome.registration
        result.registrations_created += 1
        result.warnings += [Issue(plan.line, "", str(w)) for w in outcome.warnings]
        result.rows.append(ImportedRow(
            line=plan.line, candidate=candidate.full_name, candidate_created=created,
            certification=f"{plan.certification.kind} {plan.certification.code}",
            version=plan.version.label, path=Path(plan.path).label,
            reference=registration.reference,
            registration_id=None if result.dry_run else registration.pk,
        ))
    if errors:
        # Raised inside the transaction: everything written so far is rolled back.
        raise CandidateImportError(errors)


def _complete(candidate: Candidate, fields: dict, company: Company | None) -> None:
    """Fill the blanks of a known candidate's record from the file; never overwrite."""
    changed = [name for name in ("usage_name", "sex", "email", "phone", *IDENTITY_FIELDS)
               if fields[name] and not getattr(candidate, name)]
    for name in changed:
        setattr(candidate, name, fields[name])
    if company is not None and candidate.employer_id is None:
        candidate.employer = company
        changed.append("employer")
    if changed:
        candidate.save(update_fields=changed)
