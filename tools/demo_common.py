"""What both demos share: moto on a free port, the provider in a filesystem
mirror, progress banners."""
import os
import shutil
import subprocess
from pathlib import Path

import boto3

import local_server

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = os.environ.get("TERRAFORM", str(ROOT / ".venv" / "bin" / "terraform"))
# Terraform's keys: the stand-in applies AWS's eventual-consistency lags to
# them. The demo's own calls sign with an observer key, which it never lags
# (tools/strict_ec2.py), as the tests' own checks do.
AWS_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAEKSFLEETDEMO0001", "AWS_SECRET_ACCESS_KEY": "demo"}
OBSERVER_KEY = "AKIAEKSFLEETOBSERVER1"


def banner(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def start_moto():
    """moto plus the project's EKS extension, with its default realism."""
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    return local_server.start_moto_fleet(env)


def stop_moto(moto):
    moto.terminate()
    try:
        moto.wait(timeout=10)
    except subprocess.TimeoutExpired:
        moto.kill()
        moto.wait()


def aws_env(url, region):
    """Environment of a Terraform or Terragrunt run against moto."""
    return dict(os.environ, **AWS_KEYS, AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION=region, AWS_REGION=region,
                TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")


def client(service, url, region):
    """A boto3 client on moto for the demo's own calls."""
    return boto3.client(service, region_name=region, endpoint_url=url, aws_access_key_id=OBSERVER_KEY,
                        aws_secret_access_key="demo")


def live_peerings(ec2):
    """Peering connections not yet gone (moto keeps deleted ones listed)."""
    return [p for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
            if p["Status"]["Code"] not in ("deleted", "rejected", "failed")]


def mirror_provider(provider, version, work):
    """Installs the built provider into a filesystem mirror under `work`, as
    it would come from the registry, and returns a CLI configuration that
    takes eksfleet/fleet from there only. Terraform's dev_overrides would do
    for plain Terraform, but fail the `init` Terragrunt runs again in a unit
    applied before ("could not connect to registry.terraform.io")."""
    mirror = work / "mirror"
    target = mirror / "registry.terraform.io" / "eksfleet" / "fleet" / version / "linux_amd64"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(provider, target / f"terraform-provider-fleet_v{version}")
    config = work / "terraformrc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/eksfleet/fleet"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/eksfleet/fleet"]\n  }\n}\n'
    )
    return config
