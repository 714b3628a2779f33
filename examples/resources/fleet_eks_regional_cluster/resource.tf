# One EKS stack per region, one provider block, plain for_each.
locals {
  edges = {
    "us-west-2" = "10.1.0.0/16"
    "eu-west-1" = "10.2.0.0/16"
  }
}

resource "fleet_eks_regional_cluster" "edge" {
  for_each = local.edges

  name             = "edge"
  region           = each.key
  vpc_cidr         = each.value
  nat_gateway_mode = "one_per_az"
  # kubernetes_version unset: the newest in EKS standard support at create, then kept.
  support_type = "STANDARD"

  # Let the hub VPC reach the private API endpoint over the peering.
  api_allowed_cidrs = ["10.0.0.0/16"]

  node_groups = {
    system = {
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 6
      desired_size   = 3
      labels         = { role = "system" }
    }
    batch = {
      capacity_type  = "SPOT"
      instance_types = ["m6i.xlarge", "m5.xlarge"]
      min_size       = 0
      max_size       = 10
      desired_size   = 0
      taints         = [{ key = "workload", value = "batch", effect = "NO_SCHEDULE" }]
    }
  }

  tags = {
    Environment = "production"
  }
}
