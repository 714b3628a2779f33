"""`make demo-peering`: peer two VPCs in two regions with real Terraform against a local moto.

Starts moto on a free loopback port, creates the two VPCs through the AWS API
(boto3), installs the freshly built provider into a local filesystem mirror so
`terraform init` works as it would from the registry, then runs
init / apply / output / destroy on examples/terraform/peering and stops moto.
"""
import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from demo_common import (ROOT, TERRAFORM, aws_env, banner, client, live_peerings, mirror_provider, start_moto,
                         stop_moto)

EXAMPLE = ROOT / "examples" / "terraform" / "peering"
HUB, EDGE = "us-east-1", "us-west-2"


def make_vpc(url, region, cidr):
    ec2 = client("ec2", url, region)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    print(f"  {region}: {vpc} ({cidr}), route table {rtb}")
    return vpc, rtb


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--provider", required=True)
    parser.add_argument("--version", required=True)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="eksfleet-demo-"))
    cli_config = mirror_provider(args.provider, args.version, work)
    shutil.copy2(EXAMPLE / "main.tf", work / "main.tf")

    banner("Starting moto (every AWS region on one loopback port)")
    moto, url = start_moto()
    print(f"  {url}")
    env = dict(aws_env(url, HUB), TF_CLI_CONFIG_FILE=str(cli_config))

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
            ec2 = client("ec2", url, region)
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
            ec2 = client("ec2", url, region)
            left = [p["VpcPeeringConnectionId"] for p in live_peerings(ec2)]
            print(f"  {region}: live peerings left: {left or 'none'}")
    finally:
        stop_moto(moto)
        shutil.rmtree(work, ignore_errors=True)
        banner("moto stopped")


if __name__ == "__main__":
    main()
