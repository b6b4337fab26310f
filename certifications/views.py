from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from certifications import selectors
from certifications.models import ReferentialVersion


def _require_reader(user):
    # Outsiders get a 404, never a hint that the page exists (DESIGN.md §2).
    if not user.has_perm("certifications.view_referential"):
        raise Http404


@login_required
def referential_list(request):
    _require_reader(request.user)
    page = Paginator(selectors.versions_for_listing(), 50).get_page(request.GET.get("page"))
    return render(request, "certifications/referential_list.html", {"page_obj": page})


@login_required
def referential_detail(request, pk: int):
    _require_reader(request.user)
    try:
        version = selectors.referential_document(pk)
    except ReferentialVersion.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "certifications/referential_detail.html", {"version": version})
