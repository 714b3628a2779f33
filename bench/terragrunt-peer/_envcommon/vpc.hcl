# The region's network: VPC, subnets, gateways, route tables, API security group.
locals {
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

terraform {
  source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//vpc"
}

inputs = {
  name              = "bench"
  vpc_cidr          = local.region.locals.vpc_cidr
  zones             = local.region.locals.zones
  api_allowed_cidrs = local.region.locals.api_allowed_cidrs
}
