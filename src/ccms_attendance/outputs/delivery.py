"""Where outputs go: a folder per provider (any ``ObjectStoragePath``) and e-mail (the SMTP provider's
hook on an Airflow connection). Both are configured in ``pipeline.toml`` ``[outputs]``."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ccms_attendance.paths import PROJECT_ROOT
from ccms_attendance.periods import load_pipeline_config

#: Overrides ``[outputs] folder`` (e.g. a bucket in production, a temporary folder in tests).
OUTPUTS_URL_ENV = "CCMS_OUTPUTS_URL"


@dataclass(frozen=True, slots=True)
class OutputsConfig:
    folder_url: str
    folder_conn_id: str | None
    smtp_conn_id: str
    correction_window_days: int

    @classmethod
    def load(cls) -> OutputsConfig:
        section = load_pipeline_config().get("outputs", {})
        folder = os.environ.get(OUTPUTS_URL_ENV) or section.get("folder", "build/outputs")
        if "://" not in folder:  # a path relative to the project root
            folder = (PROJECT_ROOT / folder).resolve().as_uri()
        return cls(
            folder_url=folder,
            folder_conn_id=section.get("folder_conn_id") or None,
            smtp_conn_id=section.get("smtp_conn_id", "ccms_outputs_smtp"),
            correction_window_days=int(section.get("correction_window_days", 60)),
        )


def safe_name(text: str) -> str:
    """A run id or provider id as one folder name (run ids hold ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _write(path, content: str | bytes) -> None:
    """Write text as UTF-8 and bytes as they are, to a local ``Path`` or an ``ObjectStoragePath``."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


class Folder:
    """The outputs folder: ``<root>/<provider or "state">/<period start>/...``."""

    def __init__(self, config: OutputsConfig) -> None:
        from airflow.sdk import ObjectStoragePath

        self.root = ObjectStoragePath(config.folder_url, conn_id=config.folder_conn_id)

    def write(self, parts: tuple[str, ...], files: Mapping[str, str | bytes]) -> str:
        """Write files (text as UTF-8, PDFs as bytes) into ``root/parts...``; return the folder's URL."""
        folder = self.root.joinpath(*(safe_name(p) for p in parts))
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            _write(folder / name, content)
        return str(folder)


class Mailer:
    """Sends one provider's letters through the SMTP connection, attachments included."""

    def __init__(self, config: OutputsConfig) -> None:
        self.conn_id = config.smtp_conn_id

    def send(self, to: str, subject: str, body_html: str, attachments: Mapping[str, str | bytes]) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        # The hook attaches files from paths: the attachments are written to a private temp folder.
        with tempfile.TemporaryDirectory(prefix="ccms-outputs-") as tmp:
            paths = []
            for name, content in attachments.items():
                path = Path(tmp) / name
                _write(path, content)
                paths.append(str(path))
            with SmtpHook(smtp_conn_id=self.conn_id) as hook:
                hook.send_email_smtp(to=to, subject=subject, html_content=body_html, files=paths)
