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
    async fn add(&self, tables: &BTreeSet<String>, present: &mut BTreeSet<String>) -> Result<(), AwsError> {
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
    async fn remove(&self, tables: &BTreeSet<String>, present: &mut BTreeSet<String>) -> Result<(), AwsError> {
        for table in tables {
            self.ec2
                .delete_peering_route(table, self.remote_cidr, self.peering_id)
                .await?;
            present.remove(table);
        }
        Ok(())
    }

    /// Moves the routes from the tables in `before` to those in `after`
    /// (create: from none; delete: to none). Returns the tables that hold the
    /// route afterwards, as state records them (null stays null when nothing
    /// is routed), even when a call failed part-way, plus that failure.
    pub async fn sync(
        &self,
        before: &Option<BTreeSet<String>>,
        after: &Option<BTreeSet<String>>,
    ) -> (Option<BTreeSet<String>>, Result<(), AwsError>) {
        let old = before.clone().unwrap_or_default();
        let new = after.clone().unwrap_or_default();
        let mut present = old.clone();
        let result = async {
            self.remove(&old.difference(&new).cloned().collect(), &mut present)
                .await?;
            self.add(&new, &mut present).await
        }
        .await;
        let recorded = if after.is_none() && present.is_empty() {
            None
        } else {
            Some(present)
        };
        (recorded, result)
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
