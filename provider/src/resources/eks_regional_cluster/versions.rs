//! Kubernetes versions: which EKS offers comes from EKS at plan time
//! (DescribeClusterVersions), so versions released after this provider work
//! without a release of it. The built-in list only bounds what
//! `terraform validate` (no credentials) refuses.

use crate::aws::eks::{ClusterVersion, VersionSupport, minor_version};

/// Versions EKS offered when this provider was released. Older ones never
/// come back, so they are refused without asking EKS; newer ones may exist.
pub const BUILT_IN_VERSIONS: &[&str] = &["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"];

/// How long before the end of standard support plans start warning.
pub const WARN_DAYS: i64 = 90;
const DAY: i64 = 24 * 60 * 60;

/// The oldest built-in version.
pub fn oldest_built_in() -> &'static str {
    BUILT_IN_VERSIONS[0]
}

/// The version an unset `kubernetes_version` gets at create: the newest in
/// standard support.
pub fn newest_standard(offered: &[ClusterVersion]) -> Option<&ClusterVersion> {
    offered
        .iter()
        .filter(|v| v.status == VersionSupport::Standard)
        .max_by_key(|v| minor_version(&v.version))
}

/// The next minor version, the only upgrade EKS makes.
pub fn next_minor(version: &str) -> Option<String> {
    minor_version(version).map(|(major, minor)| format!("{major}.{}", minor + 1))
}

/// Seconds since the Unix epoch, from the system clock.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(secs: i64) -> String {
    let formatted = aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    formatted.get(..10).unwrap_or(&formatted).to_string()
}

/// The plan-time warning for a version that has left standard support or
/// leaves it within `WARN_DAYS` of `now`, or None.
pub fn support_warning(version: &ClusterVersion, support_type: &str, now: i64) -> Option<String> {
    const COST: &str = "extended support is billed at $0.60 per cluster hour instead of $0.10";
    let v = &version.version;
    let one_up = match next_minor(v) {
        Some(next) => format!("one minor version (kubernetes_version = \"{next}\")"),
        None => "one minor version".to_string(),
    };
    let end = version.end_of_standard_support;
    let left = version.status == VersionSupport::Extended || end.is_some_and(|end| now >= end);
    if left {
        let when = end.map_or_else(String::new, |end| format!(" on {}", date(end)));
        let until = version
            .end_of_extended_support
            .map_or_else(String::new, |e| format!(" until {}", date(e)));
        // EKS only lets a cluster in standard support switch to STANDARD.
        return Some(format!(
            "kubernetes_version: {v} left EKS standard support{when}: a cluster on it runs in extended support{until}, \
             and {COST}. To avoid the charge, upgrade {one_up}; support_type = \"STANDARD\" (auto-upgrade at the end of \
             standard support) can only be set while a cluster is in standard support."
        ));
    }
    let end = end?;
    if end - now > WARN_DAYS * DAY {
        return None;
    }
    let days = (end - now + DAY - 1) / DAY;
    let plural = if days == 1 { "" } else { "s" };
    let then = if support_type == "EXTENDED" {
        format!("with support_type = \"EXTENDED\" the cluster then enters extended support, and {COST}")
    } else {
        format!(
            "with support_type = \"STANDARD\" EKS then upgrades the cluster to the next version itself (staying \
             would need extended support, and {COST})"
        )
    };
    let or_standard = if support_type == "EXTENDED" {
        ", or set support_type = \"STANDARD\" to be auto-upgraded at the end of standard support"
    } else {
        " to choose when the upgrade happens"
    };
    Some(format!(
        "kubernetes_version: {v} leaves EKS standard support on {} (in {days} day{plural}); {then}. \
         Upgrade {one_up}{or_standard}.",
        date(end)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(v: &str, status: VersionSupport, end_std: i64) -> ClusterVersion {
        ClusterVersion {
            version: v.into(),
            status,
            end_of_standard_support: Some(end_std),
            end_of_extended_support: Some(end_std + 365 * DAY),
            default: false,
        }
    }

    // 2026-12-02T00:00:00Z
    const TODAY: i64 = 1_796_169_600;

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(date(TODAY), "2026-12-02");
        assert_eq!(date(TODAY - 1), "2026-12-01");
        assert_eq!(date(TODAY + 90 * DAY), "2027-03-02");
    }

    #[test]
    fn an_unset_version_is_the_newest_in_standard_support() {
        let offered = vec![
            version("1.33", VersionSupport::Extended, TODAY - 100 * DAY),
            version("1.36", VersionSupport::Standard, TODAY + 300 * DAY),
            version("1.9", VersionSupport::Standard, TODAY + 400 * DAY),
            version("1.35", VersionSupport::Standard, TODAY + 100 * DAY),
            // EKS's default flag does not matter: the newest standard version does.
            ClusterVersion {
                default: true,
                ..version("1.34", VersionSupport::Standard, TODAY + 10 * DAY)
            },
        ];
        assert_eq!(newest_standard(&offered).map(|v| v.version.as_str()), Some("1.36"));
        let extended_only = vec![version("1.33", VersionSupport::Extended, TODAY - DAY)];
        assert_eq!(newest_standard(&extended_only), None);
        assert_eq!(next_minor("1.9").as_deref(), Some("1.10"));
    }

    #[test]
    fn warnings_start_90_days_before_the_end_of_standard_support() {
        let at = |days: i64| version("1.35", VersionSupport::Standard, TODAY + days * DAY);
        assert_eq!(support_warning(&at(91), "EXTENDED", TODAY), None);
        assert_eq!(support_warning(&at(400), "STANDARD", TODAY), None);
        let edge = support_warning(&at(90), "EXTENDED", TODAY).expect("90 days out warns");
        assert!(edge.contains("on 2027-03-02 (in 90 days)"), "{edge}");
        assert!(edge.contains("extended support is billed at $0.60 per cluster hour instead of $0.10"));
        assert!(edge.contains("kubernetes_version = \"1.36\""), "{edge}");
        assert!(
            edge.contains("set support_type = \"STANDARD\" to be auto-upgraded"),
            "{edge}"
        );
        let standard = support_warning(&at(1), "STANDARD", TODAY).expect("a day out warns");
        assert!(
            standard.contains("(in 1 day)") && standard.contains("upgrades the cluster"),
            "{standard}"
        );
        // Part of a day left counts as a day.
        let soon = version("1.35", VersionSupport::Standard, TODAY + DAY / 2);
        assert!(
            support_warning(&soon, "EXTENDED", TODAY)
                .unwrap()
                .contains("(in 1 day)")
        );
    }

    #[test]
    fn a_version_past_standard_support_warns_with_the_date_it_left() {
        // The calendar says it left, even if EKS's status has not moved yet.
        let gone = version("1.34", VersionSupport::Standard, TODAY);
        let warning = support_warning(&gone, "EXTENDED", TODAY).expect("left today");
        assert!(
            warning.contains("1.34 left EKS standard support on 2026-12-02"),
            "{warning}"
        );
        assert!(warning.contains("until 2027-12-02") && warning.contains("kubernetes_version = \"1.35\""));
        assert!(warning.contains("$0.60 per cluster hour instead of $0.10"));
        let extended = version("1.33", VersionSupport::Extended, TODAY - 120 * DAY);
        assert!(
            support_warning(&extended, "STANDARD", TODAY)
                .unwrap()
                .contains("left EKS standard support")
        );
    }
}
