//! An exec-based kubeconfig: credentials come from `aws eks get-token` at use
//! time, so the file (and Terraform state) holds no secret.

pub fn kubeconfig(name: &str, region: &str, arn: &str, endpoint: &str, ca_data: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {arn}
  cluster:
    server: {endpoint}
    certificate-authority-data: {ca_data}
contexts:
- name: {arn}
  context:
    cluster: {arn}
    user: {arn}
current-context: {arn}
users:
- name: {arn}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [\"--region\", \"{region}\", \"eks\", \"get-token\", \"--cluster-name\", \"{name}\", \"--output\", \"json\"]
"
    )
}

pub fn update_kubeconfig_command(name: &str, region: &str) -> String {
    format!("aws eks update-kubeconfig --region {region} --name {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_uses_exec_and_holds_no_token() {
        let text = kubeconfig(
            "hub",
            "us-east-1",
            "arn:aws:eks:us-east-1:1:cluster/hub",
            "https://x.eks",
            "Q0E=",
        );
        assert!(text.contains("command: aws"));
        assert!(text.contains("\"get-token\", \"--cluster-name\", \"hub\""));
        assert!(text.contains("server: https://x.eks"));
        assert!(!text.contains("token:"), "no static token");
        assert_eq!(
            update_kubeconfig_command("hub", "eu-west-1"),
            "aws eks update-kubeconfig --region eu-west-1 --name hub"
        );
    }
}
