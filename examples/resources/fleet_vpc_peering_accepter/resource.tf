# In the hub account's configuration: accept a peering requested by an edge
# (fleet_vpc_cross_region_peering with auto_accept = false) in another state.
resource "fleet_vpc_peering_accepter" "edge" {
  peering_id                      = "pcx-0a1b2c3d4e5f67890"
  region                          = "us-east-1"
  route_table_ids                 = ["rtb-0a1b2c3d4e5f67890"]
  allow_remote_vpc_dns_resolution = true

  # When the hub VPC is in another account than the provider's credentials:
  # assume_role_arn = "arn:aws:iam::111111111111:role/peering-accepter"
}
