//! AWS region names, for validation without an API call (the provider at plan
//! time, eksgen when a region is added).

/// Regions of the `aws`, `aws-us-gov` and `aws-cn` partitions.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_known(region: &str) -> bool {
    REGIONS.binary_search(&region).is_ok()
}

/// The known region closest to a misspelt one, if any is close.
pub fn suggest(region: &str) -> Option<&'static str> {
    // Case is a typo too ("US-EAST-1"), but costs no edits.
    let region = region.to_ascii_lowercase();
    let region = region.as_str();
    REGIONS
        .iter()
        .map(|known| (edit_distance(region, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_for_binary_search() {
        assert!(REGIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn knows_real_regions_and_rejects_made_up_ones() {
        assert!(is_known("eu-west-1"));
        assert!(!is_known("us-west-9"));
        assert!(!is_known("US-EAST-1"));
    }

    #[test]
    fn suggests_the_nearest_region() {
        assert_eq!(suggest("us-wset-2"), Some("us-west-2"));
        assert_eq!(suggest("useast1"), Some("us-east-1"));
        assert_eq!(suggest("mars-north-1"), None);
    }
}
