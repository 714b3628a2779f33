variable "fleet_name" {
  type        = string
  description = "Prefix of every cluster name."
  default     = "demo"
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes version of every cluster; null: the newest in EKS standard support at create, then kept."
  default     = null
}

variable "hub" {
  type = object({
    region   = string
    vpc_cidr = string
  })
  description = "The hub (GitOps) cluster's region and VPC CIDR."
  default = {
    region   = "us-east-1"
    vpc_cidr = "10.0.0.0/16"
  }
}

variable "edges" {
  type = map(object({
    vpc_cidr  = string
    max_nodes = number
  }))
  description = "Edge clusters by region. VPC CIDRs must not overlap each other or the hub's."
  default = {
    "us-west-2" = { vpc_cidr = "10.1.0.0/16", max_nodes = 4 }
    "eu-west-1" = { vpc_cidr = "10.2.0.0/16", max_nodes = 4 }
  }
}

variable "terraform_principal_arn" {
  type        = string
  description = "IAM role or user Terraform runs as. It gets an access entry (cluster admin) on every cluster, which fleet_argocd_cluster needs on the hub to write the edges' Argo CD Secrets."
}
