"""The deontology charter of the expert evaluator, first version (DOMAIN.md §4). Later
versions are published as new CharterVersion rows; accepted versions never change."""

CHARTER_V1_LABEL = "2024-1"
CHARTER_V1_TEXT = """Charte de déontologie de l'évaluateur expert

En siégeant dans une commission d'évaluation, je m'engage à respecter les principes suivants.

1. Objectivité — j'évalue la maîtrise des compétences au regard des critères observables et mesurables du référentiel, et non des procédures d'une entreprise en particulier.
2. Impartialité — je n'évalue pas un candidat avec lequel j'ai un lien hiérarchique, fonctionnel ou contractuel : candidat de ma propre entreprise (même SIREN, quel que soit l'établissement), que je tutore, que je forme comme formateur référent ou que j'encadre, ou avec lequel j'ai déclaré un conflit d'intérêts. Je signale au centre tout lien de cette nature dès que j'en ai connaissance.
3. Neutralité — je garde une posture d'observation et de questionnement sur la pratique professionnelle du candidat, sans jugement sur sa personne.
4. Bienveillance — l'évaluation est une reconnaissance des compétences, « pas un examen » : je mets le candidat en situation de montrer ce qu'il sait faire.
5. Confidentialité — je ne divulgue rien des dossiers, des échanges et des délibérations de la commission ; je n'utilise les documents des candidats que pour l'évaluation.
6. Égalité de traitement — j'applique à chaque candidat les mêmes critères et les mêmes conditions d'évaluation.
7. Solidarité dans l'évaluation — la commission rend un jugement commun : la grille d'évaluation est un document collectif, complété ensemble et signé par tous ses membres.
"""
