"""Bringing records in from CSV and XLSX files (see service.records_import)."""

from .service import ImportReport, ImportValidationError, RowError, records_import
from .specs import MODEL_NAMES, get_spec

__all__ = [
    "MODEL_NAMES",
    "ImportReport",
    "ImportValidationError",
    "RowError",
    "get_spec",
    "records_import",
]
