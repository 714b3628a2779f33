# One edge VPC peered with the hub, as one fleet_vpc_cross_region_peering does
# it: request from the edge's region, accept in the hub's, remote DNS
# resolution on both sides, and a route to the other side's CIDR in every
# private route table of both sides. Two providers, because a cross-region
# peering has two regions.

terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.hub]
    }
  }
}

variable "name" { type = string }
variable "hub_region" { type = string }
variable "edge" {
  type = object({ vpc_id = string, vpc_cidr = string, private_route_table_ids = list(string) })
}
variable "hub" {
  type = object({ vpc_id = string, vpc_cidr = string, private_route_table_ids = list(string) })
}

resource "aws_vpc_peering_connection" "this" {
  vpc_id      = var.edge.vpc_id
  peer_vpc_id = var.hub.vpc_id
  peer_region = var.hub_region
  auto_accept = false
  tags        = { Name = var.name }
}

resource "aws_vpc_peering_connection_accepter" "this" {
  provider                  = aws.hub
  vpc_peering_connection_id = aws_vpc_peering_connection.this.id
  auto_accept               = true
  tags                      = { Name = var.name }
}

resource "aws_vpc_peering_connection_options" "requester" {
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id
  requester {
    allow_remote_vpc_dns_resolution = true
  }
}

resource "aws_vpc_peering_connection_options" "accepter" {
  provider                  = aws.hub
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id
  accepter {
    allow_remote_vpc_dns_resolution = true
  }
}

resource "aws_route" "edge_to_hub" {
  count                     = length(var.edge.private_route_table_ids)
  route_table_id            = var.edge.private_route_table_ids[count.index]
  destination_cidr_block    = var.hub.vpc_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id
}

resource "aws_route" "hub_to_edge" {
  provider                  = aws.hub
  count                     = length(var.hub.private_route_table_ids)
  route_table_id            = var.hub.private_route_table_ids[count.index]
  destination_cidr_block    = var.edge.vpc_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.this.id
}
