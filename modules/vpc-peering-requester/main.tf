# The edge side of an edge-to-hub peering: the request and the edge's routes.
# The hub side (acceptance, hub routes, hub DNS option) is vpc-peering-accepter.
resource "fleet_vpc_cross_region_peering" "this" {
  auto_accept = var.auto_accept

  requester = {
    region                          = var.region
    vpc_id                          = var.vpc_id
    route_table_ids                 = var.route_table_ids
    allow_remote_vpc_dns_resolution = var.allow_remote_vpc_dns_resolution
  }
  accepter = {
    region     = var.peer_region
    vpc_id     = var.peer_vpc_id
    account_id = var.peer_account_id
    # An auto-accepted peering's hub-side options are this resource's too;
    # it must agree with vpc-peering-accepter, which also sets this one.
    allow_remote_vpc_dns_resolution = var.auto_accept ? var.peer_allow_remote_vpc_dns_resolution : false
  }
  tags = var.tags
}
