# The benchmark fleet with eksfleet: a hub in us-east-1 plus N-1 edges, each
# edge peered with the hub, from one provider block and for_each. Equivalent
# to ../peer/main.tf (hashicorp/aws 3.39 raw resources).

terraform {
  required_providers {
    fleet = { source = "eksfleet/fleet" }
  }
}

variable "n" {
  type        = number
  description = "How many regions (1-20): the hub plus n-1 edges."
  default     = 10
}

variable "name" {
  type    = string
  default = "bench"
}

variable "kubernetes_version" {
  type    = string
  default = "1.34"
}

locals {
  hub = "us-east-1"
  all_regions = [
    "us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1",
    "ap-northeast-1", "ap-south-1", "sa-east-1", "ca-central-1", "eu-north-1",
    "us-east-2", "eu-west-2", "eu-west-3", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-2", "eu-south-1", "me-south-1", "af-south-1", "ap-east-1",
  ]
  # The hub is 10.0.0.0/16, edge i is 10.i.0.0/16 (as in the peer config).
  regions    = { for i, r in slice(local.all_regions, 0, var.n) : r => "10.${i}.0.0/16" }
  edges      = { for r, cidr in local.regions : r => cidr if r != local.hub }
  edge_cidrs = [for r in slice(local.all_regions, 1, var.n) : local.regions[r]]
}

provider "fleet" {
  region       = local.hub
  default_tags = { ManagedBy = "bench", Fleet = var.name }
}

resource "fleet_eks_regional_cluster" "this" {
  for_each = local.regions

  name               = var.name
  region             = each.key
  vpc_cidr           = each.value
  kubernetes_version = var.kubernetes_version
  nat_gateway_mode   = "single"
  api_allowed_cidrs  = each.key == local.hub ? local.edge_cidrs : [local.regions[local.hub]]

  node_groups = {
    workers = {
      instance_types = ["m6i.large"]
      min_size       = 1
      max_size       = 3
      desired_size   = 2
    }
  }
}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {
  for_each = local.edges

  requester = {
    region                          = each.key
    vpc_id                          = fleet_eks_regional_cluster.this[each.key].vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.this[each.key].private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  accepter = {
    region                          = local.hub
    vpc_id                          = fleet_eks_regional_cluster.this[local.hub].vpc_id
    route_table_ids                 = fleet_eks_regional_cluster.this[local.hub].private_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  tags = { Name = "${each.key}-to-hub" }
}
