#!/usr/bin/env python3
"""A real Kubernetes API for a stand-in EKS cluster (#15): etcd and kube-apiserver
(`make kube-tools` builds them into .venv/bin) on free loopback ports, authenticating
bearer tokens and authorizing requests through moto_fleet.py's EKS webhooks, then
attached to the cluster so DescribeCluster reports its endpoint and CA.

    import kube_stand
    stand = kube_stand.start("http://127.0.0.1:5000", "us-east-1", "hub")
    stand.endpoint, stand.ca_pem, stand.admin_token   # then stand.stop()

    python tools/kube_stand.py --moto http://127.0.0.1:5000 --region us-east-1 --cluster hub [--namespace argocd]
        (the cluster may be created later: CreateCluster attaches the stand), creates the namespaces, prints {"endpoint", "ca_file", "certificate_authority_data", "admin_token"} as one JSON
        line once the API answers, and runs until SIGTERM/SIGINT (for harnesses in other languages).

The admin token (group system:masters, through --token-auth-file) is for the test
itself, e.g. to create namespaces; every other token goes to the webhooks.
"""
import argparse
import base64
import datetime
import ipaddress
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from local_server import free_port

HERE = Path(__file__).resolve().parent
BIN_DIR = Path(os.environ.get("KUBE_STAND_BIN", HERE.parent / ".venv" / "bin"))
READY_SECONDS = 120  # kube-apiserver answers in ~2 s idle; much more on two busy cores


def _pem_key(key):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certificates(directory):
    """A CA, a serving certificate for 127.0.0.1/localhost signed by it, and the
    service-account signing key pair. Returns the paths by name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eksfleet kube-stand CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    serving = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
               .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .sign(ca_key, hashes.SHA256()))
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {
        "ca": (ca.public_bytes(serialization.Encoding.PEM)),
        "cert": serving.public_bytes(serialization.Encoding.PEM),
        "key": _pem_key(key),
        "sa_key": _pem_key(sa_key),
        "sa_pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = Path(directory) / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


def webhook_kubeconfig(path, url):
    """A kubeconfig naming the webhook (the format both webhook flags take:
    https://kubernetes.io/docs/reference/access-authn-authz/webhook/). JSON is YAML."""
    Path(path).write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "moto-fleet", "cluster": {"server": url}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": "moto-fleet", "user": "kube-apiserver"}}],
        "current-context": "webhook",
    }))


class Stand:
    def __init__(self, workdir, etcd, apiserver, endpoint, ca_file, admin_token, logs):
        self.workdir, self.etcd, self.apiserver = workdir, etcd, apiserver
        self.endpoint, self.ca_file, self.admin_token, self.logs = endpoint, ca_file, admin_token, logs
        self.ca_pem = Path(ca_file).read_text()

    @property
    def certificate_authority_data(self):
        """The CA as EKS's DescribeCluster reports it: base64 of the PEM."""
        return base64.b64encode(self.ca_pem.encode()).decode()

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file)

    def create_namespace(self, name):
        """With the admin token, as an Argo CD install would have made it."""
        body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).encode()
        request = urllib.request.Request(self.endpoint + "/api/v1/namespaces", data=body, method="POST", headers={
            "Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30, context=self.ssl_context()).close()

    def stop(self):
        _stop(self.workdir, self.apiserver, self.etcd)


def _stop(workdir, *procs):
    for proc in procs:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)


def _tail(path, lines=30):
    text = Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(nothing on stderr)"


def _wait(proc, log, probe, what):
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready within {READY_SECONDS} s:\n{_tail(log)}")


def _binary(name):
    path = BIN_DIR / name
    if not os.access(path, os.X_OK):
        sys.exit(f"{path} is missing: run `make kube-tools` (tools/build_kube.sh)")
    return str(path)


def start(moto_url, region, cluster, account=None, attach=True):
    """etcd + kube-apiserver wired to moto_fleet's webhooks for REGION/CLUSTER; with
    ATTACH, DescribeCluster then reports this API server. Returns a Stand."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kube-stand-{cluster}-"))
    etcd = apiserver = None
    try:
        certs = make_certificates(workdir)
        admin_token = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        # token,user,uid,"groups": https://kubernetes.io/docs/reference/access-authn-authz/authentication/#static-token-file
        (workdir / "tokens.csv").write_text(f'{admin_token},kube-stand-admin,kube-stand-admin,"system:masters"\n')
        hooks = f"{moto_url.rstrip('/')}/moto-fleet/kubernetes/{region}/{cluster}"
        query = f"?account={account}" if account else ""
        webhook_kubeconfig(workdir / "authn.json", f"{hooks}/token-review{query}")
        webhook_kubeconfig(workdir / "authz.json", f"{hooks}/subject-access-review{query}")

        client_port, peer_port, secure_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{client_port}"
        etcd_log = workdir / "etcd.log"
        with open(etcd_log, "wb") as log:
            etcd = subprocess.Popen([
                _binary("etcd"), "--name", "stand", "--data-dir", str(workdir / "etcd"),
                "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
                "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                "--initial-cluster", f"stand=http://127.0.0.1:{peer_port}",
                "--log-level", "warn"], stdout=log, stderr=log)
        _wait(etcd, etcd_log, lambda: json.load(urllib.request.urlopen(etcd_url + "/health", timeout=2))
              .get("health") == "true", "etcd")

        endpoint = f"https://127.0.0.1:{secure_port}"
        api_log = workdir / "kube-apiserver.log"
        with open(api_log, "wb") as log:
            apiserver = subprocess.Popen([
                _binary("kube-apiserver"),
                "--etcd-servers", etcd_url,
                "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={secure_port}",
                f"--tls-cert-file={certs['cert']}", f"--tls-private-key-file={certs['key']}",
                f"--cert-dir={workdir / 'certs'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={certs['sa_pub']}",
                f"--service-account-signing-key-file={certs['sa_key']}",
                "--service-cluster-ip-range=10.96.0.0/16",
                f"--token-auth-file={workdir / 'tokens.csv'}",
                # EKS's split: a TokenReview webhook authenticates, RBAC then the
                # access-policy webhook authorize. No caching, so tests see changes at once.
                f"--authentication-token-webhook-config-file={workdir / 'authn.json'}",
                "--authentication-token-webhook-version=v1",
                "--authentication-token-webhook-cache-ttl=0s",
                "--authorization-mode=RBAC,Webhook",
                f"--authorization-webhook-config-file={workdir / 'authz.json'}",
                "--authorization-webhook-version=v1",
                "--authorization-webhook-cache-authorized-ttl=0s",
                "--authorization-webhook-cache-unauthorized-ttl=0s",
                "--enable-priority-and-fairness=false",  # fewer moving parts on two cores
                "--profiling=false",
            ], stdout=log, stderr=log)
        stand = Stand(workdir, etcd, apiserver, endpoint, str(certs["ca"]), admin_token, {
            "etcd": str(etcd_log), "kube-apiserver": str(api_log)})
        context = stand.ssl_context()

        def ready():
            request = urllib.request.Request(endpoint + "/readyz", headers={"Authorization": f"Bearer {admin_token}"})
            try:
                return urllib.request.urlopen(request, timeout=5, context=context).status == 200
            except urllib.error.HTTPError:
                return False
        _wait(apiserver, api_log, ready, "kube-apiserver")
        if attach:
            body = json.dumps({"endpoint": endpoint,
                               "certificate_authority_data": stand.certificate_authority_data}).encode()
            urllib.request.urlopen(urllib.request.Request(hooks + query, data=body, method="POST",
                                                          headers={"Content-Type": "application/json"}), timeout=10)
        return stand
    except BaseException:
        _stop(workdir, apiserver, etcd)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moto", required=True, help="moto_fleet.py's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--region", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--account", help="when several accounts have a cluster of that name")
    parser.add_argument("--namespace", action="append", default=[],
                        help="a namespace to create once the API answers (repeatable), e.g. argocd")
    args = parser.parse_args()
    stand = start(args.moto, args.region, args.cluster, args.account)
    for namespace in args.namespace:
        stand.create_namespace(namespace)
    done = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.append(1))
    print(json.dumps({"endpoint": stand.endpoint, "ca_file": stand.ca_file,
                      "certificate_authority_data": stand.certificate_authority_data,
                      "admin_token": stand.admin_token}), flush=True)
    try:
        while not done and stand.apiserver.poll() is None:
            time.sleep(0.5)
    finally:
        stand.stop()


if __name__ == "__main__":
    main()
