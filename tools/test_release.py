#!/usr/bin/env python3
"""Check of `make release`'s packaging and of `make install`: `python tools/test_release.py`.

Packages the debug provider (FLEET_PROVIDER_DIR, as `make test` sets it) with
tools/package_release.py, the script `make release` runs on the release
builds, then with real Terraform and OpenTofu, each in an empty HOME:

- network mirror: the release directory served over HTTPS on 127.0.0.1 (a
  self-signed certificate, trusted through SSL_CERT_FILE) as
  `network_mirror`; `init` must install the provider and write the h1: hash of
  its contents to .terraform.lock.hcl (OpenTofu also keeps the zip's zh:; a
  network mirror carries no signature, so Terraform records only what it
  computed itself). The same mirror serving an altered zip must fail `init`.
- registry protocol: the same files behind the provider registry protocol
  (a `host` block points the default registry host at the loopback server),
  so `init` checks the GPG signature over SHA256SUMS and records the zh:
  hash from it; an altered SHA256SUMS under the same signature must fail.
- `make install` into that HOME: plain `init`, no CLI config, finds it.

After each successful `init`, `providers schema -json` runs the installed
binary. Plain asserts; exits non-zero on any failure.
"""
import base64
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VERSION = re.search(r'^version = "(.+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
PROVIDER = Path(os.environ.get("FLEET_PROVIDER_DIR", REPO / "target" / "debug")) / "terraform-provider-fleet"
TOOLS = {
    "terraform": (os.environ.get("TERRAFORM", str(REPO / ".venv" / "bin" / "terraform")), "registry.terraform.io"),
    "tofu": (os.environ.get("TOFU", str(REPO / ".venv" / "bin" / "tofu")), "registry.opentofu.org"),
}
PREFIX = f"terraform-provider-fleet_{VERSION}"
ZIP = f"{PREFIX}_linux_amd64.zip"
MAIN_TF = 'terraform {\n  required_providers {\n    fleet = { source = "eksfleet/fleet" }\n  }\n}\n'


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def h1_of_zip(path):
    """Terraform's "h1:" package hash (Go's dirhash Hash1) over a zip's files."""
    with zipfile.ZipFile(path) as zf:
        names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
        summary = "".join(f"{sha256_hex(zf.read(n))}  {n}\n" for n in names)
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def self_signed(tmp):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_pem, key_pem = tmp / "cert.pem", tmp / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


class Server:
    """/mirror/: the release dir as it is; /tampered/: the same with the zip
    altered; /v1/providers/ and /badsig/v1/providers/: the registry protocol
    over the same files, the latter with SHA256SUMS altered after signing."""

    def __init__(self, dist, key_id, key_armor, cert, key):
        self.dist, self.requests = dist, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                server.requests.append(path)
                body = server.route(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                # Both check it on the JSON documents.
                ctype = "application/zip" if path.endswith(".zip") else (
                    "application/json" if path.endswith(".json") or "/v1/" in path else "application/octet-stream")
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.key_id, self.key_armor = key_id, key_armor
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def file(self, rel):
        path = (self.dist / rel).resolve()
        if self.dist.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()

    def route(self, path):
        for kind in ("mirror", "tampered", "badsums"):
            if path.startswith(f"/{kind}/"):
                body = self.file(path[len(kind) + 2:])
                if body is not None and kind == "tampered" and path.endswith(".zip"):
                    mid = len(body) // 2
                    body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
                if body is not None and kind == "badsums" and path.endswith("_SHA256SUMS"):
                    body += f"{'0' * 64}  {PREFIX}_linux_386.zip\n".encode()
                return body
        m = re.fullmatch(r"(/badsig)?/v1/providers/eksfleet/fleet/(versions|([^/]+)/download/([^/]+)/([^/]+))", path)
        if not m:
            return None
        if m.group(2) == "versions":
            doc = {"versions": [{"version": VERSION, "protocols": ["6.0"],
                                 "platforms": [{"os": "linux", "arch": "amd64"}]}]}
        else:
            version, os_, arch = m.group(3, 4, 5)
            zip_name = f"terraform-provider-fleet_{version}_{os_}_{arch}.zip"
            zip_body = self.file(zip_name)
            if version != VERSION or zip_body is None:
                return None
            sums = "badsums" if m.group(1) else "mirror"
            doc = {
                "protocols": ["6.0"], "os": os_, "arch": arch, "filename": zip_name,
                "download_url": f"{self.base}/mirror/{zip_name}",
                "shasums_url": f"{self.base}/{sums}/{PREFIX}_SHA256SUMS",
                "shasums_signature_url": f"{self.base}/mirror/{PREFIX}_SHA256SUMS.sig",
                "shasum": sha256_hex(zip_body),
                "signing_keys": {"gpg_public_keys": [{"key_id": self.key_id, "ascii_armor": self.key_armor}]},
            }
        return json.dumps(doc).encode()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def clean_env(home, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "TOFU_", "XDG_", "GNUPG")) and k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env.update(HOME=str(home), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", **extra)
    return env


def run(cmd, cwd, env):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


class Case:
    def __init__(self, tmp, tool, label):
        self.exe, self.host = TOOLS[tool]
        self.tool = tool
        self.dir = Path(tempfile.mkdtemp(prefix=f"{tool}-{label}-", dir=tmp))
        self.home = self.dir / "home"
        self.work = self.dir / "work"
        self.home.mkdir()
        self.work.mkdir()
        (self.work / "main.tf").write_text(MAIN_TF)

    def cli_config(self, text):
        path = self.dir / "cli.tfrc"
        path.write_text(text)
        return path

    def init(self, env):
        return run([self.exe, "init", "-input=false", "-no-color"], self.work, env)

    def lock_hashes(self):
        text = (self.work / ".terraform.lock.hcl").read_text()
        m = re.search(r'provider "([^"]+)" \{\s*version\s*=\s*"([^"]+)"\s*hashes\s*=\s*\[(.*?)\]', text, re.S)
        assert m, f"no provider block in the lock file:\n{text}"
        assert m.group(1) == f"{self.host}/eksfleet/fleet" and m.group(2) == VERSION, m.group(0)
        return set(re.findall(r'"((?:h1|zh):[^"]+)"', m.group(3)))

    def check_runs(self, env):
        rc, out = run([self.exe, "providers", "schema", "-json"], self.work, env)
        assert rc == 0, f"{self.tool} providers schema failed ({rc}):\n{out}"
        schemas = json.loads(out[out.index("{"):])["provider_schemas"][f"{self.host}/eksfleet/fleet"]
        assert "fleet_vpc_cross_region_peering" in schemas["resource_schemas"], sorted(schemas["resource_schemas"])


def check_package(dist, out):
    expected = {ZIP, f"{PREFIX}_manifest.json", f"{PREFIX}_SHA256SUMS", f"{PREFIX}_SHA256SUMS.sig",
                "THROWAWAY-signing-key.asc"}
    names = {p.name for p in dist.iterdir() if p.is_file()}
    assert names == expected, f"release files: {sorted(names)}"
    assert {Path(line).name for line in out.split()} == expected, f"package_release.py printed:\n{out}"
    with zipfile.ZipFile(dist / ZIP) as zf:
        [info] = zf.infolist()
        assert info.filename == f"terraform-provider-fleet_v{VERSION}", info.filename
        assert (info.external_attr >> 16) & 0o777 == 0o755, oct(info.external_attr >> 16)
        assert zf.read(info) == PROVIDER.read_bytes(), "the zip does not hold the provider binary"
    manifest = json.loads((dist / f"{PREFIX}_manifest.json").read_text())
    assert manifest == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}, manifest
    sums = (dist / f"{PREFIX}_SHA256SUMS").read_text().splitlines()
    assert sums == [f"{sha256_hex((dist / n).read_bytes())}  {n}" for n in sorted([ZIP, f"{PREFIX}_manifest.json"])], sums
    assert (dist / f"{PREFIX}_SHA256SUMS.sig").read_bytes()[:1] != b"-", "the signature must be binary, not armored"
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        d = dist / host / "eksfleet" / "fleet"
        assert json.loads((d / "index.json").read_text()) == {"versions": {VERSION: {}}}
        archive = json.loads((d / f"{VERSION}.json").read_text())["archives"]["linux_amd64"]
        assert archive["hashes"] == [f"zh:{sha256_hex((dist / ZIP).read_bytes())}"], archive


def key_id_of(armor_file, tmp):
    home = tempfile.mkdtemp(prefix="gpg-", dir=tmp)
    out = subprocess.run(["gpg", "--batch", "--with-colons", "--show-keys", str(armor_file)], check=True,
                         capture_output=True, text=True, env=dict(os.environ, GNUPGHOME=home)).stdout
    return next(line.split(":")[4] for line in out.splitlines() if line.startswith("pub:"))


def main():
    t0 = time.time()
    assert PROVIDER.is_file(), f"no provider binary at {PROVIDER} (make build)"
    for exe, _ in TOOLS.values():
        assert shutil.which(exe), f"{exe} not found (make venv go-tools)"
    tmp = Path(tempfile.mkdtemp(prefix="eksfleet-release-test-"))
    failed = []
    server = None

    def check(label, fn, *args):
        try:
            fn(*args)
            print(f"  {label}: ok", flush=True)
        except Exception:
            failed.append(label)
            print(f"  {label}: FAILED", flush=True)
            traceback.print_exc()

    try:
        dist = tmp / "dist"
        env = {k: v for k, v in os.environ.items() if k != "GPG_KEY_ID"}  # a throwaway key, never a real one
        pack = subprocess.run([sys.executable, str(HERE / "package_release.py"), "--version", VERSION,
                               "--out", str(dist), "--binary", f"linux_amd64={PROVIDER}"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert pack.returncode == 0, f"package_release.py failed:\n{pack.stdout}{pack.stderr}"
        check("release files", check_package, dist, pack.stdout)
        zh = f"zh:{sha256_hex((dist / ZIP).read_bytes())}"
        h1 = h1_of_zip(dist / ZIP)

        key_file = dist / "THROWAWAY-signing-key.asc"
        cert, key = self_signed(tmp)
        server = Server(dist, key_id_of(key_file, tmp), key_file.read_text(), cert, key)

        def mirror(tool):
            c = Case(tmp, tool, "mirror")
            cfg = c.cli_config(f'provider_installation {{\n  network_mirror {{\n    url = "{server.base}/mirror/"\n  }}\n}}\n')
            env = clean_env(c.home, TF_CLI_CONFIG_FILE=str(cfg), SSL_CERT_FILE=str(cert))
            rc, out = c.init(env)
            assert rc == 0, f"{tool} init from the network mirror failed ({rc}):\n{out}"
            assert f"/mirror/{c.host}/eksfleet/fleet/index.json" in server.requests, server.requests
            got = c.lock_hashes()
            assert h1 in got, f"{h1} not in the lock file: {got}"
            if tool == "tofu":
                assert zh in got, f"{zh} not in the lock file: {got}"
            assert got <= {h1, zh}, f"unexpected hashes: {got - {h1, zh}}"
            c.check_runs(env)

        def tampered(tool):
            c = Case(tmp, tool, "tampered")
            cfg = c.cli_config(f'provider_installation {{\n  network_mirror {{\n    url = "{server.base}/tampered/"\n  }}\n}}\n')
            rc, out = c.init(clean_env(c.home, TF_CLI_CONFIG_FILE=str(cfg), SSL_CERT_FILE=str(cert)))
            assert rc != 0, f"{tool} init accepted an altered zip:\n{out}"
            assert re.search(r"doesn't match\s+the\s+expected\s+checksum\s+\"" + zh, out), out
            assert not (c.work / ".terraform.lock.hcl").exists()

        def registry(tool, prefix=""):
            c = Case(tmp, tool, "registry" + prefix.replace("/", "-"))
            cfg = c.cli_config(f'host "{c.host}" {{\n  services = {{\n'
                               f'    "providers.v1" = "{server.base}{prefix}/v1/providers/"\n  }}\n}}\n')
            env = clean_env(c.home, TF_CLI_CONFIG_FILE=str(cfg), SSL_CERT_FILE=str(cert))
            rc, out = c.init(env)
            if prefix:
                assert rc != 0, f"{tool} init accepted SHA256SUMS that its signature does not cover:\n{out}"
                assert re.search(r"invalid\s+signature", out), out
                return
            assert rc == 0, f"{tool} init through the registry protocol failed ({rc}):\n{out}"
            assert server.key_id.upper() in out.upper(), f"no signature by {server.key_id} reported:\n{out}"
            got = c.lock_hashes()
            assert {h1, zh} <= got, f"{h1} and {zh} not both in the lock file: {got}"
            c.check_runs(env)

        def install(tool):
            c = Case(tmp, tool, "install")
            make_env = clean_env(c.home)
            make_env.pop("MAKEFLAGS", None)
            p = subprocess.run(["make", "-s", "--no-print-directory", "install", f"PROVIDER_BIN={PROVIDER}"],
                               cwd=REPO, env=make_env, capture_output=True, text=True, timeout=60)
            assert p.returncode == 0, f"make install failed:\n{p.stdout}{p.stderr}"
            for host in ("registry.terraform.io", "registry.opentofu.org"):
                exe = (c.home / ".terraform.d" / "plugins" / host / "eksfleet" / "fleet" / VERSION / "linux_amd64"
                       / f"terraform-provider-fleet_v{VERSION}")
                assert exe.is_file() and os.access(exe, os.X_OK), f"make install wrote no {exe}:\n{p.stdout}"
            env = clean_env(c.home)  # no TF_CLI_CONFIG_FILE, no ~/.terraformrc: the implied local mirror only
            rc, out = c.init(env)
            assert rc == 0, f"{tool} init after make install failed ({rc}):\n{out}"
            assert f"Installed eksfleet/fleet v{VERSION}" in out, out
            assert c.lock_hashes() == {h1}, c.lock_hashes()
            c.check_runs(env)

        for tool in TOOLS:
            check(f"{tool}: network mirror", mirror, tool)
            check(f"{tool}: network mirror with an altered zip fails", tampered, tool)
            check(f"{tool}: registry protocol, signed SHA256SUMS", registry, tool)
            check(f"{tool}: registry protocol with altered SHA256SUMS fails", registry, tool, "/badsig")
            check(f"{tool}: make install, no CLI config", install, tool)
    finally:
        if server:
            server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        sys.exit(f"release self-check: FAILED: {', '.join(failed)}")
    print(f"release self-check: OK ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
