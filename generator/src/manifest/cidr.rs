//! VPC CIDRs: allocated from the manifest's pool so that no two VPCs of the
//! manifest overlap (peered VPCs must not, and any two may be peered later).

use ipnet::Ipv4Net;

use crate::error::Error;

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A CIDR is usable when it lies in the pool and overlaps no VPC in `taken`.
pub fn check_fits(cidr: Ipv4Net, pool: Ipv4Net, taken: &[(Ipv4Net, String)]) -> Result<(), Error> {
    if !pool.contains(&cidr) {
        return Err(Error::CidrOutsidePool {
            cidr: cidr.to_string(),
            pool: pool.to_string(),
        });
    }
    if let Some((other, owner)) = taken.iter().find(|(other, _)| overlaps(cidr, *other)) {
        return Err(Error::CidrOverlap {
            cidr: cidr.to_string(),
            other: other.to_string(),
            owner: owner.clone(),
        });
    }
    Ok(())
}

/// The first block of the pool, of the given size, that overlaps nothing taken.
pub fn allocate(pool: Ipv4Net, prefix_len: u8, taken: &[(Ipv4Net, String)]) -> Result<Ipv4Net, Error> {
    let exhausted = || Error::PoolExhausted {
        pool: pool.to_string(),
        prefix: prefix_len,
    };
    let mut candidates = pool.subnets(prefix_len).map_err(|_| exhausted())?;
    candidates
        .find(|candidate| !taken.iter().any(|(other, _)| overlaps(*candidate, *other)))
        .ok_or_else(exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn taken(cidrs: &[&str]) -> Vec<(Ipv4Net, String)> {
        cidrs.iter().map(|c| (net(c), format!("vpc {c}"))).collect()
    }

    #[test]
    fn allocates_the_first_free_block() {
        let pool = net("10.0.0.0/8");
        assert_eq!(allocate(pool, 16, &[]).unwrap(), net("10.0.0.0/16"));
        assert_eq!(
            allocate(pool, 16, &taken(&["10.0.0.0/16", "10.2.0.0/16"])).unwrap(),
            net("10.1.0.0/16")
        );
        // A smaller VPC inside a /16 makes the whole /16 unavailable.
        assert_eq!(
            allocate(pool, 16, &taken(&["10.0.3.0/24"])).unwrap(),
            net("10.1.0.0/16")
        );
        // A larger one takes every /16 inside it.
        assert_eq!(
            allocate(pool, 16, &taken(&["10.0.0.0/15"])).unwrap(),
            net("10.2.0.0/16")
        );
    }

    #[test]
    fn a_full_pool_is_reported_as_exhausted() {
        let pool = net("10.0.0.0/15");
        let err = allocate(pool, 16, &taken(&["10.0.0.0/16", "10.1.0.0/16"])).unwrap_err();
        assert!(matches!(err, Error::PoolExhausted { prefix: 16, .. }), "{err}");
        assert!(matches!(
            allocate(net("10.0.0.0/16"), 8, &[]),
            Err(Error::PoolExhausted { .. })
        ));
    }

    #[test]
    fn given_cidrs_must_be_in_the_pool_and_free() {
        let pool = net("10.0.0.0/8");
        assert!(check_fits(net("10.9.0.0/16"), pool, &taken(&["10.1.0.0/16"])).is_ok());
        assert!(matches!(
            check_fits(net("172.16.0.0/16"), pool, &[]),
            Err(Error::CidrOutsidePool { .. })
        ));
        let err = check_fits(net("10.1.128.0/17"), pool, &taken(&["10.1.0.0/16"])).unwrap_err();
        assert!(
            err.to_string().contains("overlaps 10.1.0.0/16 (vpc 10.1.0.0/16)"),
            "{err}"
        );
    }
}
