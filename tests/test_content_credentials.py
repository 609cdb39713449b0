"""Content Credentials (C2PA, issue 63): pictures signed with the Content Authenticity Initiative's own
library (c2pa-python's Builder, an ES256 certificate chain made for the test), read and verified at import
with the same library: the claim generator, the signer, the actions and the digital source type an AI
service writes, "made by generative AI" and the c2pa filter. Then the attacks: a picture changed after
signing (its hard binding no longer matches), a manifest whose bytes are broken, and a manifest kept on a
server (reading it never reaches that server: nothing leaves the machine). The original stays byte for
byte."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import io
import json
import os
import threading

import pytest
from corpus import photo

from pixlstash.domain import PictureFilter

c2pa = pytest.importorskip("c2pa", reason="scripts/setup installs pixlstash-core[c2pa]")
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAMERA = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


@pytest.fixture(scope="module")
def signer():
    """A c2pa Signer with an ES256 end-entity certificate under a test root (as a CA would issue one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Studio")])  # fmt: skip

    def usage(*, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                             encipher_only=False, decipher_only=False)  # fmt: skip

    now = datetime.datetime.now(datetime.UTC)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder().subject_name(name("Test Root")).issuer_name(name("Test Root"))
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    leaf = (
        x509.CertificateBuilder().subject_name(name("Test Signer")).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    chain = leaf.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, private, None))


def signed_jpeg(signer, path, *, generator: str, source_type: str, remote_url: str | None = None) -> None:
    """A JPEG signed as an AI service or a camera app signs one: a c2pa.created action with its source."""
    action = {"action": "c2pa.created", "digitalSourceType": source_type}  # (c2pa requires the source)
    name, version = generator.rsplit(" ", 1)
    manifest = {
        "claim_generator_info": [{"name": name, "version": version}],
        "title": path.name,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }
    source = io.BytesIO()
    photo(160, 120, seed=len(path.name)).save(source, "JPEG", quality=90)
    source.seek(0)
    target = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest)) as builder:
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(signer, "image/jpeg", source, target)
    path.write_bytes(target.getvalue())


def test_signed_pictures_are_read_verified_and_filterable(library, tmp_path, signer):
    folder = tmp_path / "in"
    folder.mkdir()
    signed_jpeg(signer, folder / "firefly.jpg", generator="Adobe Firefly 3.1", source_type=AI)
    signed_jpeg(signer, folder / "camera.jpg", generator="Leica M11 2.0", source_type=CAMERA)
    tampered = folder / "tampered.jpg"
    signed_jpeg(signer, tampered, generator="Adobe Firefly 3.1", source_type=AI)
    data = bytearray(tampered.read_bytes())
    data[-300] ^= 0xFF  # a pixel's bytes changed after signing: the hard binding no longer matches
    tampered.write_bytes(bytes(data))
    photo(120, 90, seed=1).save(folder / "plain.jpg", quality=90)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    report = library.import_paths([folder])
    assert report.skipped == []
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}

    firefly = library.get(ids["firefly.jpg"]).credentials
    assert (firefly.state, firefly.generator, firefly.signer) == ("valid", "Adobe Firefly 3.1", "Test Studio")
    assert firefly.actions == ["c2pa.created"] and firefly.digital_source_type == "trainedAlgorithmicMedia"
    assert firefly.problems == ["signingCredential.untrusted"]  # a test root: not on the C2PA trust list
    camera = library.get(ids["camera.jpg"]).credentials
    assert (camera.state, camera.generator, camera.digital_source_type) == ("valid", "Leica M11 2.0", "digitalCapture")
    broken = library.get(ids["tampered.jpg"]).credentials
    assert broken.state == "invalid" and "assertion.dataHash.mismatch" in broken.problems
    assert library.get(ids["plain.jpg"]).credentials is None

    def found(**f):
        return sorted(p.id for p in library.page(PictureFilter(**f)).items)

    assert found(c2pa="valid") == sorted([ids["firefly.jpg"], ids["camera.jpg"]])
    assert found(c2pa="invalid") == [ids["tampered.jpg"]]
    assert found(c2pa="none") == [ids["plain.jpg"]]
    assert found(c2pa="trusted") == []
    assert found(ai_generated=True) == sorted([ids["firefly.jpg"], ids["tampered.jpg"]])  # what its claim says
    stored = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (library.root / "originals").rglob("*.jpg")}
    assert sorted(stored.values()) == sorted(before.values())  # each original byte for byte, manifest and all


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_manifest_kept_on_a_server_is_never_fetched_and_a_broken_one_is_one_note(library, tmp_path, signer):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        folder = tmp_path / "in"
        folder.mkdir()
        url = f"http://127.0.0.1:{server.server_port}/manifests/remote.c2pa"
        signed_jpeg(signer, folder / "remote.jpg", generator="Remote App 1.0", source_type=AI, remote_url=url)
        broken = folder / "broken.jpg"
        signed_jpeg(signer, broken, generator="Adobe Firefly 3.1", source_type=AI)
        data = bytearray(broken.read_bytes())
        start = data.find(b"jumb")
        data[start + 40 : start + 400] = b"\x00" * 360  # the manifest's own boxes overwritten
        broken.write_bytes(bytes(data))
        report = library.import_paths([folder])
    finally:
        server.shutdown()
    assert report.skipped == [] and len(report.imported) == 2
    assert _Recorder.requests == []  # no request reached the manifest's server
    notes = {os.path.basename(i.path): i.notes for i in report.imported}
    got = {os.path.basename(i.path): library.get(i.picture_id).credentials for i in report.imported}
    assert got["broken.jpg"] is not None and got["broken.jpg"].state == "invalid"
    assert len(notes["broken.jpg"]) <= 1  # at most one line about it
    assert got["remote.jpg"] is None
    assert notes["remote.jpg"] == [
        "its Content Credentials are kept on a server: not fetched (nothing leaves this machine)"
    ]
