output "hub" {
  description = "The hub cluster's endpoint and kubeconfig command."
  value = {
    endpoint                  = fleet_eks_regional_cluster.hub.endpoint
    update_kubeconfig_command = fleet_eks_regional_cluster.hub.update_kubeconfig_command
  }
}

output "edges" {
  description = "Each edge cluster's endpoint, VPC and peering with the hub."
  value = {
    for region, edge in fleet_eks_regional_cluster.edge : region => {
      endpoint                  = edge.endpoint
      vpc_id                    = edge.vpc_id
      peering_id                = fleet_vpc_cross_region_peering.edge_to_hub[region].id
      peering_status            = fleet_vpc_cross_region_peering.edge_to_hub[region].status
      update_kubeconfig_command = edge.update_kubeconfig_command
      argocd_secret             = fleet_argocd_cluster.edge[region].id
    }
  }
}
