//! Serving a provider to the Terraform (or OpenTofu) process that launched
//! the plugin: the handshake line, AutoMTLS, health and controller services.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Notify, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::handshake::{HandshakeError, LaunchEnvironment, handshake_line};
use crate::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::provider::Provider;
use crate::server::ProviderService;
use crate::tls::ServerIdentity;

/// Terraform sends whole states in one message; allow large ones.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// `plugin.GRPCController`: Terraform asks the plugin to exit when done.
struct Controller {
    shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(
        &self,
        _: Request<crate::proto::plugin::Empty>,
    ) -> Result<Response<crate::proto::plugin::Empty>, Status> {
        self.shutdown.notify_one();
        Ok(Response::new(crate::proto::plugin::Empty {}))
    }
}

/// Serves the provider to the Terraform process that launched us, until it
/// calls GRPCController.Shutdown (or kills us).
pub async fn serve<P: Provider>(provider: P) -> anyhow::Result<()> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    let env = LaunchEnvironment::from_vars(&vars)?;
    let listener = env.listen().await?;
    let addr = listener.local_addr().context("reading the listener address")?;

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let shutdown = Arc::new(Notify::new());
    let provider = Arc::new(provider);
    let service = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(service);
    let stopped = {
        let shutdown = shutdown.clone();
        async move { shutdown.notified().await }
    };

    match &env.client_cert_pem {
        Some(client_pem) => {
            let identity = ServerIdentity::generate()?;
            let acceptor = TlsAcceptor::from(Arc::new(identity.server_config(client_pem)?));
            announce(&handshake_line(addr, Some(identity.cert.as_ref())))?;
            let (sender, receiver) = mpsc::channel(16);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (acceptor, sender) = (acceptor.clone(), sender.clone());
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => {
                                let _ = sender.send(Ok::<_, std::io::Error>(tls)).await;
                            }
                            Err(err) => {
                                tracing::warn!("TLS handshake with Terraform failed: {err}")
                            }
                        }
                    });
                }
            });
            router
                .serve_with_incoming_shutdown(ReceiverStream::new(receiver), stopped)
                .await?;
        }
        // TF_DISABLE_PLUGIN_TLS: plain gRPC on loopback.
        None => {
            announce(&handshake_line(addr, None))?;
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            router.serve_with_incoming_shutdown(incoming, stopped).await?;
        }
    }
    Ok(())
}

fn announce(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Whether an error means "not started by Terraform" (a usage error, not a crash).
pub fn is_not_a_plugin(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<HandshakeError>(),
        Some(HandshakeError::NotLaunchedByTerraform)
    )
}
