"""What a file is, read from its bytes: PDF, JPEG or PNG, or nothing we keep.

The client's ``Content-Type`` and file name are never believed: a page saved as ``report.pdf``
is still HTML, and served back with a type taken from its name it would run in the clinic's
origin. Only these three formats are accepted, each checked at both ends (a truncated upload or
a file with something appended fails), so what is stored can only be served as what it is.
"""

from __future__ import annotations

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the empty IEND chunk with its CRC
# PDF writers put the end marker last, then at most a line break or two; some append a few
# bytes of padding. A kilobyte covers them without searching the whole file.
_PDF_TAIL = 1024


def media_type(data: bytes) -> str | None:
    """``application/pdf``, ``image/jpeg`` or ``image/png`` when the bytes are one, else None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-_PDF_TAIL:]:
        return PDF
    # Start of image, then a marker segment; end of image last (trailing zeros some phones
    # write are allowed).
    if data[:3] == b"\xff\xd8\xff" and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return JPEG
    # The signature, then IHDR as the first chunk (13 bytes long), IEND last.
    if (data.startswith(_PNG_SIGNATURE) and data[8:16] == b"\x00\x00\x00\x0dIHDR"
            and data.endswith(_PNG_END)):
        return PNG
    return None
