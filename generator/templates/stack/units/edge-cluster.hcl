# Unit edge-cluster of the stack layout: one region's EKS stack. Its private
# API admits the hub's VPC, which reaches it over the peering.
# environments/<env>/terragrunt.stack.hcl generates one per edge region.
{% include "stack/_unit.hcl" %}
{%- if gitops %}
# A self-managed Argo CD reaches this cluster through a deploy role its
# management role on the hub may assume, so the hub comes first. (This file
# serves every environment: edges of one without GitOps wait for their hub too.)
# Mocks serve the commands a never-applied dependency meets (never apply).
dependency "gitops_cluster" {
  config_path = values.gitops_cluster_path
  mock_outputs = {
    gitops_hub_role_arn = "arn:aws:iam::000000000000:role/mock-argocd-hub"
  }
  mock_outputs_allowed_terraform_commands = ["init", "validate", "plan", "destroy"]
  mock_outputs_merge_strategy_with_state  = "shallow"
}
{% endif %}
inputs = merge({
  name               = values.cluster_name
  region             = values.region
  vpc_cidr           = values.vpc_cidr
  kubernetes_version = values.kubernetes_version
  node_groups        = values.node_groups
  api_allowed_cidrs  = [values.hub_vpc_cidr]
  tags               = values.tags
{%- if gitops %}

  gitops_hub_role_arn        = values.gitops_mode == "self-managed" ? dependency.gitops_cluster.outputs.gitops_hub_role_arn : null
  gitops_capability_role_arn = values.gitops_capability_role_arn
{%- endif %}
}, local.extra.inputs)
