output "peering_id" {
  description = "Id of the VPC peering connection."
  value       = fleet_vpc_cross_region_peering.this.id
}

output "status" {
  description = "Status of the peering as of the last refresh."
  value       = fleet_vpc_cross_region_peering.this.status
}

output "vpc_cidr" {
  description = "CIDR of the requesting (edge) VPC."
  value       = fleet_vpc_cross_region_peering.this.requester_cidr_block
}
