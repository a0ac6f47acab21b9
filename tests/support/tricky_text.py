"""Text that COPY, CSV and SQL each treat specially, to be stored and read back verbatim."""

from __future__ import annotations

#: Looks like SQL: must only ever be a value.
SQL_LOOKALIKE = "'; DROP TABLE ref.site; --"

TRICKY_TEXTS = [
    "plain",
    "",
    "tab\there",
    "new\nline",
    "cr\rhere",
    "back\\slash",
    "\\N",
    "\\.",
    "NULL",
    "t",
    '"',
    SQL_LOOKALIKE,
    '=HYPERLINK("http://x","y")',
    'comma, "quoted"',
    "naïve ünïcödé ✓ 𝔘",  # noqa: RUF001
]
