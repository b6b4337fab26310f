"""The right of access (DOMAIN.md §8): the staff of a candidate's centre download everything
held about that candidate as one ZIP (evaluations.personal_data). Anyone else gets a 404. A
POST, because each export is recorded in the register and the candidate's timeline."""

import rules
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from candidates.models import Candidate
from evaluations import personal_data


@login_required
@require_POST
def personal_data_export(request, candidate_pk: int):
    candidate = get_object_or_404(Candidate.objects.only("pk", "centre_id"), pk=candidate_pk)
    if not rules.has_perm("evaluations.export_personal_data", request.user, candidate):
        raise Http404
    candidate = personal_data.candidate_for_export(candidate.pk)
    archive, files = personal_data.write_archive(candidate)
    personal_data.record_export(candidate=candidate, actor=request.user, files=files)
    response = FileResponse(archive, as_attachment=True, content_type="application/zip",
                            filename=f"donnees-personnelles-candidat-{candidate.pk}.zip")
    response["Cache-Control"] = "private, no-store"
    return response
