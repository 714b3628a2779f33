# Root configuration of the stack layout: every unit that
# environments/<env>/terragrunt.stack.hcl generates includes it with
# find_in_parent_folders("root.hcl"). Each unit generates its own provider
# configuration from its values (units/<kind>/terragrunt.hcl).

{% include "_root_shared.hcl" %}