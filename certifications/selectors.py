"""Reads of referentials that need care: one version as a whole document, in few queries."""

from django.db.models import Count, Prefetch

from certifications.models import Certification, Competence, Criterion, ReferentialVersion


def versions_for_listing():
    return (
        ReferentialVersion.objects.select_related("certification")
        .annotate(competence_count=Count("competences", distinct=True))
        .order_by("certification__kind", "certification__code", "-valid_from")
    )


def referential_document(pk: int) -> ReferentialVersion:
    """A version with its scale, blocs, competences and criteria prefetched (fixed query count)."""
    criteria = Prefetch("criteria", queryset=Criterion.objects.order_by("order"))
    competences = Prefetch(
        "competences", queryset=Competence.objects.order_by("order").prefetch_related(criteria)
    )
    return (
        ReferentialVersion.objects.select_related("certification")
        .prefetch_related(
            "rating_levels",
            Prefetch("blocs__competences", queryset=Competence.objects.order_by("order")
                     .prefetch_related(criteria)),
            competences,
        )
        .get(pk=pk)
    )


def certifications_by_kind():
    return Certification.objects.order_by("kind", "code")
