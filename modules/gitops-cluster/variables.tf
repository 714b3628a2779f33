variable "name" {
  type        = string
  description = "Cluster name."
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,37}$", var.name))
    error_message = "name must be 1 to 38 letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the cluster."
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the cluster's VPC; must not overlap any peered VPC."
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR block such as 10.1.0.0/16."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes version (major.minor); null: the newest in EKS standard support at create, then kept."
  default     = null
}

variable "nat_gateway_mode" {
  type        = string
  description = "single, one_per_az or none."
  default     = "one_per_az"
}

variable "api_allowed_cidrs" {
  type        = list(string)
  description = "CIDRs of peered VPCs allowed to reach the private Kubernetes API on 443."
  default     = []
}

variable "node_groups" {
  type = map(object({
    instance_types = optional(list(string), ["m6i.large"])
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = optional(number, 1)
    max_size       = optional(number, 3)
    desired_size   = optional(number, 2)
    labels         = optional(map(string))
  }))
  description = "Managed node groups by name."
  default     = { system = {} }
}

variable "addons" {
  type        = map(object({ version = optional(string) }))
  description = "EKS add-ons by name."
  default     = { vpc-cni = {}, coredns = {}, kube-proxy = {} }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every object of the cluster."
  default     = {}
}

variable "gitops_hub" {
  type = object({
    namespace        = optional(string, "argocd")
    service_accounts = optional(list(string))
  })
  description = "Makes this cluster a GitOps hub running Argo CD in namespace: Argo CD's management role and a Pod Identity association for each of service_accounts (null: the three Argo CD service accounts). Null: no GitOps hub."
  default     = null
}

variable "access_entries" {
  type = map(object({
    type              = optional(string)
    kubernetes_groups = optional(set(string))
    user_name         = optional(string)
    policies = optional(map(object({
      scope      = optional(string)
      namespaces = optional(set(string))
    })))
    tags = optional(map(string))
  }))
  description = "Cluster access by IAM principal ARN: Kubernetes groups and EKS access policies (null: none). With GitOps, the principal Terragrunt runs as needs one on the hub allowing Secrets in Argo CD's namespace, for the registration units."
  default     = null
}
