# Root configuration: every unit includes it with find_in_parent_folders("root.hcl").
locals {
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

{% include "_root_shared.hcl" %}
# The unit's only provider configuration: the modules declare none, and one
# fleet provider serves every region (resources take `region`). Tags reach
# objects through the modules' `tags` input, never through this text.
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOF
    provider "fleet" {
      region       = "${local.region.locals.region}"
      assume_role  = ${jsonencode(local.region.locals.provider_assume_role)}
      default_tags = { ManagedBy = "eksgen" }
    }
  EOF
}
