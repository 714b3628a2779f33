locals {
  env    = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
{%- if kind == "gitops-registration" %}
  # The edge this unit registers: edge.hcl next to it, written by eksgen.
  edge   = read_terragrunt_config("${get_terragrunt_dir()}/edge.hcl")
{%- endif %}
}

terraform {
{%- if modules.relative %}
  source = "${dirname(find_in_parent_folders("root.hcl"))}/{{ modules.relative | hcl_escape }}//{{ module }}"
{%- else %}
  source = {{ modules.source | hcl }}
{%- endif %}
}
