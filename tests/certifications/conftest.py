"""Fixtures of the referential exchange tests: the sample « referentiel/1 » files.

The samples come from shared/data/referentials/; the suite reads its own copy in
tests/fixtures/referentials/ so that it never depends on ../shared existing."""

import json
from pathlib import Path

import pytest
from django.conf import settings

SHARED_SAMPLES_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "referentials"
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "referentials"
DEMO_SAMPLES_DIR = Path(settings.BASE_DIR) / "certifications" / "fixtures" / "referentials"

CQPM_SAMPLE = "cqpm-maintenance-industrielle.json"
CCPM_SAMPLE = "ccpm-animer-equipe.json"
BLOC_SAMPLE = "bloc-maintenance-preventive.json"


@pytest.fixture
def sample_referentials() -> list[Path]:
    """The sample files, in name order."""
    return sorted(SAMPLES_DIR.glob("*.json"))


@pytest.fixture
def sample_document():
    """A fresh, mutable copy of one sample file's document: sample_document(CQPM_SAMPLE)."""

    def load(name: str) -> dict:
        return json.loads((SAMPLES_DIR / name).read_text(encoding="utf-8"))

    return load
