# The hub side of an edge-to-hub peering: acceptance, hub routes, DNS option.
resource "fleet_vpc_peering_accepter" "this" {
  peering_id                      = var.peering_id
  region                          = var.region
  route_table_ids                 = var.route_table_ids
  allow_remote_vpc_dns_resolution = var.allow_remote_vpc_dns_resolution
  assume_role_arn                 = var.assume_role_arn
}
