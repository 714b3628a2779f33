#!/usr/bin/env python3
"""Package provider binaries as a registry release: `make release` runs this.

    package_release.py --version 0.1.0 --out dist \
        --binary linux_amd64=target/release/terraform-provider-fleet \
        --binary linux_arm64=target/aarch64-unknown-linux-gnu/release/terraform-provider-fleet

writes into --out the files the Terraform Registry's "manually preparing a
release" rules ask for (docs: registry/providers/publishing):

    terraform-provider-fleet_<version>_<os>_<arch>.zip   one per platform, holding
                                                         terraform-provider-fleet_v<version>
    terraform-provider-fleet_<version>_manifest.json     terraform-registry-manifest.json
    terraform-provider-fleet_<version>_SHA256SUMS        sha256 of the zips and the manifest
    terraform-provider-fleet_<version>_SHA256SUMS.sig    binary detached GPG signature
    signing-key.asc                                      the public key that made it

and the provider network mirror protocol's index files for both registry
hosts (registry.terraform.io for Terraform, registry.opentofu.org for
OpenTofu), pointing at the same zips, so the directory served over HTTPS as
it is works as a `network_mirror`.

Signing: GPG_KEY_ID (or --gpg-key-id) picks a key from the user's keyring.
Without one, a throwaway RSA key is generated into a temporary GNUPGHOME and
discarded afterwards: the signature is then only good for checking the
pipeline, and its public key is written as THROWAWAY-signing-key.asc.
The registry takes RSA or DSA keys, not gpg's default ECC, hence rsa3072.

Zips are byte-for-byte reproducible (fixed entry time, SOURCE_DATE_EPOCH if
set), so the same binary always gets the same zh: hash in lock files.
Standard library only, plus the gpg CLI.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

NAME = "fleet"
NAMESPACE = "eksfleet"
HOSTS = ("registry.terraform.io", "registry.opentofu.org")
REPO = Path(__file__).resolve().parent.parent
THROWAWAY_UID = "eksfleet THROWAWAY release-pipeline key, never publish <throwaway@eksfleet.invalid>"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def zip_binary(binary, zip_path, inner_name):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, zip's earliest
    info = zipfile.ZipInfo(inner_name, date_time=time.gmtime(max(epoch, 315532800))[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode below is honoured when unpacked
    info.external_attr = 0o100755 << 16  # a regular executable file
    with zipfile.ZipFile(zip_path, "w") as zf, open(binary, "rb") as src:
        with zf.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def gpg(gnupghome, *args, **kw):
    env = dict(os.environ)
    if gnupghome:
        env["GNUPGHOME"] = gnupghome
    return subprocess.run(["gpg", "--batch", "--yes", *args], env=env, check=True, **kw)


def sign(sums, key_id, out):
    """Detached binary signature of `sums`; returns the public key file's name."""
    if shutil.which("gpg") is None:
        sys.exit("package_release: gpg not found (apt-get install gnupg) and the registry needs a signature")
    home = None
    try:
        if not key_id:
            home = tempfile.mkdtemp(prefix="eksfleet-gpg-")
            os.chmod(home, 0o700)
            gpg(home, "--passphrase", "", "--quick-generate-key", THROWAWAY_UID, "rsa3072", "sign", "1d",
                capture_output=True)
            key_id = THROWAWAY_UID
            print("package_release: no GPG_KEY_ID, signed with a THROWAWAY key (fine for tests, "
                  "not for publishing)", file=sys.stderr)
        gpg(home, "--local-user", key_id, "--output", f"{sums}.sig", "--detach-sign", str(sums))
        key_file = "THROWAWAY-signing-key.asc" if home else "signing-key.asc"
        gpg(home, "--armor", "--output", str(out / key_file), "--export", key_id)
        return key_file
    finally:
        if home:
            # The agent gpg started for this home would otherwise outlive it.
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=dict(os.environ, GNUPGHOME=home),
                           capture_output=True)
            shutil.rmtree(home, ignore_errors=True)


def write_mirror(out, version, zips):
    """Network mirror protocol: <host>/<ns>/<type>/index.json and <version>.json."""
    archives = {
        platform: {"url": f"../../../{z.name}", "hashes": [f"zh:{digest}"]}  # relative to <version>.json
        for platform, (z, digest) in sorted(zips.items())
    }
    for host in HOSTS:
        d = out / host / NAMESPACE / NAME
        d.mkdir(parents=True, exist_ok=True)
        (d / "index.json").write_text(json.dumps({"versions": {version: {}}}, indent=2) + "\n")
        (d / f"{version}.json").write_text(json.dumps({"archives": archives}, indent=2) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--version", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--binary", action="append", required=True, metavar="OS_ARCH=PATH")
    p.add_argument("--gpg-key-id", default=os.environ.get("GPG_KEY_ID", ""))
    args = p.parse_args()

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    prefix = f"terraform-provider-{NAME}_{args.version}"
    for stale in list(out.glob(f"terraform-provider-{NAME}_*")) + list(out.glob("*signing-key.asc")):
        stale.unlink()
    for host in HOSTS:
        shutil.rmtree(out / host, ignore_errors=True)

    zips = {}
    for spec in args.binary:
        platform, _, binary = spec.partition("=")
        if not binary or platform.count("_") != 1:
            sys.exit(f"package_release: --binary wants OS_ARCH=PATH, got {spec!r}")
        if not os.access(binary, os.X_OK):
            sys.exit(f"package_release: {binary} is not an executable file")
        z = out / f"{prefix}_{platform}.zip"
        zip_binary(binary, z, f"terraform-provider-{NAME}_v{args.version}")
        zips[platform] = (z, sha256(z))

    manifest = out / f"{prefix}_manifest.json"
    shutil.copyfile(REPO / "terraform-registry-manifest.json", manifest)

    # The format of `shasum -a 256`/`sha256sum`: "<hex>  <name>", sorted by name.
    sums = out / f"{prefix}_SHA256SUMS"
    entries = sorted([(z.name, d) for z, d in zips.values()] + [(manifest.name, sha256(manifest))])
    sums.write_text("".join(f"{d}  {n}\n" for n, d in entries))
    key_file = sign(sums, args.gpg_key_id, out)

    write_mirror(out, args.version, zips)
    for name in sorted(n for n, _ in entries) + [sums.name, sums.name + ".sig", key_file]:
        print(out / name)


if __name__ == "__main__":
    main()
