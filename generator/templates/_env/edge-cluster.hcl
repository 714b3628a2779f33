# An edge cluster: one region's EKS stack. Its private API admits the hub's
# VPC, which reaches it over the peering.
{% include "_env/source.hcl" %}
{%- if gitops %}
# A self-managed Argo CD reaches this cluster through a deploy role its
# management role on the hub may assume, so the hub comes first. (This file
# serves every environment: edges of one without GitOps wait for their hub too.)
# Mocks serve the commands a never-applied dependency meets (never apply).
dependency "gitops_cluster" {
  config_path = "../../../shared/gitops-cluster"
  mock_outputs = {
    gitops_hub_role_arn = "arn:aws:iam::000000000000:role/mock-argocd-hub"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}
{% endif %}
inputs = {
  name               = local.region.locals.cluster_name
  region             = local.region.locals.region
  vpc_cidr           = local.region.locals.vpc_cidr
  kubernetes_version = local.region.locals.kubernetes_version
  node_groups        = local.region.locals.node_groups
  api_allowed_cidrs  = [local.env.locals.hub_vpc_cidr]
  tags               = local.region.locals.tags
{%- if gitops %}

  gitops_hub_role_arn        = local.env.locals.gitops_mode == "self-managed" ? dependency.gitops_cluster.outputs.gitops_hub_role_arn : null
  gitops_capability_role_arn = local.env.locals.gitops_capability_role_arn
{%- endif %}
}
