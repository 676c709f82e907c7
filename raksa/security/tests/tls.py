"""Raksa served like production on this machine: gunicorn over TLS with a certificate made here.

A throwaway certificate authority signs a certificate for `localhost`; clients that should trust it
are given the authority's certificate (for Node, NODE_EXTRA_CA_CERTS).
"""

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from raksa import devkeys

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Certificates:
    authority: Path
    certificate: Path
    key: Path


def make_certificates(directory: Path, hostname: str = "localhost") -> Certificates:
    now = datetime.datetime.now(datetime.UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Raksa test authority")])
    authority = (
        x509.CertificateBuilder()
        .subject_name(authority_name)
        .issuer_name(authority_name)
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(authority_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(authority_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(authority_key, hashes.SHA256())
    )
    paths = Certificates(directory / "authority.pem", directory / "server.pem", directory / "server.key")
    paths.authority.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    paths.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths.key.chmod(0o600)
    return paths


def production_environment(var_dir: Path, hostname: str = "localhost") -> dict[str, str]:
    """Production settings on SQLite under `var_dir`, with fresh keys (no development default applies)."""
    inherited = ("PATH", "HOME", "LANG", "PYTHONPATH")
    env = {name: os.environ[name] for name in inherited if name in os.environ}
    env.update(devkeys.generate_keys())
    env.update(
        RAKSA_ENV="production",
        RAKSA_VAR_DIR=str(var_dir),
        ALLOWED_HOSTS=hostname,
        RAKSA_SMTP_HOST="127.0.0.1",
        DATABASE_URL=f"sqlite:///{var_dir / 'raksa.sqlite3'}",
        RAKSA_KEYSTORE_URL=f"sqlite:///{var_dir / 'keystore.sqlite3'}",
    )
    return env


def prepare(env: dict[str, str]) -> None:
    """What a deployment runs before serving: migrations for both databases and the static files."""
    for command in (
        ["migrate", "--noinput", "--verbosity", "0"],
        ["migrate", "--database", "keystore", "--noinput", "--verbosity", "0"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
    ):
        subprocess.run([BIN / "raksa", *command], env=env, check=True, timeout=600)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def gunicorn(env: dict[str, str], *, port: int, certificates: Certificates | None = None) -> Iterator[None]:
    """Raksa under gunicorn on 127.0.0.1:`port` (over TLS with `certificates`) until the block ends."""
    command = [str(BIN / "gunicorn"), "raksa.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    if certificates is not None:
        command += ["--certfile", str(certificates.certificate), "--keyfile", str(certificates.key)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, server)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {server.stderr.read().decode() if server.stderr else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not listen on port {port} within 60 s")


def node() -> str | None:
    return shutil.which("node")
