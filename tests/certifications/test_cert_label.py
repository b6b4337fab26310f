from certifications.models import Certification
from certifications.templatetags.certification_tags import cert_label


def test_code_already_carrying_its_kind_is_not_repeated():
    assert cert_label(Certification(kind="CCPM", code="CCPM 0012")) == "CCPM 0012"
    assert cert_label({"kind": "CQPM", "code": "MQ 2018 05 69 0312"}) == "CQPM MQ 2018 05 69 0312"
    assert cert_label(Certification(kind="CQPM", code="cqpm 2006 0248")) == "cqpm 2006 0248"
