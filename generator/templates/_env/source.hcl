locals {
  env    = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

terraform {
{%- if modules.relative %}
  source = "${dirname(find_in_parent_folders("root.hcl"))}/{{ modules.relative | hcl_escape }}//{{ kind }}"
{%- else %}
  source = {{ modules.source | hcl }}
{%- endif %}
}
