"""TLS verification is on by default for vendor connections; ``verify`` is the documented opt-out.

A real HTTPS server on loopback with a self-signed certificate (trusted by nobody): a vendor hook
whose connection says nothing about ``verify`` refuses it; ``"verify": "<ca file>"`` trusts it
properly; ``"verify": false`` (sandboxes / local test endpoints only, docs/vendors.md) skips the check.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError, hook_for_source
from ccms_attendance.periods import ServicePeriod

PERIOD = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ccms-test-vendor")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class _Schools(BaseHTTPRequestHandler):
    """Answers brightwheel's school lookup with no school (enough to show the request got through)."""

    def do_GET(self) -> None:
        body = json.dumps({"schools": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def https_vendor(tmp_path_factory) -> Iterator[tuple[int, Path]]:
    cert_file, key_file = self_signed(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Schools)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert_file
    server.shutdown()
    server.server_close()


def extract(monkeypatch, port: int, extra: dict) -> CcmsExtractionError:
    connection = {
        "conn_type": "http",
        "host": "127.0.0.1",
        "port": port,
        "schema": "https",
        "password": "sbx-api-key",
        "extra": {"max_attempts": 1, "connect_timeout": 3, "read_timeout": 3, **extra},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CCMS_BRIGHTWHEEL", json.dumps(connection))
    hook = hook_for_source(Source.BRIGHTWHEEL)
    try:
        with pytest.raises(CcmsExtractionError) as caught:
            list(hook.iter_site_period("CC-TLS-1", PERIOD))
    finally:
        hook.close()
    return caught.value


def test_verification_is_on_by_default(monkeypatch, https_vendor):
    port, _ = https_vendor
    error = extract(monkeypatch, port, {})
    assert "TLS verification failed" in str(error)
    assert str(error).startswith(f"BRIGHTWHEEL site CC-TLS-1 period {PERIOD}: ")


def test_a_private_ca_can_be_trusted_explicitly(monkeypatch, https_vendor):
    port, cert_file = https_vendor
    error = extract(monkeypatch, port, {"verify": str(cert_file)})
    assert "no brightwheel school has this license number" in str(error)  # TLS passed, the API answered


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_is_the_opt_out_for_test_endpoints(monkeypatch, https_vendor):
    port, _ = https_vendor
    error = extract(monkeypatch, port, {"verify": False})
    assert "no brightwheel school has this license number" in str(error)


def test_sandbox_connections_do_not_opt_out():
    """The connections the fleet hands out keep verification on (they are plain http anyway)."""
    from devtools.vendor_sandboxes.fleet import SandboxFleet

    fleet = SandboxFleet(
        endpoints=dict.fromkeys(Source.ccms(), "http://127.0.0.1:1"),
        credentials={
            "ALLIANCE_CORE": {"client_id": "c", "client_secret": "s"},
            "BRIGHTWHEEL": {"api_key": "k"},
            "PLAYGROUND": {"username": "u", "password": "p"},
        },
        state_dir=Path("."),
        processes={},
    )
    assert all(fleet.connection(source)["extra"]["verify"] is True for source in Source.ccms())
