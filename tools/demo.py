"""`make demo`: peer two VPCs in two regions with real Terraform against a local moto.

Starts moto on a free loopback port, creates the two VPCs through the AWS API
(boto3), installs the freshly built provider into a local filesystem mirror so
`terraform init` works as it would from the registry, then runs
init / apply / output / destroy on examples/terraform/peering and stops moto.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "terraform" / "peering"
TERRAFORM = os.environ.get("TERRAFORM", str(ROOT / ".venv" / "bin" / "terraform"))
HUB, EDGE = "us-east-1", "us-west-2"


def banner(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    moto = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "moto_fleet.py"), "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return moto, url
        except OSError:
            time.sleep(0.1)
    moto.kill()
    sys.exit("moto did not start")


def make_vpc(url, region, cidr):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    print(f"  {region}: {vpc} ({cidr}), route table {rtb}")
    return vpc, rtb


def mirror_provider(provider, version, mirror):
    target = mirror / "registry.terraform.io" / "eksfleet" / "fleet" / version / "linux_amd64"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(provider, target / f"terraform-provider-fleet_v{version}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--provider", required=True)
    parser.add_argument("--version", required=True)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="eksfleet-demo-"))
    mirror = work / "mirror"
    mirror_provider(args.provider, args.version, mirror)
    (work / "terraformrc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    shutil.copy2(EXAMPLE / "main.tf", work / "main.tf")

    banner("Starting moto (every AWS region on one loopback port)")
    moto, url = start_moto()
    print(f"  {url}")
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
        AWS_DEFAULT_REGION=HUB, AWS_REGION=HUB,
        TF_CLI_CONFIG_FILE=str(work / "terraformrc"), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
    )
    os.environ.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo")

    def terraform(*cmd):
        print(f"\n$ terraform {' '.join(cmd)}", flush=True)
        subprocess.run([TERRAFORM, *cmd], cwd=work, env=env, check=True)

    try:
        banner("Creating two VPCs through the AWS API")
        hub_vpc, hub_rtb = make_vpc(url, HUB, "10.0.0.0/16")
        edge_vpc, edge_rtb = make_vpc(url, EDGE, "10.1.0.0/16")
        (work / "terraform.tfvars.json").write_text(json.dumps({
            "hub_region": HUB, "hub_vpc_id": hub_vpc, "hub_route_table_ids": [hub_rtb],
            "edge_region": EDGE, "edge_vpc_id": edge_vpc, "edge_route_table_ids": [edge_rtb],
        }, indent=2))

        banner("Peering them with Terraform")
        terraform("init", "-no-color")
        terraform("apply", "-auto-approve", "-no-color")
        terraform("output", "-no-color")
        terraform("plan", "-detailed-exitcode", "-no-color")

        banner("What AWS (moto) now holds")
        for region in (EDGE, HUB):
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
            for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]:
                print(f"  {region}: {p['VpcPeeringConnectionId']} {p['Status']['Code']}: "
                      f"{p['RequesterVpcInfo']['VpcId']} ({p['RequesterVpcInfo'].get('Region')}) <-> "
                      f"{p['AccepterVpcInfo']['VpcId']} ({p['AccepterVpcInfo'].get('Region')})")
            for t in ec2.describe_route_tables()["RouteTables"]:
                for r in t["Routes"]:
                    if "VpcPeeringConnectionId" in r:
                        print(f"  {region}: {t['RouteTableId']} routes {r['DestinationCidrBlock']} via {r['VpcPeeringConnectionId']}")

        banner("Tearing down")
        terraform("destroy", "-auto-approve", "-no-color")
        for region in (EDGE, HUB):
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
            left = [p["VpcPeeringConnectionId"] for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
                    if p["Status"]["Code"] not in ("deleted", "rejected", "failed")]
            print(f"  {region}: live peerings left: {left or 'none'}")
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)
        banner("moto stopped")


if __name__ == "__main__":
    main()
