"""The Jinja2 environment of the report's templates (``reporting/templates/``): autoescape on, so every
value is HTML-escaped unless a template or the code marks it safe (the charts, rendered by the same
environment); an undefined name is an error, not an empty string."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined


def package_templates(package: str, *, keep_trailing_newline: bool = False) -> Environment:
    """The project's template settings for ``<package>/templates/`` (the report's, the outputs' letters)."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )


TEMPLATES = package_templates("ccms_attendance.reporting", keep_trailing_newline=True)
