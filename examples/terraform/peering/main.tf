# Two VPCs in two regions, peered with one resource and one provider block.
# `make demo-peering` runs this against a local moto; against real AWS, pass your own VPC ids.

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
  region = var.hub_region
  default_tags = {
    ManagedBy = "eksfleet"
  }
}

variable "hub_region" {
  type        = string
  description = "Region of the hub VPC (the accepter)."
  default     = "us-east-1"
}

variable "hub_vpc_id" {
  type        = string
  description = "Id of the hub VPC."
}

variable "hub_route_table_ids" {
  type        = list(string)
  description = "Hub route tables that get a route to the edge VPC."
}

variable "edge_region" {
  type        = string
  description = "Region of the edge VPC (the requester)."
  default     = "us-west-2"
}

variable "edge_vpc_id" {
  type        = string
  description = "Id of the edge VPC."
}

variable "edge_route_table_ids" {
  type        = list(string)
  description = "Edge route tables that get a route to the hub VPC."
}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {
  requester = {
    region                          = var.edge_region
    vpc_id                          = var.edge_vpc_id
    route_table_ids                 = var.edge_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  accepter = {
    region                          = var.hub_region
    vpc_id                          = var.hub_vpc_id
    route_table_ids                 = var.hub_route_table_ids
    allow_remote_vpc_dns_resolution = true
  }
  tags = {
    Name = "edge-to-hub"
  }
}

output "peering_id" {
  description = "Id of the VPC peering connection."
  value       = fleet_vpc_cross_region_peering.edge_to_hub.id
}

output "status" {
  description = "Status of the peering (active once accepted)."
  value       = fleet_vpc_cross_region_peering.edge_to_hub.status
}

output "routes" {
  description = "CIDR blocks routed through the peering on each side."
  value = {
    (var.edge_region) = fleet_vpc_cross_region_peering.edge_to_hub.accepter_cidr_block
    (var.hub_region)  = fleet_vpc_cross_region_peering.edge_to_hub.requester_cidr_block
  }
}
