# By peering id, looked up in the provider's region (either side's region works):
terraform import fleet_vpc_cross_region_peering.edge_to_hub pcx-0a1b2c3d4e5f67890

# Or name the region to look in:
terraform import 'fleet_vpc_cross_region_peering.edge_to_hub["us-west-2"]' us-west-2/pcx-0a1b2c3d4e5f67890
