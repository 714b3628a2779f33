# Environment {{ env | hcl_escape }}: read by every unit below this folder.
locals {
  environment  = {{ env | hcl }}
  hub_region   = {{ hub.region | hcl }}
  hub_vpc_cidr = {{ hub.cidr | hcl }}
}
