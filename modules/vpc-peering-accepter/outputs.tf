output "peering_id" {
  description = "Id of the VPC peering connection."
  value       = fleet_vpc_peering_accepter.this.id
}

output "status" {
  description = "Status of the peering (active once accepted)."
  value       = fleet_vpc_peering_accepter.this.status
}

output "peer_vpc_cidr" {
  description = "CIDR of the edge VPC."
  value       = fleet_vpc_peering_accepter.this.peer_cidr_block
}
