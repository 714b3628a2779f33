//! Route tables read while Terraform refreshes, shared between resources.
//!
//! A plan refreshes every resource instance, and route tables are where
//! resources overlap: a region's private route tables are read by its
//! cluster and again by every peering that routes through them (the hub's by
//! each edge's peering). ReadResource reads them through [`SharedReads`], so
//! a table is described once per plan:
//!
//! - a table another refresh has already read is answered from that read;
//! - tables that another refresh is reading right now are waited for, not
//!   asked again, so concurrent refreshes share one DescribeRouteTables;
//! - the rest are described in one call, filtered by all their ids.
//!
//! Only refreshes use it: a plan only reads, so a table read a moment ago by
//! another resource's refresh is as current as a new read. Anything that
//! changes AWS objects (ApplyResourceChange, ImportResourceState) calls
//! [`SharedReads::forget`] first, and reads made while applying never come
//! through here, so no answer read before a change is given after it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_ec2::types::RouteTable;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::error::AwsError;

/// Tables by id, as one DescribeRouteTables returned them.
type Tables = Arc<HashMap<String, RouteTable>>;
/// One DescribeRouteTables in progress, awaited by every refresh that needs its tables.
type Flight = Shared<BoxFuture<'static, Result<Tables, AwsError>>>;

/// Where tables live: their region, and the role they are read with (a peering
/// accepter in another account reads with its own role).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub region: String,
    pub role_arn: Option<String>,
}

/// The route tables read by this provider process's refreshes.
#[derive(Default)]
pub struct SharedReads {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by `forget`, so a read that started before is not remembered after.
    generation: u64,
    scopes: HashMap<Scope, Known>,
}

#[derive(Default)]
struct Known {
    /// Tables read so far; `None` records that a read found no such table.
    tables: HashMap<String, Option<RouteTable>>,
    in_flight: HashMap<String, Flight>,
}

impl SharedReads {
    /// Drops every table read so far. Called before anything changes AWS objects.
    pub fn forget(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.scopes.clear();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a cache: one left by a panicking holder is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The tables among `ids` in `scope` that exist; only the ids neither read
    /// yet nor being read are passed to `describe`, in one call.
    pub async fn route_tables<F>(
        self: &Arc<Self>,
        scope: &Scope,
        ids: &BTreeSet<String>,
        describe: F,
    ) -> Result<Vec<RouteTable>, AwsError>
    where
        F: FnOnce(BTreeSet<String>) -> BoxFuture<'static, Result<Vec<RouteTable>, AwsError>>,
    {
        let mut found = Vec::new();
        let mut flights: Vec<Flight> = Vec::new();
        {
            let mut state = self.lock();
            let generation = state.generation;
            let known = state.scopes.entry(scope.clone()).or_default();
            let mut missing = BTreeSet::new();
            for id in ids {
                if let Some(table) = known.tables.get(id) {
                    found.extend(table.clone());
                } else if let Some(flight) = known.in_flight.get(id) {
                    if !flights.iter().any(|f| f.ptr_eq(flight)) {
                        flights.push(flight.clone());
                    }
                } else {
                    missing.insert(id.clone());
                }
            }
            if !missing.is_empty() {
                let flight = self.start_flight(scope.clone(), generation, missing.clone(), describe(missing.clone()));
                for id in missing {
                    known.in_flight.insert(id, flight.clone());
                }
                flights.push(flight);
            }
        }
        for tables in futures::future::join_all(flights).await {
            let tables = tables?;
            found.extend(ids.iter().filter_map(|id| tables.get(id).cloned()));
        }
        // Same order as a direct read, whichever way each table was found.
        found.sort_by(|a, b| a.route_table_id().cmp(&b.route_table_id()));
        Ok(found)
    }

    /// A shared DescribeRouteTables of `ids` that, when it completes, records
    /// what it found (unless `forget` was called meanwhile). A failed read
    /// records nothing, so the next refresh asks again.
    fn start_flight(
        self: &Arc<Self>,
        scope: Scope,
        generation: u64,
        ids: BTreeSet<String>,
        describe: BoxFuture<'static, Result<Vec<RouteTable>, AwsError>>,
    ) -> Flight {
        let reads = Arc::clone(self);
        async move {
            let result = describe.await.map(|tables| {
                let by_id: HashMap<String, RouteTable> = tables
                    .into_iter()
                    .filter_map(|t| Some((t.route_table_id()?.to_string(), t)))
                    .collect();
                Arc::new(by_id)
            });
            let mut state = reads.lock();
            if state.generation == generation
                && let Some(known) = state.scopes.get_mut(&scope)
            {
                for id in &ids {
                    known.in_flight.remove(id);
                    if let Ok(tables) = &result {
                        known.tables.insert(id.clone(), tables.get(id).cloned());
                    }
                }
            }
            result
        }
        .boxed()
        .shared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn table(id: &str) -> RouteTable {
        RouteTable::builder().route_table_id(id).build()
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn scope(region: &str) -> Scope {
        Scope {
            region: region.into(),
            role_arn: None,
        }
    }

    /// A fake DescribeRouteTables over `existing` that records each call's ids.
    #[derive(Clone, Default)]
    struct Ec2Calls {
        calls: Arc<Mutex<Vec<BTreeSet<String>>>>,
        failures_left: Arc<AtomicUsize>,
    }

    impl Ec2Calls {
        fn describe(
            &self,
            existing: &'static [&'static str],
        ) -> impl FnOnce(BTreeSet<String>) -> BoxFuture<'static, Result<Vec<RouteTable>, AwsError>> {
            let calls = self.calls.clone();
            let failures_left = self.failures_left.clone();
            move |wanted| {
                async move {
                    calls.lock().unwrap().push(wanted.clone());
                    // Let other refreshes start meanwhile, as a network call would.
                    tokio::task::yield_now().await;
                    if failures_left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return Err(AwsError {
                            operation: "DescribeRouteTables",
                            region: "us-east-1".into(),
                            code: "InternalError".into(),
                            message: String::new(),
                        });
                    }
                    Ok(existing
                        .iter()
                        .filter(|id| wanted.contains(**id))
                        .map(|id| table(id))
                        .collect())
                }
                .boxed()
            }
        }

        fn calls(&self) -> Vec<BTreeSet<String>> {
            self.calls.lock().unwrap().clone()
        }
    }

    fn found_ids(tables: &[RouteTable]) -> Vec<&str> {
        tables.iter().filter_map(|t| t.route_table_id()).collect()
    }

    #[tokio::test]
    async fn a_table_read_by_one_refresh_is_not_described_again_by_the_next() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let hub = scope("us-east-1");
        let first = reads
            .route_tables(&hub, &ids(&["rtb-a", "rtb-b"]), ec2.describe(&["rtb-a", "rtb-b"]))
            .await
            .unwrap();
        let second = reads
            .route_tables(
                &hub,
                &ids(&["rtb-b", "rtb-c"]),
                ec2.describe(&["rtb-a", "rtb-b", "rtb-c"]),
            )
            .await
            .unwrap();
        assert_eq!(found_ids(&first), ["rtb-a", "rtb-b"]);
        assert_eq!(found_ids(&second), ["rtb-b", "rtb-c"]);
        assert_eq!(ec2.calls(), [ids(&["rtb-a", "rtb-b"]), ids(&["rtb-c"])]);
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_the_same_tables_share_one_call() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let hub = scope("us-east-1");
        let wanted = ids(&["rtb-a", "rtb-b", "rtb-c"]);
        let refreshes = (0..9).map(|_| reads.route_tables(&hub, &wanted, ec2.describe(&["rtb-a", "rtb-b", "rtb-c"])));
        for tables in futures::future::join_all(refreshes).await {
            assert_eq!(found_ids(&tables.unwrap()), ["rtb-a", "rtb-b", "rtb-c"]);
        }
        assert_eq!(ec2.calls(), [wanted]);
    }

    #[tokio::test]
    async fn a_missing_table_is_remembered_as_missing() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let hub = scope("us-east-1");
        for _ in 0..2 {
            let tables = reads
                .route_tables(&hub, &ids(&["rtb-a", "rtb-gone"]), ec2.describe(&["rtb-a"]))
                .await
                .unwrap();
            assert_eq!(found_ids(&tables), ["rtb-a"]);
        }
        assert_eq!(ec2.calls().len(), 1);
    }

    #[tokio::test]
    async fn regions_and_roles_are_read_separately() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let other_account = Scope {
            region: "us-east-1".into(),
            role_arn: Some("arn:aws:iam::222222222222:role/peering".into()),
        };
        for scope in [scope("us-east-1"), scope("us-west-2"), other_account] {
            reads
                .route_tables(&scope, &ids(&["rtb-a"]), ec2.describe(&["rtb-a"]))
                .await
                .unwrap();
        }
        assert_eq!(ec2.calls().len(), 3);
    }

    #[tokio::test]
    async fn after_forget_every_table_is_described_again() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let hub = scope("us-east-1");
        reads
            .route_tables(&hub, &ids(&["rtb-a"]), ec2.describe(&["rtb-a"]))
            .await
            .unwrap();
        reads.forget();
        reads
            .route_tables(&hub, &ids(&["rtb-a"]), ec2.describe(&["rtb-a"]))
            .await
            .unwrap();
        assert_eq!(ec2.calls().len(), 2);
    }

    #[tokio::test]
    async fn a_read_in_flight_when_forgotten_is_not_remembered() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        let hub = scope("us-east-1");
        let wanted = ids(&["rtb-a"]);
        let in_flight = reads.route_tables(&hub, &wanted, ec2.describe(&["rtb-a"]));
        let forget = async {
            tokio::task::yield_now().await;
            reads.forget();
        };
        let (tables, ()) = tokio::join!(in_flight, forget);
        assert_eq!(found_ids(&tables.unwrap()), ["rtb-a"]);
        reads
            .route_tables(&hub, &wanted, ec2.describe(&["rtb-a"]))
            .await
            .unwrap();
        assert_eq!(ec2.calls().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_read_reaches_every_waiter_and_is_asked_again_next_time() {
        let reads = Arc::new(SharedReads::default());
        let ec2 = Ec2Calls::default();
        ec2.failures_left.store(1, Ordering::SeqCst);
        let hub = scope("us-east-1");
        let wanted = ids(&["rtb-a"]);
        let (first, second) = tokio::join!(
            reads.route_tables(&hub, &wanted, ec2.describe(&["rtb-a"])),
            reads.route_tables(&hub, &wanted, ec2.describe(&["rtb-a"]))
        );
        assert_eq!(first.unwrap_err().code, "InternalError");
        assert_eq!(second.unwrap_err().code, "InternalError");
        let third = reads
            .route_tables(&hub, &wanted, ec2.describe(&["rtb-a"]))
            .await
            .unwrap();
        assert_eq!(found_ids(&third), ["rtb-a"]);
        assert_eq!(ec2.calls().len(), 2);
    }
}
