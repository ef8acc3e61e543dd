//! The HTTP server loop of the master: hyper's connection builder with a
//! deadline for reading a request's headers (a client that sends them
//! slowly, or never, loses its connection instead of holding it forever),
//! and a graceful shutdown that finishes the requests in flight.

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long the requests in flight may take to finish at shutdown: longer
/// than any request's deadline.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(90);

/// Serves `app` until `stop` turns true, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // HTTP/1.1 only: what the API needs, and an HTTP/2 preface is refused
    // at once rather than negotiated.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let stopped = async move {
        // The guard `wait_for` returns is dropped here, never held across
        // the accept loop's awaits.
        let _ = stop.wait_for(|stopped| *stopped).await.map(|_| ());
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors, most likely: back off
                        // rather than spin.
                        tracing::warn!(%error, "cannot accept an HTTP connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // A client that goes away is no error of the server's.
                    let _ = connection.await;
                });
            }
            () = &mut stopped => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests were still running at shutdown");
    }
}
