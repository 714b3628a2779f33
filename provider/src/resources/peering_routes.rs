//! Routes through a peering on one side: "in each of these route tables, send
//! the other VPC's CIDR through the peering". Shared by both peering resources.

use std::collections::BTreeSet;

use crate::aws::AwsError;
use crate::aws::ec2::{Ec2, routes_via};

pub struct SideRoutes<'a> {
    pub ec2: &'a Ec2,
    pub peering_id: &'a str,
    /// The other side's CIDR block: the routes' destination.
    pub remote_cidr: &'a str,
}

impl SideRoutes<'_> {
    /// Adds the route to each table, recording each success in `present` so a
    /// failure half-way still leaves an exact record of what exists.
    pub async fn add(&self, tables: &BTreeSet<String>, present: &mut BTreeSet<String>) -> Result<(), AwsError> {
        for table in tables {
            if present.contains(table) {
                continue;
            }
            self.ec2
                .create_peering_route(table, self.remote_cidr, self.peering_id)
                .await?;
            present.insert(table.clone());
        }
        Ok(())
    }

    /// Removes the route from each table, dropping each from `present` once gone.
    pub async fn remove(&self, tables: &BTreeSet<String>, present: &mut BTreeSet<String>) -> Result<(), AwsError> {
        for table in tables {
            self.ec2
                .delete_peering_route(table, self.remote_cidr, self.peering_id)
                .await?;
            present.remove(table);
        }
        Ok(())
    }

    /// Of `tables`, those that still hold the route (one API call).
    pub async fn still_routed(&self, tables: &BTreeSet<String>) -> Result<BTreeSet<String>, AwsError> {
        Ok(self
            .ec2
            .find_route_tables(tables)
            .await?
            .iter()
            .filter(|t| routes_via(t, self.remote_cidr, self.peering_id))
            .filter_map(|t| t.route_table_id().map(str::to_string))
            .collect())
    }

    /// Every table of `vpc_id` that holds the route (for import).
    pub async fn discover(&self, vpc_id: &str) -> Result<BTreeSet<String>, AwsError> {
        Ok(self
            .ec2
            .find_route_tables_of_vpc(vpc_id)
            .await?
            .iter()
            .filter(|t| routes_via(t, self.remote_cidr, self.peering_id))
            .filter_map(|t| t.route_table_id().map(str::to_string))
            .collect())
    }
}

/// `None` for an empty set, so an unset `route_table_ids` stays null.
pub fn non_empty(set: BTreeSet<String>) -> Option<BTreeSet<String>> {
    (!set.is_empty()).then_some(set)
}
