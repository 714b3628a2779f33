#!/usr/bin/env python3
"""Writes bench/peer/main.tf's per-region blocks (one aliased provider, one
region module and, for edges, one peering module per region) from REGIONS,
keeping the file's header (everything before the first provider block).

    python3 bench/peer_regions.py          # rewrite bench/peer/main.tf
    python3 bench/peer_regions.py --check  # exit 1 if the file differs

Terraform cannot loop over providers, so the peer's config is this
repetition; bench/run.py cuts it to the first N regions. The zones are the
first three moto offers in each region (moto 5.2.5), as the fleet provider
picks them; us-west-1 is left out, moto offers it two.
"""
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().parent / "peer" / "main.tf"
# (region, zones). The first is the hub; the first ten are the bench's original regions, in order.
REGIONS = [
    ("us-east-1", "abc"), ("us-west-2", "abc"), ("eu-west-1", "abc"), ("eu-central-1", "abc"),
    ("ap-southeast-1", "abc"), ("ap-northeast-1", "acd"), ("ap-south-1", "abc"), ("sa-east-1", "abc"),
    ("ca-central-1", "abd"), ("eu-north-1", "abc"),
    ("us-east-2", "abc"), ("eu-west-2", "abc"), ("eu-west-3", "abc"), ("ap-northeast-2", "abc"),
    ("ap-northeast-3", "abc"), ("ap-southeast-2", "abc"), ("eu-south-1", "abc"), ("me-south-1", "abc"),
    ("af-south-1", "abc"), ("ap-east-1", "abc"),
]

PROVIDER = """provider "aws" {{
  alias                       = "r{i}"
  region                      = "{region}"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {{
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }}
  default_tags {{
    tags = local.tags
  }}
}}
"""

HUB = """module "r0" {{
  source             = "./modules/region"
  providers          = {{ aws = aws.r0 }}
  name               = var.name
  region             = "{region}"
  vpc_cidr           = local.hub_cidr
  zones              = [{zones}]
  api_allowed_cidrs  = local.edge_cidrs
  kubernetes_version = var.kubernetes_version
}}
"""

EDGE = """module "r{i}" {{
  source             = "./modules/region"
  count              = var.n > {i} ? 1 : 0
  providers          = {{ aws = aws.r{i} }}
  name               = var.name
  region             = "{region}"
  vpc_cidr           = "10.{i}.0.0/16"
  zones              = [{zones}]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}}

module "peering_r{i}" {{
  source     = "./modules/peering"
  count      = var.n > {i} ? 1 : 0
  providers  = {{ aws = aws.r{i}, aws.hub = aws.r0 }}
  name       = "{region}-to-hub"
  hub_region = "{hub}"
  edge       = module.r{i}[0]
  hub        = module.r0
}}
"""


def render(header):
    hub = REGIONS[0][0]
    blocks = [PROVIDER.format(i=i, region=r) for i, (r, _) in enumerate(REGIONS)]
    for i, (region, letters) in enumerate(REGIONS):
        zones = ", ".join(f'"{region}{z}"' for z in letters)
        template = HUB if i == 0 else EDGE
        blocks.append(template.format(i=i, region=region, zones=zones, hub=hub))
    return header + "\n".join(blocks)


def main():
    text = MAIN.read_text()
    wanted = render(text[:text.index('provider "aws" {')])
    if "--check" in sys.argv:
        sys.exit(0 if wanted == text else f"{MAIN}: differs from bench/peer_regions.py's output")
    MAIN.write_text(wanted)


if __name__ == "__main__":
    main()
