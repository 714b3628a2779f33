# The network part of bench/peer/modules/region: VPC with DNS, 3 private /19 +
# 3 public /22 subnets, IGW and a public route table, one EIP + NAT gateway,
# one private route table per zone, the API security group.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "3.39.0" }
  }
}

variable "name" { type = string }
variable "vpc_cidr" { type = string }
variable "zones" { type = list(string) }
variable "api_allowed_cidrs" { type = list(string) }

locals {
  public_slot = cidrsubnet(var.vpc_cidr, 3, 7)
  cluster_tag = "kubernetes.io/cluster/${var.name}"
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

# Separate aws_route resources, so the vpc-peering units add their own routes
# to these tables without a fight.
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

  # No rule when nothing is allowed: EC2 drops a rule without CIDRs.
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

output "vpc_id" { value = aws_vpc.this.id }
output "vpc_cidr" { value = var.vpc_cidr }
output "private_subnet_ids" { value = aws_subnet.private[*].id }
output "private_route_table_ids" { value = aws_route_table.private[*].id }
output "api_security_group_id" { value = aws_security_group.api.id }
