"""SMTP over STARTTLS and implicit TLS, with a login whose password comes from the environment."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reviewwatch.config import load_settings
from reviewwatch.digest.compose import build_message
from reviewwatch.digest.compose import DigestContent
from reviewwatch.digest.send import SendError, SmtpTransport
from tests.digest.smtpserver import SmtpServer

PASSWORD = "s3cret-from-env"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"digest"
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "tls"])
def tls_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[str, SmtpServer]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    options: dict[str, Any] = {"authenticator": _authenticate}
    if request.param == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    else:
        # aiosmtpd only counts STARTTLS as TLS; here the whole connection is TLS.
        options.update(ssl_context=context, auth_require_tls=False)
    server = SmtpServer(**options)
    try:
        yield request.param, server
    finally:
        server.stop()


def _message(recipient: str) -> Any:
    content = DigestContent(business_name="Café")
    return build_message(
        content,
        subject="Café: test",
        sender="digest@mail.example",
        recipient=recipient,
        message_id="<1@mail.example>",
        date=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    )


def _settings(
    write_config,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
    port: int,
    ca: Path | None,
    password: str = PASSWORD,
):  # noqa: ANN202
    monkeypatch.setenv("REVIEWWATCH_SMTP__PASSWORD", password)
    ca_line = f'ca_file = "{ca}"\n' if ca else ""
    path = write_config(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\nuser = "digest"\n'
        f'sender = "digest@mail.example"\ntimeout_s = 5\n{ca_line}'
    )
    return load_settings(path)


def test_tls_with_login_delivers(
    tls_server: tuple[str, SmtpServer],
    certificate: tuple[Path, Path],
    write_config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    security, server = tls_server
    settings = _settings(write_config, monkeypatch, security, server.port, certificate[0])
    SmtpTransport(settings.smtp).send(_message("owner@cafe.example"), "owner@cafe.example")
    [received] = server.recorder.received
    assert (
        received.recipients == ["owner@cafe.example"]
        and received.message["Subject"] == "Café: test"
    )


def test_an_untrusted_certificate_or_a_wrong_password_is_a_send_error_without_the_secret(
    tls_server: tuple[str, SmtpServer],
    certificate: tuple[Path, Path],
    write_config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    security, server = tls_server
    untrusted = _settings(write_config, monkeypatch, security, server.port, None)
    with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED"):
        SmtpTransport(untrusted.smtp).send(_message("owner@cafe.example"), "owner@cafe.example")
    wrong = _settings(write_config, monkeypatch, security, server.port, certificate[0], "wrong-one")
    with pytest.raises(SendError, match="535") as caught:
        SmtpTransport(wrong.smtp).send(_message("owner@cafe.example"), "owner@cafe.example")
    assert "wrong-one" not in str(caught.value)
    assert server.recorder.received == []
