# Root configuration of the aws-provider Terragrunt tree (bench/terragrunt_plan.py
# writes one per N): every unit includes it with find_in_parent_folders("root.hcl").
# As hub-and-spoke Terragrunt guides do it, the provider block is generated here
# with the region of the unit's region.hcl, and each unit keeps its own state.
locals {
  region   = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  endpoint = get_env("BENCH_AWS_ENDPOINT")
}

remote_state {
  backend = "local"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    path = "${get_parent_terragrunt_dir()}/.terraform-state/${path_relative_to_include()}/terraform.tfstate"
  }
}

# hashicorp/aws 3.39 predates AWS_ENDPOINT_URL, so moto's endpoint is set per service.
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOF
    provider "aws" {
      region                      = "${local.region.locals.region}"
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
