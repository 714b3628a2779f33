# The hub (GitOps) cluster: the EKS stack that runs Argo CD and reaches every edge over peerings.
resource "fleet_eks_regional_cluster" "this" {
  name               = var.name
  region             = var.region
  vpc_cidr           = var.vpc_cidr
  kubernetes_version = var.kubernetes_version
  nat_gateway_mode   = var.nat_gateway_mode
  api_allowed_cidrs  = var.api_allowed_cidrs
  node_groups        = var.node_groups
  addons             = var.addons
  gitops_hub         = var.gitops_hub
  access_entries     = var.access_entries
  tags               = var.tags
}
