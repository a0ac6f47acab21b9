"""A local SMTP server that keeps every message it receives: the alert channel for dev and tests.

Plain SMTP (no TLS, no auth) on loopback, standard library only. Messages are kept in memory and,
with a folder, written there as ``<n>.eml``. Point the Airflow connection at it:

    .venv/bin/python -m devtools.smtp_sink --port 8025 --dir .run/mail
    AIRFLOW_CONN_CCMS_ALERTS_SMTP='{"conn_type": "smtp", "host": "127.0.0.1", "port": 8025,
        "extra": {"disable_ssl": true, "disable_tls": true}}'
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.message
import email.policy
import socketserver
import threading
from dataclasses import dataclass
from pathlib import Path

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        """Every text part of the message, decoded."""
        return "\n".join(part.get_content() for part in self.message.walk() if part.get_content_maintype() == "text")


class _Session(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 ccms smtp sink")
        mail_from, recipients = "", []
        while line := self.rfile.readline(65536):
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 ccms smtp sink")
            elif verb == "MAIL":
                mail_from, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.keep(mail_from, recipients, self._data())
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _data(self) -> bytes:
        lines: list[bytes] = []
        size = 0
        while (line := self.rfile.readline(65536)) not in (b".\r\n", b".\n", b""):
            size += len(line)
            if size <= MAX_MESSAGE_BYTES:
                lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        return b"".join(lines)


class SmtpSink(socketserver.ThreadingTCPServer):
    """``with SmtpSink() as sink:`` serves on ``sink.port`` (a free loopback port by default)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        super().__init__((host, port), _Session)
        self.folder = folder
        self.messages: list[Received] = []
        self._arrived = threading.Condition()
        self._thread = threading.Thread(target=self.serve_forever, name="smtp-sink", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def keep(self, mail_from: str, recipients: list[str], data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self._arrived:
            self.messages.append(Received(mail_from, tuple(recipients), message))  # type: ignore[arg-type]
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / f"{len(self.messages)}.eml").write_bytes(data)
            self._arrived.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 30) -> list[Received]:
        """The messages once at least ``count`` have arrived (raises ``TimeoutError`` otherwise)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages arrived within {timeout} s")
            return list(self.messages)

    def received(self) -> list[Received]:
        """The messages received so far, in order of arrival."""
        with self._arrived:
            return list(self.messages)

    def airflow_conn_uri(self, from_email: str = "notices@ccms.example") -> str:
        """The same connection in URI form, with a sender address (the outputs mail from it)."""
        return (
            f"smtp://127.0.0.1:{self.port}?disable_tls=true&disable_ssl=true"
            f"&from_email={from_email.replace('@', '%40')}&timeout=10&retry_limit=0"
        )

    def connection(self) -> dict[str, object]:
        """An Airflow SMTP connection (JSON form) that sends here."""
        return {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": self.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 0},
        }

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".run/mail"), help="where each message is written")
    args = parser.parse_args()
    with SmtpSink(port=args.port, folder=args.dir) as sink:
        print(f"SMTP sink on 127.0.0.1:{sink.port}, writing messages to {args.dir}/ (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
