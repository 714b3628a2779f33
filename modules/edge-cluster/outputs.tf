output "region" {
  description = "Region of the cluster."
  value       = fleet_eks_regional_cluster.this.region
}

output "vpc_id" {
  description = "Id of the cluster's VPC."
  value       = fleet_eks_regional_cluster.this.vpc_id
}

output "vpc_cidr" {
  description = "CIDR of the cluster's VPC."
  value       = fleet_eks_regional_cluster.this.vpc_cidr
}

output "private_route_table_ids" {
  description = "Private route tables (for peering routes)."
  value       = fleet_eks_regional_cluster.this.private_route_table_ids
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = fleet_eks_regional_cluster.this.name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API."
  value       = fleet_eks_regional_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the cluster."
  value       = fleet_eks_regional_cluster.this.certificate_authority_data
}

output "cluster_arn" {
  description = "ARN of the EKS cluster (fleet_argocd_cluster's cluster_arn)."
  value       = fleet_eks_regional_cluster.this.arn
}

output "gitops_role_arn" {
  description = "The GitOps deploy role (with gitops_hub_role_arn), fleet_argocd_cluster's role_arn; null otherwise."
  value       = fleet_eks_regional_cluster.this.gitops_role_arn
}
