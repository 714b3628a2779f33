# One region's EKS stack with hashicorp/aws 3.39 raw resources, built to match
# what one fleet_eks_regional_cluster (nat_gateway_mode = "single", no add-ons)
# creates: VPC with DNS, 3 private /19 + 3 public /22 subnets (the same CIDR
# layout as provider/src/resources/eks_regional_cluster/network.rs), IGW and a
# public route table, one EIP + NAT gateway, one private route table per zone,
# the API security group, the cluster and node roles with the same managed
# policies, the cluster and one managed node group.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "name" { type = string }
variable "region" { type = string }
variable "vpc_cidr" { type = string }
variable "zones" { type = list(string) }
variable "api_allowed_cidrs" { type = list(string) }
variable "kubernetes_version" { type = string }

locals {
  public_slot  = cidrsubnet(var.vpc_cidr, 3, 7)
  cluster_tag  = "kubernetes.io/cluster/${var.name}"
  node_polices = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "private" {
  count             = length(var.zones)
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 3, count.index)
  availability_zone = var.zones[count.index]
  tags = {
    Name                              = "${var.name}-private-${var.zones[count.index]}"
    (local.cluster_tag)               = "shared"
    "kubernetes.io/role/internal-elb" = "1"
  }
}

resource "aws_subnet" "public" {
  count             = length(var.zones)
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(local.public_slot, 3, count.index)
  availability_zone = var.zones[count.index]
  tags = {
    Name                     = "${var.name}-public-${var.zones[count.index]}"
    (local.cluster_tag)      = "shared"
    "kubernetes.io/role/elb" = "1"
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "public_default" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count          = length(var.zones)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  vpc  = true
  tags = { Name = "${var.name}-nat-${var.zones[0]}" }
}

resource "aws_nat_gateway" "this" {
  subnet_id     = aws_subnet.public[0].id
  allocation_id = aws_eip.nat.id
  tags          = { Name = "${var.name}-nat-${var.zones[0]}" }
  depends_on    = [aws_internet_gateway.this]
}

# Private routes are separate aws_route resources (not inline blocks) so the
# peering module can add its own routes to these tables without a fight.
resource "aws_route_table" "private" {
  count  = length(var.zones)
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private-${var.zones[count.index]}" }
}

resource "aws_route" "private_default" {
  count                  = length(var.zones)
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this.id
}

resource "aws_route_table_association" "private" {
  count          = length(var.zones)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_security_group" "api" {
  name        = "${var.name}-api"
  description = "Kubernetes API access for peered networks"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = var.name }

  # No rule at all when nothing is allowed (as the fleet provider does): EC2
  # drops a rule without CIDRs, which would plan a change on every run.
  dynamic "ingress" {
    for_each = length(var.api_allowed_cidrs) > 0 ? [1] : []
    content {
      protocol    = "tcp"
      from_port   = 443
      to_port     = 443
      cidr_blocks = var.api_allowed_cidrs
    }
  }
}

resource "aws_iam_role" "cluster" {
  name = "${var.name}-${var.region}-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_iam_role" "node" {
  name = "${var.name}-${var.region}-node"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "node" {
  count      = length(local.node_polices)
  role       = aws_iam_role.node.name
  policy_arn = "arn:aws:iam::aws:policy/${local.node_polices[count.index]}"
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  role_arn = aws_iam_role.cluster.arn
  version  = var.kubernetes_version

  vpc_config {
    subnet_ids              = aws_subnet.private[*].id
    security_group_ids      = [aws_security_group.api.id]
    endpoint_private_access = true
    endpoint_public_access  = false
  }

  depends_on = [aws_iam_role_policy_attachment.cluster, aws_route_table_association.private]
}

resource "aws_eks_node_group" "workers" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "workers"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = aws_subnet.private[*].id
  instance_types  = ["m6i.large"]
  capacity_type   = "ON_DEMAND"
  disk_size       = 20

  scaling_config {
    min_size     = 1
    max_size     = 3
    desired_size = 2
  }

  depends_on = [aws_iam_role_policy_attachment.node]

  # moto reports a default remote_access.ec2_ssh_key on every node group; the
  # fleet provider compares only what its configuration set, so match that.
  lifecycle {
    ignore_changes = [remote_access]
  }
}

output "vpc_id" { value = aws_vpc.this.id }
output "vpc_cidr" { value = var.vpc_cidr }
output "private_route_table_ids" { value = aws_route_table.private[*].id }
