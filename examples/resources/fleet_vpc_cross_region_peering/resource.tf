# Peer every edge region's VPC with the hub VPC: one resource, plain for_each,
# no provider block per region.
variable "edges" {
  type = map(object({
    vpc_id          = string
    route_table_ids = list(string)
  }))
}

resource "fleet_vpc_cross_region_peering" "edge_to_hub" {
  for_each = var.edges

  requester = {
    region                          = each.key
    vpc_id                          = each.value.vpc_id
    route_table_ids                 = each.value.route_table_ids
    allow_remote_vpc_dns_resolution = true
  }

  accepter = {
    region                          = "us-east-1"
    vpc_id                          = "vpc-0a1b2c3d4e5f67890"
    route_table_ids                 = ["rtb-0a1b2c3d4e5f67890"]
    allow_remote_vpc_dns_resolution = true
  }

  tags = {
    Name = "${each.key}-to-hub"
  }
}
