#!/usr/bin/python3
"""Generate the lab's TLS material, Let's Encrypt style: a root CA and leaves.

Usage: certs.py OUTDIR DOMAIN NAME [NAME ...]

NAMEs are the host labels (e.g. temporal-db-write); each becomes NAME.DOMAIN
in the SANs of the good leaf. Writes into OUTDIR:
  ca.crt ca.key                   lab root CA (what clients trust)
  leaf.crt leaf.key               good leaf: every lab name, valid 90 days
  wrong-name.crt/.key             leaf for wrong-name.DOMAIN only
  expired.crt/.key                right names, expired yesterday
  expiring.crt/.key               right names, expires in 7 days
  untrusted-ca.crt/.key           a second CA nobody trusts
  untrusted.crt/.key              right names, signed by the untrusted CA

Runs with Debian's python3 and python3-cryptography (no pip).
Keys are ECDSA P-256: fast to make, accepted by libpq, PgBouncer and rustls.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def write(outdir, stem, cert, key):
    with open(os.path.join(outdir, stem + ".crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    path = os.path.join(outdir, stem + ".key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def make_ca(common_name):
    key = new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pgconn lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now() - datetime.timedelta(days=1))
        .not_valid_after(now() + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(ca_cert, ca_key, dns_names, not_before, not_after):
    key = new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    outdir, domain, labels = argv[1], argv[2], argv[3:]
    os.makedirs(outdir, exist_ok=True)
    names = [f"{label}.{domain}" for label in labels]
    t = now()
    day = datetime.timedelta(days=1)

    ca_cert, ca_key = make_ca("pgconn lab root CA")
    write(outdir, "ca", ca_cert, ca_key)
    write(outdir, "leaf", *make_leaf(ca_cert, ca_key, names, t - day, t + 90 * day))
    write(
        outdir,
        "wrong-name",
        *make_leaf(ca_cert, ca_key, [f"wrong-name.{domain}"], t - day, t + 90 * day),
    )
    write(outdir, "expired", *make_leaf(ca_cert, ca_key, names, t - 60 * day, t - day))
    write(outdir, "expiring", *make_leaf(ca_cert, ca_key, names, t - 83 * day, t + 7 * day))

    other_cert, other_key = make_ca("untrusted other root CA")
    write(outdir, "untrusted-ca", other_cert, other_key)
    write(outdir, "untrusted", *make_leaf(other_cert, other_key, names, t - day, t + 90 * day))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
