"""The referential exchange format « referentiel/1 »: parse, import, export.

The format and the importer's rules are described in shared/data/README.md; one module per
direction, this package's namespace is the public API.
"""

from certifications.exchange.exporting import dump_referential, export_referential
from certifications.exchange.importing import ImportReport, import_referentials
from certifications.exchange.parsing import (
    FORMAT,
    FormatIssue,
    ReferentialFormatError,
    parse_referential,
)

__all__ = [
    "FORMAT",
    "FormatIssue",
    "ImportReport",
    "ReferentialFormatError",
    "dump_referential",
    "export_referential",
    "import_referentials",
    "parse_referential",
]
