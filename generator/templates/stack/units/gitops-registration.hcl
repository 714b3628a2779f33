# Unit gitops-registration of the stack layout: an edge cluster registered
# with the hub's Argo CD, a cluster Secret in Argo CD's namespace on the hub
# (module argocd-registration). environments/<env>/terragrunt.stack.hcl
# generates one per edge, next to the hub's unit, with the hub's settings as
# values (so its provider has the hub's region and role) and the edge's as edge_*.
{% include "stack/_unit.hcl" %}
# The stack file passes where the units this one reads are, relative to it.
# Mocks serve the commands a never-applied dependency meets (never apply).
# A dependency whose first apply failed part-way has some outputs but not
# all: "shallow" fills in the missing ones, so `run --all destroy` reaches it.
# The hub comes first; its mocked name is its real one, so plans show it.
dependency "gitops_cluster" {
  config_path = values.gitops_cluster_path
  mock_outputs = {
    cluster_name = values.cluster_name
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

dependency "edge_cluster" {
  config_path = values.edge_cluster_path
  mock_outputs = {
    cluster_arn     = "arn:aws:eks:${values.edge_region}:000000000000:cluster/${values.edge_cluster_name}"
    gitops_role_arn = "arn:aws:iam::000000000000:role/mock-gitops"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

inputs = merge({
  hub_region       = values.hub_region
  hub_cluster_name = dependency.gitops_cluster.outputs.cluster_name
  namespace        = values.gitops_namespace
  mode             = values.gitops_mode
  cluster_arn      = dependency.edge_cluster.outputs.cluster_arn
  # The edge's deploy role, for a self-managed Argo CD to assume; the managed
  # one uses its own role (the edge gave it an access entry).
  role_arn = values.gitops_mode == "self-managed" ? dependency.edge_cluster.outputs.gitops_role_arn : null
  # What ApplicationSets' cluster generators select edges by.
  labels = {
    environment = values.environment
    region      = values.edge_region
  }
}, local.extra.inputs)
