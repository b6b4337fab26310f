"""The demo's holders give an XSD-valid file; the generation streams and stays fast."""

import io
import time
import tracemalloc

import pytest
from django.core.management import call_command
from django.utils import timezone

from reporting import demo, services
from reporting.models import Award, AwardState
from tests.reporting.conftest import final_decision, make_award_registration

pytestmark = pytest.mark.django_db


def test_demo_holders_give_a_valid_file_with_one_overdue_and_one_blocked(schema, media_root):
    from candidates import demo as candidates_demo
    from certifications import demo as certifications_demo

    seeded = certifications_demo.seed(log=lambda *a: None)
    centre, staff = seeded["centres"][0], seeded["users"]["gestionnaire"]
    candidates_demo.seed(centre=centre, staff_user=staff, log=lambda *a: None)
    demo.seed(centre=centre, staff_user=staff, log=lambda *a: None)
    assert demo.seed(centre=centre, staff_user=staff, log=lambda *a: None) == 0  # idempotent

    awards = list(Award.objects.all())
    assert sum(a.state == AwardState.BLOCKED for a in awards) == 1
    assert sum(a.is_overdue for a in awards) == 1
    assert sum(a.state == AwardState.DUE and a.due_on > timezone.localdate()
               for a in awards) == 1
    out = io.BytesIO()
    generated = services.generate_batch(actor=staff, out=out)
    assert generated.count == 3
    schema.validate(out.getvalue().decode())
    # Their final decisions are backed by a signed PV, as every final decision must be:
    # verify_integrity (which exits 1 on any anomaly) finds nothing to report.
    report = io.StringIO()
    call_command("verify_integrity", stdout=report)
    assert report.getvalue().splitlines()[-1].startswith("Intégrité vérifiée")


@pytest.mark.slow
def test_generation_streams_in_bounded_memory(centre, version, staff):
    """Memory held while writing does not grow with the passages: the file goes to its
    stream as it is written (the 20 000-award benchmark belongs to `make bench`)."""
    for n in range(300):
        final_decision(make_award_registration(centre, version, birth_name=f"Titulaire{n}"),
                       actor=staff)
    services.sync_awards()

    class Sink:
        size = 0

        def write(self, data):
            self.size += len(data)

    sink = Sink()
    tracemalloc.start()
    started = time.monotonic()
    services.generate_batch(actor=staff, out=sink)
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sink.size > 300 * 1500
    assert peak < sink.size * 4 + 8 * 1024 * 1024
    assert elapsed < 10
