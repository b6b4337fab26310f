"""The consent text a member affirms when signing a grid (DESIGN.md §4b). Versioned: a new
wording gets a new version; signatures record the version they affirmed."""

CONSENT_TEXTS = {
    "2024-1": (
        "Je certifie avoir participé à l'évaluation de ce candidat au sein de la commission, "
        "que la grille reflète le jugement commun de la commission, et je déclare n'avoir "
        "aucun lien hiérarchique, fonctionnel ou contractuel avec le candidat ni aucun conflit "
        "d'intérêts. Je signe électroniquement cette grille en saisissant mon mot de passe."
    ),
}
CURRENT_CONSENT_VERSION = "2024-1"
CURRENT_CONSENT_TEXT = CONSENT_TEXTS[CURRENT_CONSENT_VERSION]
