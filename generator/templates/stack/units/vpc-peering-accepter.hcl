# Unit vpc-peering-accepter of the stack layout: the hub side of the
# edge-to-hub peering, in the hub region: acceptance (a no-op when the request
# was auto-accepted), the hub's routes and DNS option.
{% include "stack/_unit.hcl" %}
# The stack file passes where the units this one reads are, relative to it.
# Mocks serve the commands a never-applied dependency meets (never apply).
# A dependency whose first apply failed part-way has some outputs but not
# all: "shallow" fills in the missing ones, so `run --all destroy` reaches it.
dependency "vpc_peering_requester" {
  config_path = values.vpc_peering_requester_path
  mock_outputs = {
    peering_id = "pcx-00000000000000001"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

dependency "gitops_cluster" {
  config_path = values.gitops_cluster_path
  mock_outputs = {
    private_route_table_ids = ["rtb-00000000000000002"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

inputs = merge({
  peering_id      = dependency.vpc_peering_requester.outputs.peering_id
  region          = values.hub_region
  route_table_ids = dependency.gitops_cluster.outputs.private_route_table_ids
  assume_role_arn = values.hub_assume_role_arn
}, local.extra.inputs)
