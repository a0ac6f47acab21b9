"""A small real SMTP server (asyncio, in a thread) that keeps every message it receives.

Speaks what ``smtplib`` needs (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), no TLS, no auth:
tests point an Airflow SMTP connection at it (extras ``disable_tls``/``disable_ssl``) and read
``messages`` back as parsed ``email.message.Message`` objects.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="smtp-sink")
        self._lock = threading.Lock()

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def airflow_conn_uri(self, from_email: str = "notices@ccms.example") -> str:
        return (
            f"smtp://{self.host}:{self.port}?disable_tls=true&disable_ssl=true"
            f"&from_email={from_email.replace('@', '%40')}&timeout=10&retry_limit=0"
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._session, self.host, self.port))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write((line + "\r\n").encode())

        reply("220 ccms-test-sink ESMTP")
        mail_from, rcpt = "", []
        try:
            while line := await reader.readline():
                command = line.decode("utf-8", "replace").strip()
                verb = command[:4].upper()
                if verb == "EHLO":
                    reply("250-ccms-test-sink")
                    reply("250 8BITMIME")
                elif verb == "HELO":
                    reply("250 ccms-test-sink")
                elif verb == "MAIL":
                    mail_from, rcpt = command.split(":", 1)[1].strip().split()[0].strip("<>"), []
                    reply("250 OK")
                elif verb == "RCPT":
                    rcpt.append(command.split(":", 1)[1].strip().strip("<>"))
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    with self._lock:
                        self.messages.append(Received(mail_from, rcpt, message))  # type: ignore[arg-type]
                    reply("250 OK: queued")
                elif verb in ("RSET", "NOOP"):
                    reply("250 OK")
                elif verb == "QUIT":
                    reply("221 Bye")
                    await writer.drain()
                    break
                else:
                    reply("502 Command not implemented")
                await writer.drain()
        finally:
            writer.close()
