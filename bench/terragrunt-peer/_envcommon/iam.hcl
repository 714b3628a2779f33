# The region's cluster and node roles with their managed policies.
locals {
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

terraform {
  source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//iam"
}

inputs = {
  name   = "bench"
  region = local.region.locals.region
}
