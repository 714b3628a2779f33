use std::process::ExitCode;

use fleet_provider::provider::FleetProvider;

#[tokio::main]
async fn main() -> ExitCode {
    // Terraform captures stderr into its own log (TF_LOG=debug shows it).
    let filter = tracing_subscriber::EnvFilter::try_from_env("TF_LOG_PROVIDER_FLEET")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(false)
        .init();

    ignore_interrupts();
    match tfplugin::serve(FleetProvider::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if tfplugin::is_not_a_plugin(&err) => {
            eprintln!("{err}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("terraform-provider-fleet: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C in a terminal reaches the whole foreground process group, the
/// provider included. Terraform handles it: it calls StopProvider, which ends
/// waits early and returns state for what exists. Dying on the signal instead
/// would lose the ids of objects being created, so, like go-plugin providers,
/// the provider only notes interrupts.
fn ignore_interrupts() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut interrupts) => {
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    tracing::info!("interrupt received; waiting for Terraform's StopProvider");
                }
            });
        }
        Err(err) => tracing::warn!("could not handle SIGINT: {err}"),
    }
}
