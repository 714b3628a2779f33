# A hub-and-spoke EKS fleet: a GitOps hub cluster plus one edge cluster per
# region, each edge VPC peered with the hub and registered with the hub's
# Argo CD. One provider block, for_each over regions, CIDRs given once per
# region, all in one apply.

terraform {
  required_version = ">= 1.5"
  required_providers {
    fleet = {
      source  = "eksfleet/fleet"
      version = "~> 0.1"
    }
  }
}

provider "fleet" {
  region = var.hub.region
  default_tags = {
    ManagedBy = "eksfleet"
    Fleet     = var.fleet_name
  }
}

locals {
  # Every edge may reach the hub's API and the hub every edge's.
  edge_cidrs = [for edge in values(var.edges) : edge.vpc_cidr]
}

resource "fleet_eks_regional_cluster" "hub" {
  name               = "${var.fleet_name}-hub"
  region             = var.hub.region
  vpc_cidr           = var.hub.vpc_cidr
  kubernetes_version = var.kubernetes_version
  api_allowed_cidrs  = local.edge_cidrs

  # Argo CD runs here (namespace argocd): its management role and pod identities.
  gitops_hub = {}
  # Whoever runs Terraform writes the edges' cluster Secrets into the hub.
  access_entries = {
    (var.terraform_principal_arn) = {
      policies = { "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" = {} }
    }
  }

  node_groups = {
    system = { min_size = 2, max_size = 4, desired_size = 2 }
  }
  addons = {
    vpc-cni    = {}
    coredns    = {}
    kube-proxy = {}
  }
}

resource "fleet_eks_regional_cluster" "edge" {
  for_each = var.edges

  name               = "${var.fleet_name}-edge"
  region             = each.key
  vpc_cidr           = each.value.vpc_cidr
  kubernetes_version = var.kubernetes_version
  nat_gateway_mode   = "single"
  api_allowed_cidrs  = [var.hub.vpc_cidr]

  # The deploy role the hub's Argo CD assumes, with an access entry here.
  gitops_hub_role_arn = fleet_eks_regional_cluster.hub.gitops_hub_role_arn
  access_entries = {
    (var.terraform_principal_arn) = {
      policies = { "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" = {} }
    }
  }

  node_groups = {
    workloads = {
      instance_types = ["m6i.large"]
      min_size       = 1
      max_size       = each.value.max_nodes
      desired_size   = 1
    }
  }
  addons = {
    vpc-cni = {}
    coredns = {}
  }
}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {
  for_each = var.edges

  requester = {
    region                          = each.key
    vpc_id                          = fleet_eks_regional_cluster.edge[each.key].vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.edge[each.key].private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  accepter = {
    region                          = var.hub.region
    vpc_id                          = fleet_eks_regional_cluster.hub.vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.hub.private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  tags = {
    Name = "${each.key}-to-hub"
  }
}

# Each edge's Argo CD cluster Secret in the hub, labelled for ApplicationSet
# cluster generators (README: "ApplicationSet cluster generator").
resource "fleet_argocd_cluster" "edge" {
  for_each = fleet_eks_regional_cluster.edge

  hub         = { region = var.hub.region, cluster_name = fleet_eks_regional_cluster.hub.name, namespace = "argocd" }
  cluster_arn = each.value.arn
  role_arn    = each.value.gitops_role_arn
  labels      = { fleet = var.fleet_name, region = each.key }
  project     = "default"
}
