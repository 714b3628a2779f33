//! Polling an AWS object until it reaches a state: exponential backoff with
//! jitter, bounded by the resource's timeout, cut short by StopProvider.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::error::AwsError;

/// Set when Terraform calls StopProvider (Ctrl-C); waits end early.
pub struct StopSignal {
    sender: watch::Sender<bool>,
}

impl Default for StopSignal {
    fn default() -> Self {
        Self {
            sender: watch::channel(false).0,
        }
    }
}

impl StopSignal {
    pub fn stop(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once `stop` has been called.
    pub async fn stopped(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives as long as `self`, so this only ends on stop.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}

/// What one poll found.
pub enum Poll<T> {
    Ready(T),
    /// Not there yet; the current state, for messages.
    Pending(String),
    /// A state from which the wanted one can't be reached.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timed out after {after:?} waiting for {what} (last state: {last_state})")]
    Timeout {
        what: String,
        after: Duration,
        last_state: String,
    },
    #[error("stopped by Terraform while waiting for {what}")]
    Stopped { what: String },
    #[error("{what} reached state {state}")]
    UnexpectedState { what: String, state: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// One time budget for a whole operation, shared by its waits.
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(timeout: Duration) -> Self {
        Self(Instant::now() + timeout)
    }

    pub fn left(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// Delay before poll number `attempt` (0-based): doubling, capped, with
    /// ±25 % jitter so many waits don't poll in lockstep.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.first.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let jitter = 0.75 + fastrand::f64() * 0.5;
        base.mul_f64(jitter)
    }
}

/// Polls `check` until it is ready, fails, `timeout` passes or Terraform stops us.
pub async fn wait_until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    backoff: Backoff,
    stop: &StopSignal,
    mut check: F,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, AwsError>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        if stop.is_stopped() {
            return Err(WaitError::Stopped { what: what.to_string() });
        }
        let last_state = match check().await? {
            Poll::Ready(value) => return Ok(value),
            Poll::Failed(state) => {
                return Err(WaitError::UnexpectedState {
                    what: what.to_string(),
                    state,
                });
            }
            Poll::Pending(state) => state,
        };
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(WaitError::Timeout {
                what: what.to_string(),
                after: timeout,
                last_state,
            });
        }
        let delay = backoff.delay(attempt).min(timeout - elapsed);
        attempt += 1;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.stopped() => return Err(WaitError::Stopped { what: what.to_string() }),
        }
    }
}

/// Retries a delete that AWS refuses with `DependencyViolation` while
/// dependents are still going away (say, network interfaces of a cluster
/// just deleted), within `timeout`.
pub async fn retry_while_dependents_remain<F, Fut>(
    what: &str,
    timeout: Duration,
    stop: &StopSignal,
    mut delete: F,
) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), AwsError>>,
{
    wait_until(what, timeout, Backoff::default(), stop, || {
        let attempt = delete();
        async move {
            match attempt.await {
                Ok(()) => Ok(Poll::Ready(())),
                Err(err) if err.code == "DependencyViolation" => Ok(Poll::Pending(err.message)),
                Err(err) => Err(err),
            }
        }
    })
    .await
}

/// How long IAM takes to show a new role (or policy attachment) to other
/// services: provider-aws `propagationTimeout` (internal/service/eks).
pub const IAM_PROPAGATION: Duration = Duration::from_secs(120);

/// How long EC2 may answer `Invalid*ID.NotFound` for an id it has just
/// returned from a create (EC2 eventual consistency).
pub const EC2_PROPAGATION: Duration = Duration::from_secs(120);

/// Runs `op` again while it fails with an error `is_retryable` accepts, for
/// up to `timeout`. Any other error, or success, ends at once. When
/// `timeout` passes or Terraform stops us, the last error is returned, its
/// message saying how long it was retried and what for (`what`).
pub async fn retry_while<T, F, Fut, R>(
    what: &str,
    timeout: Duration,
    stop: &StopSignal,
    is_retryable: R,
    op: F,
) -> Result<T, AwsError>
where
    R: Fn(&AwsError) -> bool,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry_while_with(what, timeout, Backoff::default(), stop, is_retryable, op).await
}

async fn retry_while_with<T, F, Fut, R>(
    what: &str,
    timeout: Duration,
    backoff: Backoff,
    stop: &StopSignal,
    is_retryable: R,
    mut op: F,
) -> Result<T, AwsError>
where
    R: Fn(&AwsError) -> bool,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let err = match op().await {
            Err(err) if is_retryable(&err) => err,
            other => return other,
        };
        let elapsed = started.elapsed();
        let gave_up = |err: AwsError, why: &str| AwsError {
            message: format!("{} ({why} after retrying for {:?} while {what})", err.message, elapsed),
            ..err
        };
        if elapsed >= timeout {
            return Err(gave_up(err, "still failing"));
        }
        if stop.is_stopped() {
            return Err(gave_up(err, "stopped by Terraform"));
        }
        tracing::debug!("{what}: {err}; retrying");
        let delay = backoff.delay(attempt).min(timeout - elapsed);
        attempt += 1;
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.stopped() => return Err(gave_up(err, "stopped by Terraform")),
        }
    }
}

/// An EC2 error saying an id does not exist (yet): `Invalid*ID.NotFound`,
/// `InvalidGroup.NotFound`, `NatGatewayNotFound`, … Right after a create,
/// that is eventual consistency, not absence.
pub fn is_new_id_not_found(err: &AwsError) -> bool {
    err.code.ends_with(".NotFound") || err.code == "NatGatewayNotFound"
}

/// Runs an EC2 call that names ids created a moment ago, again while EC2
/// answers that one of them does not exist, for up to `EC2_PROPAGATION`
/// (provider-aws `RetryWhenNewResourceNotFound`). Only for ids just
/// returned by a create: for an old id, NotFound means it is gone.
pub async fn retry_new_id_not_found<T, F, Fut>(stop: &StopSignal, op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry_while(
        "waiting for new EC2 ids to become visible",
        EC2_PROPAGATION,
        stop,
        is_new_id_not_found,
        op,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: Backoff = Backoff {
        first: Duration::from_millis(1),
        max: Duration::from_millis(5),
    };

    #[tokio::test]
    async fn returns_once_the_state_is_reached() {
        let polls = AtomicU32::new(0);
        let stop = StopSignal::default();
        let result = wait_until("thing", Duration::from_secs(5), FAST, &stop, || async {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            Ok(if n < 3 {
                Poll::Pending(format!("poll {n}"))
            } else {
                Poll::Ready(n)
            })
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    #[tokio::test]
    async fn gives_up_at_the_timeout_with_the_last_state() {
        let stop = StopSignal::default();
        let err = wait_until::<(), _, _>("peering", Duration::from_millis(30), FAST, &stop, || async {
            Ok(Poll::Pending("pending-acceptance".into()))
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&err, WaitError::Timeout { last_state, .. } if last_state == "pending-acceptance"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn stop_ends_a_wait_early() {
        let stop = std::sync::Arc::new(StopSignal::default());
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            stopper.stop();
        });
        let slow = Backoff {
            first: Duration::from_secs(30),
            max: Duration::from_secs(30),
        };
        let started = Instant::now();
        let err = wait_until::<(), _, _>("cluster", Duration::from_secs(600), slow, &stop, || async {
            Ok(Poll::Pending("CREATING".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, WaitError::Stopped { .. }));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn deletes_are_retried_while_dependents_remain() {
        let attempts = AtomicU32::new(0);
        let stop = StopSignal::default();
        let result = retry_while_dependents_remain("subnet", Duration::from_secs(5), &stop, || async {
            if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(AwsError {
                    operation: "DeleteSubnet",
                    region: "us-east-1".into(),
                    code: "DependencyViolation".into(),
                    message: "has dependencies".into(),
                })
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert!(backoff.delay(0) <= Duration::from_millis(125));
        assert!(backoff.delay(2) >= Duration::from_millis(300));
        assert!(backoff.delay(20) <= Duration::from_millis(1250));
    }

    fn aws_error(code: &str, message: &str) -> AwsError {
        AwsError {
            operation: "Op",
            region: "us-east-1".into(),
            code: code.into(),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn retry_while_retries_only_what_it_is_told_to() {
        let attempts = AtomicU32::new(0);
        let stop = StopSignal::default();
        let result = retry_while_with(
            "test",
            Duration::from_secs(5),
            FAST,
            &stop,
            |e| e.code == "Transient",
            || async {
                match attempts.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(aws_error("Transient", "try again")),
                    _ => Ok(7),
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(attempts.load(Ordering::SeqCst), 3);

        let attempts = AtomicU32::new(0);
        let err = retry_while_with(
            "test",
            Duration::from_secs(5),
            FAST,
            &stop,
            |e| e.code == "Transient",
            || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(aws_error("Permanent", "no"))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "Permanent");
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retry_while_returns_the_last_error_at_the_timeout() {
        let stop = StopSignal::default();
        let err = retry_while_with(
            "creating the cluster",
            Duration::from_millis(30),
            FAST,
            &stop,
            |_| true,
            || async { Err::<(), _>(aws_error("InvalidParameterException", "role does not exist")) },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
        assert!(
            err.message.starts_with("role does not exist (still failing"),
            "{}",
            err.message
        );
        assert!(err.message.contains("creating the cluster"), "{}", err.message);
    }

    #[tokio::test]
    async fn retry_while_ends_when_terraform_stops() {
        let stop = StopSignal::default();
        stop.stop();
        let attempts = AtomicU32::new(0);
        let err = retry_while_with(
            "test",
            Duration::from_secs(600),
            FAST,
            &stop,
            |_| true,
            || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(aws_error("Transient", "x"))
            },
        )
        .await
        .unwrap_err();
        assert!(err.message.contains("stopped by Terraform"), "{}", err.message);
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn new_id_not_found_covers_every_ec2_not_found_code() {
        for code in [
            "InvalidVpcID.NotFound",
            "InvalidSubnetID.NotFound",
            "InvalidGroup.NotFound",
            "InvalidRouteTableID.NotFound",
            "InvalidAllocationID.NotFound",
            "InvalidInternetGatewayID.NotFound",
            "NatGatewayNotFound",
        ] {
            assert!(is_new_id_not_found(&aws_error(code, "")), "{code}");
        }
        for code in ["DependencyViolation", "InvalidParameterValue", "NoSuchEntity"] {
            assert!(!is_new_id_not_found(&aws_error(code, "")), "{code}");
        }
    }
}
