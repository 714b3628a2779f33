# Root configuration: every unit includes it with find_in_parent_folders("root.hcl").
locals {
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

# Before 1.0, Terragrunt passed `${` in map inputs to the engine unescaped and
# had no `run --all`; this tree is tested with 1.1.3.
terragrunt_version_constraint = ">= 1.0"

{% if state -%}
# State in S3, one key per unit, locked with S3-native lock files.
# Create the bucket once with `terragrunt run --all --backend-bootstrap plan`.
remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    bucket       = {{ state.bucket | hcl }}
    key          = "${path_relative_to_include()}/terraform.tfstate"
    region       = {{ state.region | hcl }}
    encrypt      = true
    use_lockfile = true
{%- if state.use_path_style %}
    # [state] use_path_style: an S3-compatible store without bucket host names.
    use_path_style = true
{%- endif %}
  }
}
{%- else -%}
# Local state under the tree's .terraform-state/ (not in .terragrunt-cache,
# which is disposable). Give `eksgen init --state-bucket` for shared state.
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
{%- endif %}

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
