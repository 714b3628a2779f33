//! Which availability zones a cluster uses, decided at plan time so a zone
//! EKS refuses is an error before anything exists.
//!
//! DescribeAvailabilityZones also lists the Local and Wavelength Zones an
//! account opted into, and names map to zone ids differently per account;
//! EKS refuses cluster subnets in Local Zones and in some zone ids. So zones
//! are taken only of type `availability-zone`, and judged by zone id.

use crate::aws::ec2::Ec2;
use crate::aws::ec2_reconcile::{AvailabilityZone, EKS_UNSUPPORTED_ZONE_IDS};

use super::model::ClusterModel;

/// The zones for `model`: its `availability_zones` when given (each checked),
/// else the first `availability_zone_count` zones EKS accepts, by name.
pub async fn choose(ec2: &Ec2, model: &ClusterModel) -> Result<Vec<String>, String> {
    let zones = ec2.find_availability_zones().await.map_err(|e| e.to_string())?;
    pick(
        &zones,
        model.availability_zones.as_deref(),
        model.zone_count(),
        &ec2.region,
    )
}

/// The pure part of `choose`.
pub fn pick(
    zones: &[AvailabilityZone],
    given: Option<&[String]>,
    count: usize,
    region: &str,
) -> Result<Vec<String>, String> {
    let usable: Vec<&AvailabilityZone> = zones.iter().filter(|z| z.eks_accepts()).collect();
    let usable_names = || usable.iter().map(|z| z.name.as_str()).collect::<Vec<_>>().join(", ");
    if let Some(given) = given.filter(|g| !g.is_empty()) {
        for name in given {
            let Some(zone) = zones.iter().find(|z| z.name == *name) else {
                return Err(format!(
                    "availability_zones: {name:?} is not a zone of {region}; EKS accepts {}.",
                    usable_names()
                ));
            };
            if !zone.eks_accepts() {
                let why = if zone.zone_type != "availability-zone" {
                    format!("a {} (EKS takes no cluster subnets there)", zone.zone_type)
                } else if EKS_UNSUPPORTED_ZONE_IDS.contains(&zone.id.as_str()) {
                    format!("zone id {}, in which EKS refuses cluster subnets", zone.id)
                } else {
                    format!("{} ({})", zone.state, zone.id)
                };
                return Err(format!(
                    "availability_zones: {name} is {why}. Use zones EKS accepts in {region}: {}.",
                    usable_names()
                ));
            }
        }
        return Ok(given.to_vec());
    }
    if usable.len() < count {
        return Err(format!(
            "availability_zone_count: {count}, but {region} has {} availability zones EKS accepts ({}). Lower \
             availability_zone_count to at most {}.",
            usable.len(),
            usable_names(),
            usable.len()
        ));
    }
    Ok(usable.iter().take(count).map(|z| z.name.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, id: &str, zone_type: &str) -> AvailabilityZone {
        AvailabilityZone {
            name: name.into(),
            id: id.into(),
            zone_type: zone_type.into(),
            state: "available".into(),
        }
    }

    fn us_east_1() -> Vec<AvailabilityZone> {
        vec![
            zone("us-east-1-bos-1a", "use1-bos1-az1", "local-zone"),
            zone("us-east-1a", "use1-az2", "availability-zone"),
            zone("us-east-1b", "use1-az3", "availability-zone"),
            zone("us-east-1c", "use1-az1", "availability-zone"),
            zone("us-east-1d", "use1-az4", "availability-zone"),
        ]
    }

    #[test]
    fn skips_local_zones_and_zone_ids_eks_refuses() {
        let picked = pick(&us_east_1(), None, 3, "us-east-1").unwrap();
        assert_eq!(picked, ["us-east-1a", "us-east-1c", "us-east-1d"]);
    }

    #[test]
    fn more_zones_than_eks_accepts_is_an_error_naming_the_count() {
        let err = pick(&us_east_1(), None, 4, "us-east-1").unwrap_err();
        assert!(err.starts_with("availability_zone_count: 4"), "{err}");
        assert!(err.contains("at most 3"), "{err}");
    }

    #[test]
    fn a_given_zone_eks_refuses_is_an_error_naming_its_id() {
        let given = vec!["us-east-1a".to_string(), "us-east-1b".to_string()];
        let err = pick(&us_east_1(), Some(&given), 2, "us-east-1").unwrap_err();
        assert!(err.contains("use1-az3"), "{err}");
        let given = vec!["us-east-1-bos-1a".to_string(), "us-east-1a".to_string()];
        let err = pick(&us_east_1(), Some(&given), 2, "us-east-1").unwrap_err();
        assert!(err.contains("local-zone"), "{err}");
    }
}
