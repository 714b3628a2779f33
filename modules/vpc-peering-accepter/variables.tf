variable "peering_id" {
  type        = string
  description = "Id of the peering requested by the edge (vpc-peering-requester's peering_id)."
}

variable "region" {
  type        = string
  description = "Region of the hub VPC."
}

variable "route_table_ids" {
  type        = list(string)
  description = "Hub route tables that get a route to the edge VPC."
}

variable "allow_remote_vpc_dns_resolution" {
  type        = bool
  description = "Whether the hub resolves the edge's public DNS names to private addresses."
  default     = true
}

variable "assume_role_arn" {
  type        = string
  description = "Role in the hub account, when it differs from the credentials' account."
  default     = null
}
