# An edge cluster: one region's EKS stack, reachable from the hub over the peering.
resource "fleet_eks_regional_cluster" "this" {
  name               = var.name
  region             = var.region
  vpc_cidr           = var.vpc_cidr
  kubernetes_version = var.kubernetes_version
  nat_gateway_mode   = var.nat_gateway_mode
  api_allowed_cidrs  = var.api_allowed_cidrs
  node_groups        = var.node_groups
  addons             = var.addons
  access_entries     = var.access_entries
  tags               = var.tags

  gitops_hub_role_arn        = var.gitops_hub_role_arn
  gitops_capability_role_arn = var.gitops_capability_role_arn
  gitops_access_policy       = var.gitops_access_policy
}
