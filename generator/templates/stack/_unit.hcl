include "root" {
  path = find_in_parent_folders("root.hcl")
}

# Inputs of your own go in the file values.extra names, relative to root.hcl's
# folder (environments/<env>/extra/{% if kind == "gitops-registration" %}<hub region>/gitops-registration-<edge region>{% else %}<region>/{{ kind }}{% endif %}.hcl), as `inputs = { … }`.
# eksgen never writes that file; its inputs override the generated ones.
locals {
  extra = read_terragrunt_config("${dirname(find_in_parent_folders("root.hcl"))}/${values.extra}", { inputs = {} })
}

terraform {
{%- if modules.relative %}
  source = "${dirname(find_in_parent_folders("root.hcl"))}/{{ modules.relative | hcl_escape }}//{{ module }}"
{%- else %}
  source = {{ modules.source | hcl }}
{%- endif %}
}

# The unit's only provider configuration: the modules declare none, and one
# fleet provider serves every region (resources take `region`). Tags reach
# objects through the modules' `tags` input, never through this text.
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<-EOF
    provider "fleet" {
      region       = "${values.region}"
      assume_role  = ${jsonencode(values.provider_assume_role)}
      default_tags = { ManagedBy = "eksgen" }
    }
  EOF
}
