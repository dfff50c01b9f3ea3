"""Bringing records in from CSV and XLSX files (see service.records_import)."""

from .service import (
    ImportReport,
    ImportValidationError,
    RowError,
    check_import_size,
    records_import,
)
from .specs import MODEL_NAMES, get_spec

__all__ = [
    "MODEL_NAMES",
    "ImportReport",
    "ImportValidationError",
    "RowError",
    "check_import_size",
    "get_spec",
    "records_import",
]
