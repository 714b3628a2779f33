# An edge cluster registered with the hub's Argo CD: a cluster Secret in
# Argo CD's namespace on the hub, naming the edge's API and how to reach it.
resource "fleet_argocd_cluster" "this" {
  hub = {
    region       = var.hub_region
    cluster_name = var.hub_cluster_name
    namespace    = var.namespace
  }
  cluster_arn = var.cluster_arn
  role_arn    = var.role_arn
  mode        = var.mode
  name        = var.name
  secret_name = var.secret_name
  labels      = var.labels
  annotations = var.annotations
  project     = var.project

  lifecycle {
    # Checked here too (Terraform 1.5 validations see one variable only), so
    # the error names the module's inputs rather than the resource's.
    precondition {
      condition     = (var.mode == "self-managed") == (var.role_arn != null)
      error_message = "role_arn is required with mode = \"self-managed\" (the edge's gitops_role_arn) and must be null with mode = \"capability\"."
    }
  }
}
