# Unit {{ kind }}: what it builds and how it is wired lives in
# environments/_env/{{ kind }}.hcl; region.hcl above says where.
include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "env" {
  path = "${dirname(find_in_parent_folders("root.hcl"))}/environments/_env/{{ kind }}.hcl"
}

# Inputs of your own go in extra.hcl next to this file, as `inputs = { … }`.
# eksgen never writes that file; its inputs override the generated ones.
locals {
  extra = read_terragrunt_config("${get_terragrunt_dir()}/extra.hcl", { inputs = {} })
}

inputs = local.extra.inputs
