from certifications.models import Certification
from certifications.templatetags.certification_tags import cert_label


def test_code_already_carrying_its_kind_is_not_repeated():
    assert cert_label(Certification(kind="CCPM", code="CCPM 0012")) == "CCPM 0012"
    assert cert_label({"kind": "CQPM", "code": "MQ 2018 05 69 0312"}) == "CQPM MQ 2018 05 69 0312"
    assert cert_label(Certification(kind="CQPM", code="cqpm 2006 0248")) == "cqpm 2006 0248"


def test_short_text_is_truncatechars_for_composed_text():
    import unicodedata

    from django.template.defaultfilters import truncatechars

    from certifications.templatetags.certification_tags import short_text

    titles = ["", "Soudeur", "x" * 59, "x" * 60, "x" * 61,
              "Conducteur(trice) d'équipements industriels — maintenance de premier niveau",
              "Opérateur-régleur sur machines-outils à commande numérique par enlèvement de métal"]
    for title in titles:
        title = unicodedata.normalize("NFC", title)
        for length in (10, 60):
            assert short_text(title, length) == truncatechars(title, length)
