variable "region" {
  type        = string
  description = "Region of the requesting (edge) VPC."
}

variable "vpc_id" {
  type        = string
  description = "Id of the requesting (edge) VPC."
}

variable "route_table_ids" {
  type        = list(string)
  description = "Edge route tables that get a route to the hub VPC."
}

variable "allow_remote_vpc_dns_resolution" {
  type        = bool
  description = "Whether the edge resolves the hub's public DNS names to private addresses. Applied once the peering is active: with auto_accept = false, by the first apply after acceptance."
  default     = false
}

variable "peer_region" {
  type        = string
  description = "Region of the hub VPC."
}

variable "peer_vpc_id" {
  type        = string
  description = "Id of the hub VPC."
}

variable "peer_account_id" {
  type        = string
  description = "Account of the hub VPC, when it differs from the edge's."
  default     = null
}

variable "auto_accept" {
  type        = bool
  description = "Accept in the same apply (hub and edge share an account). Hub-side routes are the vpc-peering-accepter module's either way."
  default     = false
}

variable "peer_allow_remote_vpc_dns_resolution" {
  type        = bool
  description = "With auto_accept, the hub-side DNS option this resource sets on acceptance. Keep it equal to the vpc-peering-accepter module's allow_remote_vpc_dns_resolution (default true there too), which sets the same option; ignored without auto_accept."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags of the peering connection."
  default     = {}
}
