# Each edge registers itself with the hub's Argo CD. The provider's principal
# needs an access entry on the hub allowing Secrets in the argocd namespace.
resource "fleet_argocd_cluster" "edge" {
  for_each = fleet_eks_regional_cluster.edge

  hub         = { region = "us-east-1", cluster_name = "hub", namespace = "argocd" }
  cluster_arn = each.value.arn
  role_arn    = each.value.gitops_role_arn # omit with mode = "capability"
  mode        = "self-managed"             # or "capability": server is the cluster ARN
  labels      = { environment = "prod", region = each.key }
  project     = "default"
}
