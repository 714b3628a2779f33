# The benchmark fleet with hashicorp/aws 3.39.0 (the peer), written to be
# equivalent to ../eksfleet/main.tf: a hub in us-east-1 plus N-1 edges, each
# edge peered with the hub. Terraform cannot loop over providers, so every
# region has its own aliased provider block and its own module blocks. For
# N < 20, bench/run.py runs a copy cut to the first N regions' blocks, as a
# hand-written N-region config would be (`count` on var.n still guards them).
# The per-region blocks are written by ../peer_regions.py.
# The zones are the first three moto offers in each region, as the fleet
# provider picks them.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "3.39.0" }
  }
}

variable "n" {
  type        = number
  description = "How many regions (1-20): the hub plus n-1 edges."
  default     = 10
}

variable "endpoint" {
  type        = string
  description = "The AWS API endpoint (moto)."
}

variable "name" {
  type    = string
  default = "bench"
}

variable "kubernetes_version" {
  type    = string
  default = "1.34"
}

locals {
  hub_cidr   = "10.0.0.0/16"
  edge_cidrs = [for i in range(1, var.n) : "10.${i}.0.0/16"]
  tags       = { ManagedBy = "bench", Fleet = var.name }
}

provider "aws" {
  alias                       = "r0"
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r1"
  region                      = "us-west-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r2"
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r3"
  region                      = "eu-central-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r4"
  region                      = "ap-southeast-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r5"
  region                      = "ap-northeast-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r6"
  region                      = "ap-south-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r7"
  region                      = "sa-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r8"
  region                      = "ca-central-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r9"
  region                      = "eu-north-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r10"
  region                      = "us-east-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r11"
  region                      = "eu-west-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r12"
  region                      = "eu-west-3"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r13"
  region                      = "ap-northeast-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r14"
  region                      = "ap-northeast-3"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r15"
  region                      = "ap-southeast-2"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r16"
  region                      = "eu-south-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r17"
  region                      = "me-south-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r18"
  region                      = "af-south-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias                       = "r19"
  region                      = "ap-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  endpoints {
    ec2 = var.endpoint
    eks = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
  default_tags {
    tags = local.tags
  }
}

module "r0" {
  source             = "./modules/region"
  providers          = { aws = aws.r0 }
  name               = var.name
  region             = "us-east-1"
  vpc_cidr           = local.hub_cidr
  zones              = ["us-east-1a", "us-east-1b", "us-east-1c"]
  api_allowed_cidrs  = local.edge_cidrs
  kubernetes_version = var.kubernetes_version
}

module "r1" {
  source             = "./modules/region"
  count              = var.n > 1 ? 1 : 0
  providers          = { aws = aws.r1 }
  name               = var.name
  region             = "us-west-2"
  vpc_cidr           = "10.1.0.0/16"
  zones              = ["us-west-2a", "us-west-2b", "us-west-2c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r1" {
  source     = "./modules/peering"
  count      = var.n > 1 ? 1 : 0
  providers  = { aws = aws.r1, aws.hub = aws.r0 }
  name       = "us-west-2-to-hub"
  hub_region = "us-east-1"
  edge       = module.r1[0]
  hub        = module.r0
}

module "r2" {
  source             = "./modules/region"
  count              = var.n > 2 ? 1 : 0
  providers          = { aws = aws.r2 }
  name               = var.name
  region             = "eu-west-1"
  vpc_cidr           = "10.2.0.0/16"
  zones              = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r2" {
  source     = "./modules/peering"
  count      = var.n > 2 ? 1 : 0
  providers  = { aws = aws.r2, aws.hub = aws.r0 }
  name       = "eu-west-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r2[0]
  hub        = module.r0
}

module "r3" {
  source             = "./modules/region"
  count              = var.n > 3 ? 1 : 0
  providers          = { aws = aws.r3 }
  name               = var.name
  region             = "eu-central-1"
  vpc_cidr           = "10.3.0.0/16"
  zones              = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r3" {
  source     = "./modules/peering"
  count      = var.n > 3 ? 1 : 0
  providers  = { aws = aws.r3, aws.hub = aws.r0 }
  name       = "eu-central-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r3[0]
  hub        = module.r0
}

module "r4" {
  source             = "./modules/region"
  count              = var.n > 4 ? 1 : 0
  providers          = { aws = aws.r4 }
  name               = var.name
  region             = "ap-southeast-1"
  vpc_cidr           = "10.4.0.0/16"
  zones              = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r4" {
  source     = "./modules/peering"
  count      = var.n > 4 ? 1 : 0
  providers  = { aws = aws.r4, aws.hub = aws.r0 }
  name       = "ap-southeast-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r4[0]
  hub        = module.r0
}

module "r5" {
  source             = "./modules/region"
  count              = var.n > 5 ? 1 : 0
  providers          = { aws = aws.r5 }
  name               = var.name
  region             = "ap-northeast-1"
  vpc_cidr           = "10.5.0.0/16"
  zones              = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r5" {
  source     = "./modules/peering"
  count      = var.n > 5 ? 1 : 0
  providers  = { aws = aws.r5, aws.hub = aws.r0 }
  name       = "ap-northeast-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r5[0]
  hub        = module.r0
}

module "r6" {
  source             = "./modules/region"
  count              = var.n > 6 ? 1 : 0
  providers          = { aws = aws.r6 }
  name               = var.name
  region             = "ap-south-1"
  vpc_cidr           = "10.6.0.0/16"
  zones              = ["ap-south-1a", "ap-south-1b", "ap-south-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r6" {
  source     = "./modules/peering"
  count      = var.n > 6 ? 1 : 0
  providers  = { aws = aws.r6, aws.hub = aws.r0 }
  name       = "ap-south-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r6[0]
  hub        = module.r0
}

module "r7" {
  source             = "./modules/region"
  count              = var.n > 7 ? 1 : 0
  providers          = { aws = aws.r7 }
  name               = var.name
  region             = "sa-east-1"
  vpc_cidr           = "10.7.0.0/16"
  zones              = ["sa-east-1a", "sa-east-1b", "sa-east-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r7" {
  source     = "./modules/peering"
  count      = var.n > 7 ? 1 : 0
  providers  = { aws = aws.r7, aws.hub = aws.r0 }
  name       = "sa-east-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r7[0]
  hub        = module.r0
}

module "r8" {
  source             = "./modules/region"
  count              = var.n > 8 ? 1 : 0
  providers          = { aws = aws.r8 }
  name               = var.name
  region             = "ca-central-1"
  vpc_cidr           = "10.8.0.0/16"
  zones              = ["ca-central-1a", "ca-central-1b", "ca-central-1d"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r8" {
  source     = "./modules/peering"
  count      = var.n > 8 ? 1 : 0
  providers  = { aws = aws.r8, aws.hub = aws.r0 }
  name       = "ca-central-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r8[0]
  hub        = module.r0
}

module "r9" {
  source             = "./modules/region"
  count              = var.n > 9 ? 1 : 0
  providers          = { aws = aws.r9 }
  name               = var.name
  region             = "eu-north-1"
  vpc_cidr           = "10.9.0.0/16"
  zones              = ["eu-north-1a", "eu-north-1b", "eu-north-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r9" {
  source     = "./modules/peering"
  count      = var.n > 9 ? 1 : 0
  providers  = { aws = aws.r9, aws.hub = aws.r0 }
  name       = "eu-north-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r9[0]
  hub        = module.r0
}

module "r10" {
  source             = "./modules/region"
  count              = var.n > 10 ? 1 : 0
  providers          = { aws = aws.r10 }
  name               = var.name
  region             = "us-east-2"
  vpc_cidr           = "10.10.0.0/16"
  zones              = ["us-east-2a", "us-east-2b", "us-east-2c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r10" {
  source     = "./modules/peering"
  count      = var.n > 10 ? 1 : 0
  providers  = { aws = aws.r10, aws.hub = aws.r0 }
  name       = "us-east-2-to-hub"
  hub_region = "us-east-1"
  edge       = module.r10[0]
  hub        = module.r0
}

module "r11" {
  source             = "./modules/region"
  count              = var.n > 11 ? 1 : 0
  providers          = { aws = aws.r11 }
  name               = var.name
  region             = "eu-west-2"
  vpc_cidr           = "10.11.0.0/16"
  zones              = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r11" {
  source     = "./modules/peering"
  count      = var.n > 11 ? 1 : 0
  providers  = { aws = aws.r11, aws.hub = aws.r0 }
  name       = "eu-west-2-to-hub"
  hub_region = "us-east-1"
  edge       = module.r11[0]
  hub        = module.r0
}

module "r12" {
  source             = "./modules/region"
  count              = var.n > 12 ? 1 : 0
  providers          = { aws = aws.r12 }
  name               = var.name
  region             = "eu-west-3"
  vpc_cidr           = "10.12.0.0/16"
  zones              = ["eu-west-3a", "eu-west-3b", "eu-west-3c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r12" {
  source     = "./modules/peering"
  count      = var.n > 12 ? 1 : 0
  providers  = { aws = aws.r12, aws.hub = aws.r0 }
  name       = "eu-west-3-to-hub"
  hub_region = "us-east-1"
  edge       = module.r12[0]
  hub        = module.r0
}

module "r13" {
  source             = "./modules/region"
  count              = var.n > 13 ? 1 : 0
  providers          = { aws = aws.r13 }
  name               = var.name
  region             = "ap-northeast-2"
  vpc_cidr           = "10.13.0.0/16"
  zones              = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r13" {
  source     = "./modules/peering"
  count      = var.n > 13 ? 1 : 0
  providers  = { aws = aws.r13, aws.hub = aws.r0 }
  name       = "ap-northeast-2-to-hub"
  hub_region = "us-east-1"
  edge       = module.r13[0]
  hub        = module.r0
}

module "r14" {
  source             = "./modules/region"
  count              = var.n > 14 ? 1 : 0
  providers          = { aws = aws.r14 }
  name               = var.name
  region             = "ap-northeast-3"
  vpc_cidr           = "10.14.0.0/16"
  zones              = ["ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r14" {
  source     = "./modules/peering"
  count      = var.n > 14 ? 1 : 0
  providers  = { aws = aws.r14, aws.hub = aws.r0 }
  name       = "ap-northeast-3-to-hub"
  hub_region = "us-east-1"
  edge       = module.r14[0]
  hub        = module.r0
}

module "r15" {
  source             = "./modules/region"
  count              = var.n > 15 ? 1 : 0
  providers          = { aws = aws.r15 }
  name               = var.name
  region             = "ap-southeast-2"
  vpc_cidr           = "10.15.0.0/16"
  zones              = ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r15" {
  source     = "./modules/peering"
  count      = var.n > 15 ? 1 : 0
  providers  = { aws = aws.r15, aws.hub = aws.r0 }
  name       = "ap-southeast-2-to-hub"
  hub_region = "us-east-1"
  edge       = module.r15[0]
  hub        = module.r0
}

module "r16" {
  source             = "./modules/region"
  count              = var.n > 16 ? 1 : 0
  providers          = { aws = aws.r16 }
  name               = var.name
  region             = "eu-south-1"
  vpc_cidr           = "10.16.0.0/16"
  zones              = ["eu-south-1a", "eu-south-1b", "eu-south-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r16" {
  source     = "./modules/peering"
  count      = var.n > 16 ? 1 : 0
  providers  = { aws = aws.r16, aws.hub = aws.r0 }
  name       = "eu-south-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r16[0]
  hub        = module.r0
}

module "r17" {
  source             = "./modules/region"
  count              = var.n > 17 ? 1 : 0
  providers          = { aws = aws.r17 }
  name               = var.name
  region             = "me-south-1"
  vpc_cidr           = "10.17.0.0/16"
  zones              = ["me-south-1a", "me-south-1b", "me-south-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r17" {
  source     = "./modules/peering"
  count      = var.n > 17 ? 1 : 0
  providers  = { aws = aws.r17, aws.hub = aws.r0 }
  name       = "me-south-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r17[0]
  hub        = module.r0
}

module "r18" {
  source             = "./modules/region"
  count              = var.n > 18 ? 1 : 0
  providers          = { aws = aws.r18 }
  name               = var.name
  region             = "af-south-1"
  vpc_cidr           = "10.18.0.0/16"
  zones              = ["af-south-1a", "af-south-1b", "af-south-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r18" {
  source     = "./modules/peering"
  count      = var.n > 18 ? 1 : 0
  providers  = { aws = aws.r18, aws.hub = aws.r0 }
  name       = "af-south-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r18[0]
  hub        = module.r0
}

module "r19" {
  source             = "./modules/region"
  count              = var.n > 19 ? 1 : 0
  providers          = { aws = aws.r19 }
  name               = var.name
  region             = "ap-east-1"
  vpc_cidr           = "10.19.0.0/16"
  zones              = ["ap-east-1a", "ap-east-1b", "ap-east-1c"]
  api_allowed_cidrs  = [local.hub_cidr]
  kubernetes_version = var.kubernetes_version
}

module "peering_r19" {
  source     = "./modules/peering"
  count      = var.n > 19 ? 1 : 0
  providers  = { aws = aws.r19, aws.hub = aws.r0 }
  name       = "ap-east-1-to-hub"
  hub_region = "us-east-1"
  edge       = module.r19[0]
  hub        = module.r0
}
