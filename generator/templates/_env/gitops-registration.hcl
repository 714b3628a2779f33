# An edge cluster registered with the hub's Argo CD: a cluster Secret in
# Argo CD's namespace on the hub (module argocd-registration). One unit per
# edge, in the hub's folder so that its provider has the hub's region and
# role; edge.hcl next to each unit says which edge.
{% include "_env/source.hcl" %}
# Mocks serve the commands a never-applied dependency meets (never apply).
# A dependency whose first apply failed part-way has some outputs but not
# all: "shallow" fills in the missing ones, so `run --all destroy` reaches it.
# The hub comes first; its mocked name is its real one, so plans show it.
dependency "gitops_cluster" {
  config_path = "../gitops-cluster"
  mock_outputs = {
    cluster_name = local.region.locals.cluster_name
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

dependency "edge_cluster" {
  config_path = "../../regions/${local.edge.locals.region}/edge-cluster"
  mock_outputs = {
    cluster_arn     = "arn:aws:eks:${local.edge.locals.region}:000000000000:cluster/${local.edge.locals.cluster_name}"
    gitops_role_arn = "arn:aws:iam::000000000000:role/mock-gitops"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}

inputs = {
  hub_region       = local.env.locals.hub_region
  hub_cluster_name = dependency.gitops_cluster.outputs.cluster_name
  namespace        = local.env.locals.gitops_namespace
  mode             = local.env.locals.gitops_mode
  cluster_arn      = dependency.edge_cluster.outputs.cluster_arn
  # The edge's deploy role, for a self-managed Argo CD to assume; the managed
  # one uses its own role (the edge gave it an access entry).
  role_arn = local.env.locals.gitops_mode == "self-managed" ? dependency.edge_cluster.outputs.gitops_role_arn : null
  # What ApplicationSets' cluster generators select edges by.
  labels = {
    environment = local.env.locals.environment
    region      = local.edge.locals.region
  }
}
