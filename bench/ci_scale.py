"""CI at scale (issue #19): `eksgen ci` on 3 environments x 30 regions, the
job counts of the pipelines it writes against GitLab's and GitHub's limits,
and the apply wall time of that fleet on 1, 4, 16 and 64 runners, computed
from the real-AWS stand-in's durations, against `terragrunt run --all` on
one machine.

The wall times are computed, not run: each job lasts the sum of the waits
AWS imposes along its units (the stand-in's `durations`, read from
tools/moto_fleet.py and tools/strict_ec2.py), and jobs are list-scheduled
on the runners in dependency order (longest remaining path first). Job
start, tool installation and `terraform init` are not in the model.
"""
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = 3
REGIONS_PER_ENV = 30
RUNNERS = (1, 4, 16, 64)
ONE_MACHINE_PARALLELISM = (1, 4, 16, 64, None)  # None: Terragrunt's default, unbounded
CI_ROLE = "arn:aws:iam::123456789012:role/eksfleet-ci"
# GitLab.com: 500 jobs in active pipelines on the Free tier, 50 `needs` per job
# (https://docs.gitlab.com/ci/yaml/#needs, https://docs.gitlab.com/user/gitlab_com/#cicd);
# GitHub Actions: 256 jobs per matrix
# (https://docs.github.com/actions/using-jobs/using-a-matrix-for-your-jobs).
GITLAB_JOBS_LIMIT, GITLAB_NEEDS_LIMIT, GITHUB_MATRIX_LIMIT = 500, 50, 256
GITLAB_KEYWORDS = {"workflow", "stages", "variables", "default", "include", "image", "services", "cache"}


def stand_in_durations(moto_python):
    """The stand-in's `durations` (real seconds), from its own modules."""
    code = ("import json, moto_fleet as m, strict_ec2 as s; print(json.dumps({"
            "'cluster': m.CLUSTER_CREATING, 'nodegroup': m.NODEGROUP_CREATING, 'addon': m.ADDON_CREATING, "
            "'nat': s.NAT_PENDING, 'peering': s.PEERING_INITIATING + s.PEERING_PROVISIONING, "
            # The parts bench/real_timing.py needs besides (a peering's two phases, the deletes).
            "'peering_initiating': s.PEERING_INITIATING, 'peering_provisioning': s.PEERING_PROVISIONING, "
            "'cluster_deleting': m.CLUSTER_DELETING, 'nodegroup_deleting': m.NODEGROUP_DELETING, "
            "'nat_deleting': s.NAT_DELETING, 'eni_linger': m.ENI_LINGER}))")
    out = subprocess.run([moto_python, "-c", code], cwd=ROOT / "tools", capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def unit_waits(d):
    """AWS's waits per unit, in the order fleet_eks_regional_cluster makes its
    parts (NAT gateways, then the control plane, then node groups with the
    add-ons started alongside); the requester accepts (auto_accept) and waits
    for `active`, so the accepter only sets options and routes."""
    cluster = d["nat"] + d["cluster"] + max(d["nodegroup"], d["addon"])
    return {"hub-cluster": cluster, "edge-cluster": cluster, "vpc-peering-requester": d["peering"],
            "vpc-peering-accepter": 0}


def fleet_units(waits):
    """Every unit of the fleet: name -> (seconds, dependencies, job)."""
    units = {}
    for e in range(ENVIRONMENTS):
        hub = f"env{e}/hub-cluster"
        units[hub] = (waits["hub-cluster"], [], f"env{e}/hub")
        for r in range(REGIONS_PER_ENV):
            job = f"env{e}/region{r}"
            edge, requester = f"{job}/edge-cluster", f"{job}/vpc-peering-requester"
            units[edge] = (waits["edge-cluster"], [], job)
            units[requester] = (waits["vpc-peering-requester"], [edge, hub], job)
            units[f"{job}/vpc-peering-accepter"] = (waits["vpc-peering-accepter"], [requester, hub], job)
    return units


def pipeline_jobs(units):
    """The apply pipeline's jobs: name -> (seconds, needs). A job runs its
    units one after another as Terragrunt orders them (a region's are a
    chain); a region's job needs its hub's job (the waves)."""
    jobs = {}
    for seconds, deps, job in units.values():
        total, needs = jobs.get(job, (0, set()))
        needs |= {units[d][2] for d in deps if units[d][2] != job}
        jobs[job] = (total + seconds, needs)
    return {name: (seconds, sorted(needs)) for name, (seconds, needs) in jobs.items()}


def makespan(tasks, workers):
    """List scheduling of tasks (name -> (seconds, dependencies)) on `workers`
    (None: unbounded), longest remaining path first: the wall time."""
    below = {}

    def longest(name):
        if name not in below:
            dependents = [t for t, (_, deps) in tasks.items() if name in deps]
            below[name] = tasks[name][0] + max((longest(t) for t in dependents), default=0)
        return below[name]

    for name in tasks:
        longest(name)
    done_at, running, now = {}, [], 0.0
    waiting = set(tasks)
    slots = workers or len(tasks)
    while waiting or running:
        ready = sorted((t for t in waiting if all(d in done_at and done_at[d] <= now for d in tasks[t][1])),
                       key=lambda t: -below[t])
        for t in ready[:slots - len(running)]:
            waiting.discard(t)
            running.append((now + tasks[t][0], t))
        running.sort()
        finish, t = running.pop(0)
        now = finish
        done_at[t] = finish
    return now


def runner_scaling(moto_python):
    durations = stand_in_durations(moto_python)
    units = fleet_units(unit_waits(durations))
    jobs = pipeline_jobs(units)
    unit_tasks = {name: (seconds, deps) for name, (seconds, deps, _) in units.items()}
    return {
        "durations": durations,
        "units": len(units),
        "jobs": len(jobs),
        "runners": {str(r): makespan(jobs, r) for r in RUNNERS},
        "runners_unbounded": makespan(jobs, None),
        "one_machine": {str(p or "unbounded"): makespan(unit_tasks, p) for p in ONE_MACHINE_PARALLELISM},
    }


def gitlab_counts(path):
    pipeline = yaml.safe_load(path.read_text())
    jobs = {k: v for k, v in pipeline.items() if k not in GITLAB_KEYWORDS and not k.startswith(".")}
    on = lambda source: [k for k, v in jobs.items()  # noqa: E731
                         if any(source in str(rule.get("if", "")) for rule in v.get("rules", []))]
    return {"jobs": len(jobs), "merge_request": len(on("merge_request_event")), "push": len(on('"push"')),
            "most_needs": max(len(v.get("needs", [])) for v in jobs.values())}


def github_counts(root):
    counts = {}
    for name in ("eksfleet-plan.yml", "eksfleet-apply.yml"):
        workflow = yaml.safe_load((root / ".github/workflows" / name).read_text())
        counts[name] = {"jobs": len(workflow["jobs"])}
    table = (root / ".eksfleet/ci.sh").read_text().split("cat <<'GROUPS'\n")[1].split("\nGROUPS\n")[0]
    per_output = {}
    for line in table.splitlines():
        output = line.split()[1]
        per_output[output] = per_output.get(output, 0) + 1
    counts["largest_matrix"] = max(per_output.values())
    counts["matrices"] = len(per_output)
    return counts


def eksgen_ci_at_scale(eksgen, regions, repeats=3):
    """Times of `eksgen ci gitlab|github` and `check` on ENVIRONMENTS x
    REGIONS_PER_ENV (medians of `repeats`), and the pipelines' job counts."""
    tree = Path(tempfile.mkdtemp(prefix="eksgen-ci-")) / "fleet"

    def run(*args, cwd_tree=True):
        cmd = [eksgen, *(["-C", str(tree)] if cwd_tree else []), *args]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"eksgen {' '.join(args)} exited {proc.returncode}: {proc.stderr[-500:]}")
        return time.perf_counter() - start

    try:
        hub, edges = regions[0], regions[1:REGIONS_PER_ENV + 1]
        if len(edges) < REGIONS_PER_ENV:
            raise RuntimeError(f"{len(edges)} edge regions known, {REGIONS_PER_ENV} wanted")
        run("init", str(tree), "--env", "env0", "--hub-region", hub, "--cidr-pool", "10.0.0.0/8",
            "--modules-source", str(ROOT / "modules"), "--state-bucket", "fleet-state", "--state-region", hub,
            cwd_tree=False)
        for e in range(1, ENVIRONMENTS):
            run("new-env", f"env{e}", "--hub-region", hub)
        for e in range(ENVIRONMENTS):
            for region in edges:
                run("new-region", region, "--env", f"env{e}")
        median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        result = {"environments": ENVIRONMENTS, "regions_per_env": REGIONS_PER_ENV}
        for system in ("github", "gitlab"):
            result[f"ci_{system}_s"] = median([run("ci", system, "--role-arn", CI_ROLE) for _ in range(repeats)])
            if system == "github":
                result["github"] = github_counts(tree)
        result["gitlab"] = gitlab_counts(tree / ".gitlab-ci.yml")
        result["check_s"] = median([run("check") for _ in range(repeats)])
        result["limits"] = {"gitlab_jobs": GITLAB_JOBS_LIMIT, "gitlab_needs": GITLAB_NEEDS_LIMIT,
                            "github_matrix": GITHUB_MATRIX_LIMIT}
        return result
    finally:
        shutil.rmtree(tree.parent, ignore_errors=True)


def report_lines(ci):
    """bench/results.md's "CI at scale" section."""
    lines = ["## CI at scale (`eksgen ci`)", ""]
    tree = ci.get("tree")
    if tree:
        g, h = tree["gitlab"], tree["github"]
        lim = tree["limits"]
        lines += [
            f"{tree['environments']} environments × {tree['regions_per_env']} regions (release build, median of 3): "
            f"`eksgen ci github` {tree['ci_github_s'] * 1000:.0f} ms, `eksgen ci gitlab` "
            f"{tree['ci_gitlab_s'] * 1000:.0f} ms, `eksgen check` {tree['check_s'] * 1000:.0f} ms.",
            "",
            "| pipeline | jobs | limit |",
            "|---|---|---|",
            f"| GitLab `.gitlab-ci.yml`, merge request (every unit changed) | {g['merge_request']} | "
            f"{lim['gitlab_jobs']} jobs in active pipelines (GitLab.com Free) |",
            f"| GitLab, default branch (every unit changed) | {g['push']} | {lim['gitlab_jobs']} |",
            f"| GitLab, most `needs` of one job | {g['most_needs']} | {lim['gitlab_needs']} |",
            f"| GitHub, largest matrix (regions of one environment) | {h['largest_matrix']} | "
            f"{lim['github_matrix']} jobs per matrix |",
            f"| GitHub `eksfleet-apply.yml` jobs (before matrix expansion) | "
            f"{h['eksfleet-apply.yml']['jobs']} | – |",
            "",
        ]
    scaling = ci.get("scaling")
    if scaling:
        d = scaling["durations"]
        one = scaling["one_machine"]
        unbounded = one["unbounded"]
        lines += [
            f"Apply of the whole fleet ({scaling['units']} units in {scaling['jobs']} jobs) from the real-AWS "
            f"stand-in's durations (NAT {d['nat']} s, control plane {d['cluster']} s, node group "
            f"{d['nodegroup']} s, add-ons {d['addon']} s alongside, peering {d['peering']} s), computed: jobs "
            "list-scheduled on the runners, hubs first (the waves). Job start, tool installs and `terraform init` "
            "are not modelled.",
            "",
            "| runners | apply wall time | vs `run --all` on one machine (unbounded) |",
            "|---|---|---|",
        ]
        for r, seconds in scaling["runners"].items():
            lines.append(f"| {r} | {seconds / 60:.0f} min | {seconds / unbounded:.2f}× |")
        lines.append(f"| enough (one per job) | {scaling['runners_unbounded'] / 60:.0f} min | "
                     f"{scaling['runners_unbounded'] / unbounded:.2f}× |")
        lines += ["", "| one machine, `terragrunt run --all --parallelism P` | apply wall time |", "|---|---|"]
        for p, seconds in one.items():
            label = "unbounded (Terragrunt's default)" if p == "unbounded" else p
            lines.append(f"| {label} | {seconds / 60:.0f} min |")
        lines += [
            "",
            "This is the whole fleet from empty, the worst case: every hub changes in the same pipeline, so "
            "every region's job waits for its hub's (the waves), while on one machine an edge cluster, which "
            "does not read its hub, starts at once. A merge that adds or changes regions with its hubs "
            "unchanged has no hub job to wait for: its region jobs start together. The one machine that "
            f"matches the pipeline runs {scaling['units']} Terraform processes, each with its provider, at "
            "once; the pipeline spreads them over its runners. Splitting a region's job into its cluster (no "
            "wait) and its peering (after the hub) would bring the from-empty case down to the one-machine "
            "figure; not done yet.",
            "",
        ]
    return lines
