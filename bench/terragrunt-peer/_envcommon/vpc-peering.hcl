# The edge's VPC peered with the hub's: the request from the edge's region, the
# acceptance in the hub's, DNS options and routes on both sides. A cross-region
# peering has two regions, so this unit gets a second, aliased provider.
locals {
  region   = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  endpoint = get_env("BENCH_AWS_ENDPOINT")
}

terraform {
  source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//vpc-peering"
}

generate "provider_hub" {
  path      = "provider_hub.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOF
    provider "aws" {
      alias                       = "hub"
      region                      = "${local.region.locals.hub_region}"
      skip_credentials_validation = true
      skip_requesting_account_id  = true
      skip_metadata_api_check     = true
      skip_get_ec2_platforms      = true
      endpoints {
        ec2 = "${local.endpoint}"
        eks = "${local.endpoint}"
        iam = "${local.endpoint}"
        sts = "${local.endpoint}"
      }
      default_tags {
        tags = { ManagedBy = "bench", Fleet = "bench" }
      }
    }
  EOF
}

dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = {
    vpc_id                  = "vpc-00000000000000001"
    vpc_cidr                = "10.255.0.0/16"
    private_route_table_ids = ["rtb-00000000000000001"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

dependency "hub_vpc" {
  config_path = "../../${local.region.locals.hub_region}/vpc"
  mock_outputs = {
    vpc_id                  = "vpc-00000000000000002"
    vpc_cidr                = "10.254.0.0/16"
    private_route_table_ids = ["rtb-00000000000000002"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan"]
}

inputs = {
  name                 = "${local.region.locals.region}-to-hub"
  hub_region           = local.region.locals.hub_region
  edge_vpc_id          = dependency.vpc.outputs.vpc_id
  edge_vpc_cidr        = dependency.vpc.outputs.vpc_cidr
  edge_route_table_ids = dependency.vpc.outputs.private_route_table_ids
  hub_vpc_id           = dependency.hub_vpc.outputs.vpc_id
  hub_vpc_cidr         = dependency.hub_vpc.outputs.vpc_cidr
  hub_route_table_ids  = dependency.hub_vpc.outputs.private_route_table_ids
}
