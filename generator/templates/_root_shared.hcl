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
# Local state under the tree's .terraform-state/, outside what Terragrunt
# treats as disposable (.terragrunt-cache, .terragrunt-stack). Give
# `eksgen init --state-bucket` for shared state.
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
