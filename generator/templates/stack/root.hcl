# Root configuration of the stack layout: every unit that
# environments/<env>/terragrunt.stack.hcl generates includes it with
# find_in_parent_folders("root.hcl"). Each unit generates its own provider
# configuration from its values (units/<kind>/terragrunt.hcl).

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
  }
}
{%- else -%}
# Local state under the tree's .terraform-state/ (not in .terragrunt-cache or
# .terragrunt-stack, which are disposable). Give `eksgen init --state-bucket`
# for shared state.
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
