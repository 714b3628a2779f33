# Unit edge-cluster of the stack layout: one region's EKS stack. Its private
# API admits the hub's VPC, which reaches it over the peering.
# environments/<env>/terragrunt.stack.hcl generates one per edge region.
{% include "stack/_unit.hcl" %}
inputs = merge({
  name               = values.cluster_name
  region             = values.region
  vpc_cidr           = values.vpc_cidr
  kubernetes_version = values.kubernetes_version
  node_groups        = values.node_groups
  api_allowed_cidrs  = [values.hub_vpc_cidr]
  tags               = values.tags
}, local.extra.inputs)
