use std::process::ExitCode;

use fleet_provider::protocol;
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

    match protocol::serve(FleetProvider::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if protocol::is_not_a_plugin(&err) => {
            eprintln!("{err}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("terraform-provider-fleet: {err:#}");
            ExitCode::from(1)
        }
    }
}
