"""Reads of the declaration page: who sees what, and the lists, in a fixed number of
queries whatever the number of awards (STYLE.md §9)."""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone

from certifications.models import Role
from certifications.scoping import has_role, staff_centre_ids
from reporting.models import (
    Award,
    AwardEvent,
    AwardState,
    BatchItem,
    DeclarationBatch,
    HoldersReceipt,
)

LIST_LIMIT = 500


@dataclass(frozen=True)
class DeclarationScope:
    """``centre_ids`` None: every centre (national read-only role). ``may_act``: staff of
    the centres, who generate files and import receipts."""

    centre_ids: list[int] | None
    may_act: bool


def declaration_scope(user) -> DeclarationScope | None:
    """None for anyone but the centres' staff and the national read-only role (→ 404)."""
    staff = staff_centre_ids(user)
    if staff:
        return DeclarationScope(centre_ids=staff, may_act=True)
    if has_role(user, Role.NATIONAL):
        return DeclarationScope(centre_ids=None, may_act=False)
    return None


def _scoped(queryset, scope: DeclarationScope, field: str = "centre_id"):
    if scope.centre_ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": scope.centre_ids})


def _awards(scope, *states):
    return (_scoped(Award.objects.filter(state__in=states), scope)
            .select_related("registration__candidate", "registration__version__certification",
                            "centre", "last_batch"))


def overview(scope: DeclarationScope) -> dict:
    today = timezone.localdate()
    due = (_awards(scope, AwardState.DUE)
           .annotate(overdue=Case(When(deadline__lt=today, then=Value(0)), default=Value(1),
                                  output_field=IntegerField()))
           .order_by("overdue", "deadline", "id_technique"))
    ready = due.filter(due_on__lte=today)
    counts = _scoped(Award.objects.all(), scope).aggregate(
        due=Count("pk", filter=Q(state=AwardState.DUE, due_on__lte=today)),
        waiting=Count("pk", filter=Q(state=AwardState.DUE, due_on__gt=today)),
        overdue=Count("pk", filter=Q(state__in=[AwardState.DUE, AwardState.BLOCKED,
                                                AwardState.REFUSED], deadline__lt=today)),
        blocked=Count("pk", filter=Q(state=AwardState.BLOCKED)),
        refused=Count("pk", filter=Q(state=AwardState.REFUSED)),
        in_batch=Count("pk", filter=Q(state=AwardState.IN_BATCH)),
        declared=Count("pk", filter=Q(state=AwardState.DECLARED)),
    )
    return {
        "today": today,
        "counts": counts,
        "due": list(ready[:LIST_LIMIT]),
        "waiting": list(due.filter(due_on__gt=today)[:LIST_LIMIT]),
        "blocked": list(_awards(scope, AwardState.BLOCKED).order_by("deadline")[:LIST_LIMIT]),
        "refused": list(_awards(scope, AwardState.REFUSED).order_by("deadline")[:LIST_LIMIT]),
        "withdrawn": list(_awards(scope, AwardState.WITHDRAWN)
                          .filter(last_batch__isnull=False).order_by("-deadline")[:50]),
        "batches": list(_batches(scope).select_related("created_by", "centre")[:50]),
        "receipts": list(_receipts(scope).select_related("imported_by", "batch")[:50]),
    }


def _batches(scope: DeclarationScope):
    """A batch of one centre, or of several (command line, staff of several centres): seen
    by whoever sees one of the awards in it."""
    batches = DeclarationBatch.objects.all()
    if scope.centre_ids is None:
        return batches
    return batches.filter(
        Q(centre_id__in=scope.centre_ids)
        | Q(centre__isnull=True) & Exists(BatchItem.objects.filter(
            batch=OuterRef("pk"), award__centre_id__in=scope.centre_ids)))


def _receipts(scope: DeclarationScope):
    """A receipt is seen by whoever sees its batch or one of the awards it changed."""
    receipts = HoldersReceipt.objects.all()
    if scope.centre_ids is None:
        return receipts
    return receipts.filter(
        Q(batch__in=_batches(scope)) | Exists(AwardEvent.objects.filter(
            receipt=OuterRef("pk"), award__centre_id__in=scope.centre_ids)))


def batch_for(scope: DeclarationScope, pk: int) -> DeclarationBatch | None:
    return _batches(scope).filter(pk=pk).first()


def award_for(scope: DeclarationScope, pk: int) -> Award | None:
    return _scoped(Award.objects.filter(pk=pk), scope).first()

