//! AWS SDK clients on a test's moto (EC2, EKS, IAM, STS, CloudWatch Logs, SQS, EventBridge), signed with the
//! keys the test's own checks use, or as a role assumed in another account.

use anyhow::{Context, Result};

use crate::moto::{ACCESS_KEY, Moto, SECRET_KEY};

impl Moto {
    pub async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let (key, secret) = self.keys();
        self.ec2_with_keys(region, key, secret, None).await
    }

    pub async fn ec2_with_keys(
        &self,
        region: &str,
        key: &str,
        secret: &str,
        token: Option<&str>,
    ) -> aws_sdk_ec2::Client {
        let creds = aws_sdk_ec2::config::Credentials::new(key, secret, token.map(str::to_string), None, "tests");
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_ec2::Client::from_conf(config)
    }

    /// Credentials of `role_arn` from moto's STS: moto maps them to the
    /// role's account, which gives tests a second, isolated AWS account.
    pub async fn assume_role(&self, role_arn: &str) -> Result<(String, String, String)> {
        let creds = aws_sdk_sts::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests");
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        let out = aws_sdk_sts::Client::from_conf(config)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("tests")
            .send()
            .await?;
        let c = out.credentials().context("credentials")?;
        Ok((
            c.access_key_id().to_string(),
            c.secret_access_key().to_string(),
            c.session_token().to_string(),
        ))
    }

    /// An EC2 client acting in the account of `role_arn`.
    pub async fn ec2_as(&self, region: &str, role_arn: &str) -> Result<aws_sdk_ec2::Client> {
        let (key, secret, token) = self.assume_role(role_arn).await?;
        Ok(self.ec2_with_keys(region, &key, &secret, Some(&token)).await)
    }

    pub async fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let (key, secret) = self.keys();
        let creds = aws_sdk_cloudwatchlogs::config::Credentials::new(key, secret, None, None, "tests");
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    }

    pub async fn sqs(&self, region: &str) -> aws_sdk_sqs::Client {
        let (key, secret) = self.keys();
        let creds = aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "tests");
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    pub async fn events(&self, region: &str) -> aws_sdk_eventbridge::Client {
        let (key, secret) = self.keys();
        let creds = aws_sdk_eventbridge::config::Credentials::new(key, secret, None, None, "tests");
        let config = aws_sdk_eventbridge::Config::builder()
            .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
            .region(aws_sdk_eventbridge::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_eventbridge::Client::from_conf(config)
    }

    pub async fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        let (key, secret) = self.keys();
        self.eks_with_keys(region, key, secret, None)
    }

    /// An EKS client acting in the account of `role_arn`.
    pub async fn eks_as(&self, region: &str, role_arn: &str) -> Result<aws_sdk_eks::Client> {
        let (key, secret, token) = self.assume_role(role_arn).await?;
        Ok(self.eks_with_keys(region, &key, &secret, Some(&token)))
    }

    fn eks_with_keys(&self, region: &str, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_eks::Client {
        let creds = aws_sdk_eks::config::Credentials::new(key, secret, token.map(str::to_string), None, "tests");
        let config = aws_sdk_eks::Config::builder()
            .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
            .region(aws_sdk_eks::config::Region::new(region.to_string()))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_eks::Client::from_conf(config)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        let (key, secret) = self.keys();
        let creds = aws_sdk_iam::config::Credentials::new(key, secret, None, None, "tests");
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(self.url())
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }
}
