//! Small reusable attribute validators. Each error names the attribute (via
//! the diagnostic's path and in its text) and says how to fix the value.

use std::time::Duration;

use aws_regions as regions;
use tfplugin::diagnostics::{AttributePath, Diagnostics};
use tfplugin::schema::Validator;
use tfplugin::value::Value;

/// A known AWS region name.
pub struct AwsRegion;

impl Validator for AwsRegion {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(region) = value.as_str() else { return };
        if regions::is_known(region) {
            return;
        }
        let hint = match regions::suggest(region) {
            Some(known) => format!("Did you mean \"{known}\"?"),
            None => "Use a region name such as \"us-east-1\" or \"eu-west-1\".".to_string(),
        };
        diags.attribute_error(
            path,
            "Unknown AWS region",
            format!("{path}: \"{region}\" is not an AWS region. {hint}"),
        );
    }

    fn describe(&self) -> String {
        "be an AWS region name such as `us-east-1`".into()
    }
}

/// An EC2 resource id: `prefix-` then 8 or 17 lowercase hex digits.
pub struct Ec2Id {
    pub prefix: &'static str,
    pub what: &'static str,
}

pub const VPC_ID: Ec2Id = Ec2Id {
    prefix: "vpc",
    what: "VPC id",
};
pub const SUBNET_ID: Ec2Id = Ec2Id {
    prefix: "subnet",
    what: "subnet id",
};
pub const ROUTE_TABLE_ID: Ec2Id = Ec2Id {
    prefix: "rtb",
    what: "route table id",
};
pub const PEERING_ID: Ec2Id = Ec2Id {
    prefix: "pcx",
    what: "VPC peering connection id",
};

impl Ec2Id {
    pub fn matches(&self, id: &str) -> bool {
        id.strip_prefix(self.prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|hex| {
                matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            })
    }
}

impl Validator for Ec2Id {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(id) = value.as_str() else { return };
        if !self.matches(id) {
            diags.attribute_error(
                path,
                format!("Malformed {}", self.what),
                format!(
                    "{path}: {id:?} is not a {}: expected \"{}-\" followed by 8 or 17 lowercase hex digits, e.g. \"{}-0a1b2c3d4e5f67890\".",
                    self.what, self.prefix, self.prefix
                ),
            );
        }
    }

    fn describe(&self) -> String {
        format!("be a {} (`{}-…`)", self.what, self.prefix)
    }
}

/// Applies a validator to every element of a list or set.
pub struct Each<V>(pub V);

impl<V: Validator> Validator for Each<V> {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        for (i, element) in value.elements().iter().enumerate() {
            if element.is_null() || element.is_unknown() {
                continue;
            }
            // Set elements have no index Terraform could resolve: point at the set.
            let element_path = if matches!(value, Value::Set(_)) {
                path.clone()
            } else {
                path.index(i)
            };
            self.0.validate(element, &element_path, diags);
        }
    }

    fn describe(&self) -> String {
        format!(
            "have elements that {}",
            self.0.describe().trim_start_matches("be ").replace("be a", "are a")
        )
    }
}

/// A 12-digit AWS account id.
pub struct AccountId;

impl Validator for AccountId {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(id) = value.as_str() else { return };
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            diags.attribute_error(
                path,
                "Malformed AWS account id",
                format!("{path}: {id:?} is not an AWS account id: expected exactly 12 digits, e.g. \"123456789012\"."),
            );
        }
    }

    fn describe(&self) -> String {
        "be a 12-digit AWS account id".into()
    }
}

/// An IAM role ARN.
pub struct RoleArn;

impl RoleArn {
    pub fn matches(arn: &str) -> bool {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5].strip_prefix("role/").is_some_and(|name| !name.is_empty())
    }
}

impl Validator for RoleArn {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(arn) = value.as_str() else { return };
        if !Self::matches(arn) {
            diags.attribute_error(
                path,
                "Malformed IAM role ARN",
                format!("{path}: {arn:?} is not an IAM role ARN: expected \"arn:aws:iam::ACCOUNT_ID:role/NAME\"."),
            );
        }
    }

    fn describe(&self) -> String {
        "be an IAM role ARN (`arn:aws:iam::ACCOUNT_ID:role/NAME`)".into()
    }
}

/// A duration in Terraform's usual form: `30s`, `10m`, `1h30m`.
pub struct GoDuration;

impl GoDuration {
    pub fn parse(text: &str) -> Option<Duration> {
        let mut total = 0f64;
        let mut number = String::new();
        let mut seen_unit = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let unit = match (c, chars.peek()) {
                ('m', Some('s')) => {
                    chars.next();
                    0.001
                }
                ('h', _) => 3600.0,
                ('m', _) => 60.0,
                ('s', _) => 1.0,
                _ => return None,
            };
            total += number.parse::<f64>().ok()? * unit;
            number.clear();
            seen_unit = true;
        }
        (seen_unit && number.is_empty() && total.is_finite()).then(|| Duration::from_secs_f64(total))
    }
}

impl Validator for GoDuration {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        if Self::parse(text).is_none() {
            diags.attribute_error(
                path,
                "Malformed duration",
                format!("{path}: {text:?} is not a duration: use a number with a unit, such as \"30s\", \"10m\" or \"1h30m\"."),
            );
        }
    }

    fn describe(&self) -> String {
        "be a duration such as `30s`, `10m` or `1h30m`".into()
    }
}

/// One of a fixed set of strings.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        if !self.0.contains(&text) {
            diags.attribute_error(
                path,
                "Invalid value",
                format!("{path}: {text:?} is not allowed: use one of {}.", quoted_list(self.0)),
            );
        }
    }

    fn describe(&self) -> String {
        format!(
            "be one of {}",
            self.0.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
        )
    }
}

fn quoted_list(values: &[&str]) -> String {
    values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
}

/// A whole number within `min..=max`.
pub struct WholeNumber {
    pub min: i64,
    pub max: i64,
}

impl Validator for WholeNumber {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Number(n) = value else { return };
        if n.fract() != 0.0 || *n < self.min as f64 || *n > self.max as f64 {
            diags.attribute_error(
                path,
                "Number out of range",
                format!(
                    "{path}: {n} is not allowed: use a whole number from {} to {}.",
                    self.min, self.max
                ),
            );
        }
    }

    fn describe(&self) -> String {
        format!("be a whole number from {} to {}", self.min, self.max)
    }
}

/// An IPv4 CIDR block in canonical form (`10.0.0.0/16`).
pub struct Cidr;

impl Validator for Cidr {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        match text.parse::<ipnet::Ipv4Net>() {
            Ok(net) if net.trunc() == net => {}
            Ok(net) => diags.attribute_error(
                path,
                "CIDR has host bits set",
                format!("{path}: {text:?} has host bits set: did you mean \"{}\"?", net.trunc()),
            ),
            Err(_) => diags.attribute_error(
                path,
                "Malformed CIDR",
                format!("{path}: {text:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\"."),
            ),
        }
    }

    fn describe(&self) -> String {
        "be an IPv4 CIDR block such as `10.0.0.0/16`".into()
    }
}

/// Tag maps (`tags`, `default_tags`), by the rules EC2, EKS and IAM share:
/// keys of 1 to 128 and values of up to 256 characters, made of letters and
/// digits (any script), spaces and `_ . : / = + - @`. Keys starting `aws:`
/// are AWS's and `eksfleet:` the provider's own. Checked at plan time, so a
/// tag AWS would refuse never fails an apply half-way.
pub struct Tags;

fn tag_text_ok(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

impl Validator for Tags {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Value::Map(tags) = value else { return };
        for (key, tag_value) in tags {
            let reserved = ["aws:", "eksfleet:"]
                .into_iter()
                .find(|prefix| key.to_ascii_lowercase().starts_with(prefix));
            let problem = if key.is_empty() || key.chars().count() > 128 {
                Some("a tag key must be 1 to 128 characters".to_string())
            } else if !tag_text_ok(key) {
                Some("a tag key may hold only letters, digits, spaces and _ . : / = + - @".to_string())
            } else if let Some(prefix) = reserved {
                Some(format!("tag keys starting with {prefix:?} are reserved"))
            } else {
                match tag_value.as_str() {
                    Some(text) if text.chars().count() > 256 => {
                        Some("a tag value must be at most 256 characters".to_string())
                    }
                    Some(text) if !tag_text_ok(text) => {
                        Some("a tag value may hold only letters, digits, spaces and _ . : / = + - @".to_string())
                    }
                    _ => None,
                }
            };
            if let Some(problem) = problem {
                diags.attribute_error(&path.key(key), "Invalid tag", format!("{path}[{key:?}]: {problem}."));
            }
        }
    }

    fn describe(&self) -> String {
        "have AWS tag keys (1 to 128 characters) and values (up to 256) of letters, digits, spaces and `_ . : / = + - @`"
            .into()
    }
}

/// A DNS-1123 label: 1–63 lowercase letters, digits and `-`, alphanumeric at both ends.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A Kubernetes namespace name: a DNS-1123 label.
pub struct NamespaceName;

impl Validator for NamespaceName {
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(name) = value.as_str() else { return };
        if !is_dns_label(name) {
            diags.attribute_error(
                path,
                "Invalid Kubernetes namespace",
                format!(
                    "{path}: {name:?} is not a Kubernetes namespace name: use a DNS label of 1 to 63 lowercase \
                     letters, digits and '-', starting and ending with a letter or digit, such as \"kube-system\"."
                ),
            );
        }
    }

    fn describe(&self) -> String {
        "be a DNS label (1 to 63 lowercase letters, digits and `-`)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(validator: &dyn Validator, value: &str) -> Vec<String> {
        let mut diags = Diagnostics::new();
        validator.validate(&Value::string(value), &AttributePath::attr("x"), &mut diags);
        diags.iter().map(|d| d.detail.clone()).collect()
    }

    #[test]
    fn region_errors_suggest_the_nearest_region() {
        assert!(errors(&AwsRegion, "us-west-2").is_empty());
        let e = errors(&AwsRegion, "us-wset-2");
        assert!(e[0].contains("Did you mean \"us-west-2\""), "{e:?}");
        let e = errors(&AwsRegion, "EU-WEST-1");
        assert!(e[0].contains("Did you mean \"eu-west-1\""), "{e:?}");
    }

    fn tag_errors(key: &str, value: &str) -> Vec<String> {
        let mut diags = Diagnostics::new();
        let tags = Value::Map([(key.to_string(), Value::string(value))].into_iter().collect());
        Tags.validate(&tags, &AttributePath::attr("tags"), &mut diags);
        diags.iter().map(|d| d.detail.clone()).collect()
    }

    #[test]
    fn tags_follow_the_aws_rules() {
        for (key, value) in [
            ("Team", "platform"),
            ("kubernetes.io/cluster/edge", "shared"),
            ("Équipe", "Données clients"),
            ("cost-center", "a:b/c=d+e@f_g.h"),
            ("Empty", ""),
        ] {
            assert!(tag_errors(key, value).is_empty(), "{key}={value}");
        }
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        for (key, value, needle) in [
            ("aws:createdBy", "x", "reserved"),
            ("AWS:x", "x", "reserved"),
            ("eksfleet:owner", "x", "reserved"),
            ("", "x", "1 to 128"),
            (long_key.as_str(), "x", "1 to 128"),
            ("Team", long_value.as_str(), "at most 256"),
            ("Team", "ops\nInjected: yes", "may hold only"),
            ("<script>", "x", "may hold only"),
            ("🔥", "x", "may hold only"),
            ("Team", "$(reboot)", "may hold only"),
        ] {
            let e = tag_errors(key, value);
            assert!(e.len() == 1 && e[0].contains(needle), "{key:?}={value:?}: {e:?}");
            assert!(e[0].starts_with("tags["), "names the key: {e:?}");
        }
    }

    #[test]
    fn ec2_ids_need_prefix_and_hex() {
        assert!(VPC_ID.matches("vpc-0a1b2c3d"));
        assert!(VPC_ID.matches("vpc-0a1b2c3d4e5f67890"));
        for bad in [
            "vpc-xyz",
            "subnet-0a1b2c3d",
            "vpc-0A1B2C3D",
            "vpc0a1b2c3d",
            "vpc-0a1b2c3d4",
        ] {
            assert!(!VPC_ID.matches(bad), "{bad}");
        }
        assert!(errors(&PEERING_ID, "pcx-nope")[0].contains("pcx-"));
    }

    #[test]
    fn role_arns_and_accounts() {
        assert!(RoleArn::matches("arn:aws:iam::111111111111:role/peering-accepter"));
        assert!(!RoleArn::matches("arn:aws:iam::111111111111:user/bob"));
        assert!(!RoleArn::matches("arn:aws:iam::1111:role/x"));
        assert!(errors(&AccountId, "12345").len() == 1);
        assert!(errors(&AccountId, "123456789012").is_empty());
    }

    #[test]
    fn cidrs_must_be_canonical_ipv4() {
        assert!(errors(&Cidr, "10.0.0.0/16").is_empty());
        assert!(errors(&Cidr, "10.0.0.1/16")[0].contains("did you mean \"10.0.0.0/16\""));
        assert!(errors(&Cidr, "10.0.0.0/33")[0].contains("not an IPv4 CIDR"));
        assert!(errors(&OneOf(&["a", "b"]), "c")[0].contains("use one of \"a\", \"b\""));
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(GoDuration::parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(GoDuration::parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(GoDuration::parse("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(GoDuration::parse("250ms"), Some(Duration::from_millis(250)));
        for bad in ["", "10", "ten minutes", "5d", "m"] {
            assert_eq!(GoDuration::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_reports_the_element_index() {
        let mut diags = Diagnostics::new();
        let list = Value::List(vec![Value::string("rtb-0a1b2c3d"), Value::string("bad")]);
        Each(ROUTE_TABLE_ID).validate(&list, &AttributePath::attr("route_table_ids"), &mut diags);
        let set = Value::Set(list.elements().to_vec());
        Each(ROUTE_TABLE_ID).validate(&set, &AttributePath::attr("route_table_ids"), &mut diags);
        let paths: Vec<_> = diags.iter().map(|d| d.path.clone().unwrap().to_string()).collect();
        assert_eq!(paths, vec!["route_table_ids[1]", "route_table_ids"]);
    }
}
