//! Subnets derived from the VPC CIDR, so users pick one CIDR per region and
//! nothing else.
//!
//! With `n` availability zones the VPC is cut into `2·m` equal slots, where
//! `m` is `n` rounded up to a power of two. Private subnets (nodes, pods) take
//! slots `0..n`: the bulk of the address space. Public subnets (load
//! balancers, NAT gateways) are carved from the last slot in eighths.
//!
//! | VPC   | zones | private (each) | public (each) |
//! |-------|-------|----------------|---------------|
//! | /16   | 3     | /19 (8190 IPs) | /22 (1022)    |
//! | /16   | 2     | /18            | /21           |
//! | /20   | 3     | /23            | /26           |
//! | /22   | 3     | /25            | /28 (minimum) |

use ipnet::Ipv4Net;

/// AWS's smallest subnet.
const SMALLEST_SUBNET_PREFIX: u8 = 28;
pub const MAX_ZONES: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetPlan {
    pub private: Vec<Ipv4Net>,
    pub public: Vec<Ipv4Net>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("{zones} availability zones is outside 1..={MAX_ZONES}")]
    Zones { zones: usize },
    #[error(
        "{vpc} is too small for {zones} availability zones: public subnets would be /{public_prefix}, smaller than \
         AWS's minimum /28. Use a /{largest} or larger VPC CIDR"
    )]
    TooSmall {
        vpc: Ipv4Net,
        zones: usize,
        public_prefix: u8,
        largest: u8,
    },
}

/// Bits needed to number `n` slots.
fn bits_for(n: usize) -> u8 {
    n.next_power_of_two().trailing_zeros() as u8
}

pub fn plan_subnets(vpc: Ipv4Net, zones: usize) -> Result<SubnetPlan, PlanError> {
    if zones == 0 || zones > MAX_ZONES {
        return Err(PlanError::Zones { zones });
    }
    let slot_prefix = vpc.prefix_len() + bits_for(zones) + 1;
    let public_prefix = slot_prefix + 3;
    if public_prefix > SMALLEST_SUBNET_PREFIX {
        return Err(PlanError::TooSmall {
            vpc,
            zones,
            public_prefix,
            largest: SMALLEST_SUBNET_PREFIX - 3 - bits_for(zones) - 1,
        });
    }
    // Both prefixes are within 0..=32 here, so subnets() cannot fail.
    let slots: Vec<Ipv4Net> = vpc.subnets(slot_prefix).map(Iterator::collect).unwrap_or_default();
    let last = *slots.last().unwrap_or(&vpc);
    let public: Vec<Ipv4Net> = last
        .subnets(public_prefix)
        .map(|s| s.take(zones).collect())
        .unwrap_or_default();
    Ok(SubnetPlan {
        private: slots.into_iter().take(zones).collect(),
        public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn strings(nets: &[Ipv4Net]) -> Vec<String> {
        nets.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_slash_16_over_three_zones() {
        let plan = plan_subnets(net("10.0.0.0/16"), 3).unwrap();
        assert_eq!(strings(&plan.private), ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]);
        assert_eq!(
            strings(&plan.public),
            ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]
        );
    }

    #[test]
    fn subnets_never_overlap_and_stay_inside_the_vpc() {
        for (vpc, zones) in [
            ("10.0.0.0/16", 1),
            ("10.8.0.0/18", 2),
            ("172.16.0.0/20", 4),
            ("192.168.0.0/22", 3),
        ] {
            let vpc = net(vpc);
            let plan = plan_subnets(vpc, zones).unwrap();
            let all: Vec<Ipv4Net> = plan.private.iter().chain(&plan.public).copied().collect();
            assert_eq!(all.len(), zones * 2);
            for (i, a) in all.iter().enumerate() {
                assert!(vpc.contains(a), "{a} outside {vpc}");
                for b in &all[i + 1..] {
                    assert!(
                        !a.contains(&b.network()) && !b.contains(&a.network()),
                        "{a} overlaps {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn too_small_a_vpc_names_the_largest_prefix_that_works() {
        let err = plan_subnets(net("10.0.0.0/24"), 3).unwrap_err();
        assert_eq!(
            err,
            PlanError::TooSmall {
                vpc: net("10.0.0.0/24"),
                zones: 3,
                public_prefix: 30,
                largest: 22
            }
        );
        assert!(plan_subnets(net("10.0.0.0/22"), 3).is_ok());
        assert_eq!(plan_subnets(net("10.0.0.0/16"), 7), Err(PlanError::Zones { zones: 7 }));
    }
}
