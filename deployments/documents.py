"""What a document upload must be: a readable, unencrypted PDF, no larger than DEPLOYMENT_DOCUMENT_MAX_BYTES.

The bytes decide, not the name or the upload's claimed type: a file must begin with ``%PDF-`` and pypdf must
parse it and count its pages. A password-protected PDF is refused too: the authorising officer and oversight
must be able to open what was authorised without asking anyone for a key.
"""

from __future__ import annotations

import logging
import os
from typing import BinaryIO

from django.conf import settings
from pypdf import PdfReader

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and the multipart boundaries around the file


def document_max_bytes() -> int:
    return settings.DEPLOYMENT_DOCUMENT_MAX_BYTES


def document_upload_max_bytes() -> int:
    """The largest request body a document upload may be, checked before it is parsed (core.uploads)."""
    return document_max_bytes() + MULTIPART_OVERHEAD_BYTES


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}".removesuffix(".0") + " MB"


def too_large_message(size: int | None = None) -> str:
    limit = _megabytes(document_max_bytes())
    told = f"the file is {_megabytes(size)}; " if size is not None else "the file is too large; "
    return f"{told}a document may be at most {limit} (reduce the scan resolution or split it)"


def uploaded_size(file: BinaryIO) -> int:
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    return size


def document_problem(file: BinaryIO) -> str | None:
    """Why ``file`` (a binary file object, on disk) is not an acceptable PDF; None when it is."""
    try:
        file.seek(0)
        if file.read(len(PDF_MAGIC)) != PDF_MAGIC:
            return "the file is not a PDF (it does not begin with %PDF-); export or print the document to PDF"
        file.seek(0)
        try:
            reader = PdfReader(file)
            if reader.is_encrypted:
                return "the PDF is encrypted or password-protected; upload a copy without a password"
            if len(reader.pages) == 0:
                return "the PDF has no pages"
        except Exception as exc:  # pypdf raises many kinds (PdfReadError, ValueError, KeyError...) on a broken file
            logger.info("document refused: %s: %s", type(exc).__name__, exc)
            return "the PDF is damaged and cannot be read; export it again and upload the new file"
        return None
    finally:
        file.seek(0)
