# By peering id, in the provider's region, or prefixed with the accepter's region:
terraform import fleet_vpc_peering_accepter.edge us-east-1/pcx-0a1b2c3d4e5f67890
