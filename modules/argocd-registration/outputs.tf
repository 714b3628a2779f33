output "id" {
  description = "HUB_REGION/HUB_NAME/NAMESPACE/SECRET_NAME, also the import id."
  value       = fleet_argocd_cluster.this.id
}

output "secret_name" {
  description = "Name of the cluster Secret in Argo CD's namespace."
  value       = fleet_argocd_cluster.this.secret_name
}

output "server" {
  description = "The edge's Kubernetes API URL, as Argo CD names the cluster's server."
  value       = fleet_argocd_cluster.this.server
}

output "name" {
  description = "The cluster's name in Argo CD."
  value       = fleet_argocd_cluster.this.name
}
