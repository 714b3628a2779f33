# The managed node group of bench/peer/modules/region.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "3.39.0" }
  }
}

variable "cluster_name" { type = string }
variable "node_role_arn" { type = string }
variable "subnet_ids" { type = list(string) }

resource "aws_eks_node_group" "workers" {
  cluster_name    = var.cluster_name
  node_group_name = "workers"
  node_role_arn   = var.node_role_arn
  subnet_ids      = var.subnet_ids
  instance_types  = ["m6i.large"]
  capacity_type   = "ON_DEMAND"
  disk_size       = 20

  scaling_config {
    min_size     = 1
    max_size     = 3
    desired_size = 2
  }

  # moto reports a default remote_access.ec2_ssh_key on every node group; the
  # fleet provider compares only what its configuration set, so match that.
  lifecycle {
    ignore_changes = [remote_access]
  }
}
