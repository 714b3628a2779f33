# Unit vpc-peering-requester of the stack layout: the edge side of the
# edge-to-hub peering, the request and the edge's routes. Same-account
# peerings are accepted at once; vpc-peering-accepter does the hub side.
{% include "stack/_unit.hcl" %}
# The stack file passes where the units this one reads are, relative to it.
# Mocks serve the commands a never-applied dependency meets (never apply).
# A dependency whose first apply failed part-way has some outputs but not
# all: "shallow" fills in the missing ones, so `run --all destroy` reaches it.
dependency "edge_cluster" {
  config_path = values.edge_cluster_path
  mock_outputs = {
    vpc_id                  = "vpc-00000000000000001"
    private_route_table_ids = ["rtb-00000000000000001"]
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

dependency "gitops_cluster" {
  config_path = values.gitops_cluster_path
  mock_outputs = {
    vpc_id = "vpc-00000000000000002"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

inputs = merge({
  region          = values.region
  vpc_id          = dependency.edge_cluster.outputs.vpc_id
  route_table_ids = dependency.edge_cluster.outputs.private_route_table_ids
  peer_region     = values.hub_region
  peer_vpc_id     = dependency.gitops_cluster.outputs.vpc_id
  peer_account_id = values.hub_account_id
  auto_accept     = values.peering_auto_accept
  tags            = values.tags
}, local.extra.inputs)
