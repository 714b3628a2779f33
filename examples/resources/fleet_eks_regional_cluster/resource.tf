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

# Or in an existing VPC: nothing of the network is created, the subnets only
# get the cluster's Kubernetes tags (taken off again on destroy).
resource "fleet_eks_regional_cluster" "shared" {
  name               = "shared"
  vpc_id             = "vpc-0a1b2c3d4e5f67890"
  private_subnet_ids = ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
  public_subnet_ids  = ["subnet-0123456789abcdef0"]

  node_groups = {
    system = { min_size = 2, max_size = 4, desired_size = 2 }
  }

  # Karpenter's IAM roles, interruption queue, rules and discovery tags;
  # its Helm chart takes karpenter.queue_name and karpenter.node_role_name.
  karpenter = { enabled = true }
}
