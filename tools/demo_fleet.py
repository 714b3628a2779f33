"""`make demo`: the main job. eksgen writes a fleet (a hub and two edges), the
real Terragrunt applies it with real Terraform and the built provider against
a local moto; the demo shows what moto then holds, re-plans (must be clean),
destroys, checks that nothing is left and stops moto.

Terragrunt's output goes to a log file in the work folder; the terminal gets
a line per finished unit and Terragrunt's run summaries. The work folder is
removed after a success and kept after a failure.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_common import (ROOT, TERRAFORM, aws_env, banner, client, live_peerings, mirror_provider, start_moto,
                         stop_moto)

TERRAGRUNT = ROOT / ".venv" / "bin" / "terragrunt"
HUB, EDGES = "us-east-1", ["us-west-2", "eu-west-1"]
REGIONS = [HUB, *EDGES]
# What a unit's Terraform says once it is done: one progress line each.
UNIT_DONE = re.compile(r"\[(?P<unit>[^\]]+)\] terraform: (?P<what>(?:Apply|Destroy) complete!.*|No changes\.|Plan: .*)")
START = time.monotonic()


class DemoFailed(Exception):
    pass


def elapsed():
    s = int(time.monotonic() - START)
    return f"{s // 60}:{s % 60:02d}"


def run(*cmd, **kwargs):
    print(f"$ {' '.join(map(str, cmd))}", flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if out.returncode:
        raise DemoFailed(f"{cmd[0]} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return out.stdout


def terragrunt(tree, env, log, command, *terraform_args):
    """`terragrunt run --all COMMAND [-- TERRAFORM_ARGS]`, output appended to `log`;
    returns the number of units run."""
    cmd = [str(TERRAGRUNT), "run", "--all", command, "--non-interactive", "--no-color"]
    if terraform_args:
        cmd += ["--", *terraform_args]
    print(f"$ terragrunt {' '.join(cmd[1:])}", flush=True)
    units = 0
    # UTF-8 whatever the locale: Terragrunt's summary starts with "❯❯".
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        # Its own session, so that a failure or Ctrl-C here kills the whole
        # run (Terraform, the providers) rather than leaving it behind.
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, encoding="utf-8", errors="replace", start_new_session=True)
        try:
            summary = None  # the run summary block: ends at a blank line; errors follow it
            for line in proc.stdout:
                out.write(line)
                if line.startswith("❯❯ Run Summary"):
                    summary = True
                    units = int(re.search(r"(\d+) units?", line)[1])
                if summary and not line.strip():
                    summary = False
                if summary:
                    print(f"  {line.rstrip()}", flush=True)
                elif summary is None and (done := UNIT_DONE.search(line)):
                    print(f"  {elapsed()}  {done['unit']}: {done['what']}", flush=True)
            proc.wait()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if proc.returncode == 2 and "-detailed-exitcode" in terraform_args:
        raise DemoFailed(f"terragrunt run --all {command}: a unit has changes (exit code 2), see its Plan: line")
    if proc.returncode:
        raise DemoFailed(f"terragrunt run --all {command} exited {proc.returncode}")
    return units


def show_and_check_fleet(url):
    """Prints the clusters, peerings and peering routes moto holds, and fails
    unless every region has an ACTIVE cluster and every edge an active
    peering to the hub routed on both sides."""
    vpcs, problems = {}, []
    print("EKS clusters")
    for region in REGIONS:
        eks = client("eks", url, region)
        names = eks.list_clusters()["clusters"]
        if len(names) != 1:
            problems.append(f"{region}: {len(names)} clusters")
        for name in names:
            c = eks.describe_cluster(name=name)["cluster"]
            print(f"  {region:<10} {name:<28} {c['status']:<8} Kubernetes {c['version']}")
            if c["status"] != "ACTIVE":
                problems.append(f"{region}: cluster {name} is {c['status']}")
        for v in client("ec2", url, region).describe_vpcs()["Vpcs"]:
            if not v["IsDefault"]:
                vpcs[v["VpcId"]] = (region, v["CidrBlock"])

    print("VPC peerings")
    peerings = live_peerings(client("ec2", url, HUB))
    for p in peerings:
        req, acc = p["RequesterVpcInfo"], p["AccepterVpcInfo"]
        print(f"  {p['VpcPeeringConnectionId']}  {p['Status']['Code']:<7} requester {req['VpcId']} ({req['Region']})"
              f" -> accepter {acc['VpcId']} ({acc['Region']})")
        if p["Status"]["Code"] != "active":
            problems.append(f"{p['VpcPeeringConnectionId']} is {p['Status']['Code']}")
    if sorted(p["RequesterVpcInfo"]["Region"] for p in peerings) != sorted(EDGES):
        problems.append(f"expected one peering per edge ({', '.join(EDGES)}), found {len(peerings)}")

    print("Routes to the peer VPC through the peering, per VPC")
    routes = {}  # (vpc, destination, peering) -> route tables
    for region in REGIONS:
        for t in client("ec2", url, region).describe_route_tables()["RouteTables"]:
            for r in t["Routes"]:
                if "VpcPeeringConnectionId" in r:
                    key = (t["VpcId"], r["DestinationCidrBlock"], r["VpcPeeringConnectionId"])
                    routes.setdefault(key, []).append(t["RouteTableId"])
    for (vpc, dest, pcx), tables in routes.items():
        region, cidr = vpcs[vpc]
        print(f"  {region:<10} {vpc} ({cidr}): {dest} via {pcx} in {len(tables)} route table(s): {', '.join(tables)}")
    for p in peerings:
        pcx, req, acc = p["VpcPeeringConnectionId"], p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"]
        for vpc, peer in ((req, acc), (acc, req)):
            if (vpc, vpcs[peer][1], pcx) not in routes:
                problems.append(f"{vpc} has no route to {vpcs[peer][1]} via {pcx}")
    if problems:
        raise DemoFailed("the fleet is not what the tree describes:\n  " + "\n  ".join(problems))


def check_nothing_left(url):
    left = []
    for region in REGIONS:
        ec2 = client("ec2", url, region)
        left += [f"{region}: VPC {v['VpcId']}" for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]
        left += [f"{region}: cluster {c}" for c in client("eks", url, region).list_clusters()["clusters"]]
        left += [f"{region}: peering {p['VpcPeeringConnectionId']}" for p in live_peerings(ec2)]
    if left:
        raise DemoFailed("left after destroy:\n  " + "\n  ".join(left))
    print(f"  {', '.join(REGIONS)}: no clusters, no VPCs but the default ones, no live peerings")


def demo(work, provider, version, eksgen):
    tree, log = work / "tree", work / "terragrunt.log"
    banner(f"eksgen: a tree for env dev, hub {HUB}, edges {' and '.join(EDGES)}")
    run(eksgen, "init", tree, "--env", "dev", "--hub-region", HUB, "--modules-source", ROOT / "modules")
    for edge in EDGES:
        run(eksgen, "-C", tree, "new-region", edge)
    print(run(eksgen, "-C", tree, "list"), end="")

    cli_config = mirror_provider(provider, version, work)

    banner("Starting moto (every AWS region on one loopback port)")
    moto, url = start_moto()
    try:
        print(f"  {url}")
        env = dict(aws_env(url, HUB), TG_TF_PATH=TERRAFORM, TF_CLI_CONFIG_FILE=str(cli_config))
        print(f"  Terragrunt's output: {log}")

        banner(f"Apply [{elapsed()}]")
        terragrunt(tree, env, log, "apply")
        banner(f"What moto now holds [{elapsed()}]")
        show_and_check_fleet(url)
        banner(f"Re-plan: every unit must be clean [{elapsed()}]")
        # -detailed-exitcode: a unit with changes exits 2, which fails the run.
        units = terragrunt(tree, env, log, "plan", "-detailed-exitcode")
        print(f"  no changes in {units} units")
        banner(f"Destroy [{elapsed()}]")
        terragrunt(tree, env, log, "destroy")
        check_nothing_left(url)
    finally:
        stop_moto(moto)
        banner(f"moto stopped [{elapsed()}]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--provider", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--eksgen", required=True)
    args = parser.parse_args()
    if not TERRAGRUNT.exists():
        sys.exit(f"{TERRAGRUNT} is missing: `make go-tools` builds it")
    # A plain `kill` unwinds like Ctrl-C: Terragrunt killed, moto stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    work = Path(tempfile.mkdtemp(prefix="eksfleet-demo-"))
    try:
        demo(work, args.provider, args.version, args.eksgen)
    except BaseException as e:
        log = work / "terragrunt.log"
        if log.exists():
            print(f"\n--- last lines of {log}")
            print("".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-40:]), end="")
        reason = "interrupted" if isinstance(e, KeyboardInterrupt) else str(e) or type(e).__name__
        print(f"\nFAILED after {elapsed()}: {reason}\nwork folder kept: {work}", file=sys.stderr)
        if isinstance(e, KeyboardInterrupt):
            sys.exit(130)
        if isinstance(e, DemoFailed):
            sys.exit(1)
        raise
    shutil.rmtree(work)
    print(f"\nDone in {elapsed()}: applied, checked, re-planned clean and destroyed.")


if __name__ == "__main__":
    main()
