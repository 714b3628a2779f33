# An edge cluster: one region's EKS stack. Its private API admits the hub's
# VPC, which reaches it over the peering.
{% include "_env/source.hcl" %}
inputs = {
  name               = local.region.locals.cluster_name
  region             = local.region.locals.region
  vpc_cidr           = local.region.locals.vpc_cidr
  kubernetes_version = local.region.locals.kubernetes_version
  node_groups        = local.region.locals.node_groups
  api_allowed_cidrs  = [local.env.locals.hub_vpc_cidr]
  tags               = local.region.locals.tags
}
