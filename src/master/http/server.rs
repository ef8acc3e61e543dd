//! The HTTP server loop of the master: hyper's connection builder with a
//! deadline for reading a request's headers (a client that sends them
//! slowly, or never, loses its connection instead of holding it forever), a
//! deadline on every write of the answer (a client that reads it slowly, or
//! never, loses its connection instead of holding the answer in memory), a
//! bound on the connections held at once (past it new clients wait in the
//! kernel's backlog), and a graceful shutdown that finishes the requests in
//! flight.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_io_timeout::TimeoutStream;
use tokio_util::task::TaskTracker;

/// How long the requests in flight may take to finish at shutdown: longer
/// than any request's deadline.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(90);

/// What bounds a client's hold on the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// A request's headers must arrive within it.
    pub header_read_timeout: Duration,
    /// Each write of an answer must make progress within it.
    pub write_timeout: Duration,
    /// Connections held at once.
    pub max_connections: usize,
}

/// Serves `app` until `stop` turns true, then lets the requests in flight
/// finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
) {
    // HTTP/1.1 only: what the API needs, and an HTTP/2 preface is refused
    // at once rather than negotiated.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    // Each connection watches the stop itself (hyper-util's graceful
    // watcher does not take a connection with upgrades) and is tracked, so
    // that the shutdown waits for those in flight.
    let tracker = TaskTracker::new();
    let shutdown = stop.clone();
    let stopped = async move {
        // The guard `wait_for` returns is dropped here, never held across
        // the accept loop's awaits.
        let _ = stop.wait_for(|stopped| *stopped).await.map(|_| ());
    };
    tokio::pin!(stopped);
    loop {
        // At the limit, the next client waits in the backlog until a
        // connection closes.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            () = &mut stopped => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stopped => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, most likely: back off rather
                // than spin.
                tracing::warn!(%error, "cannot accept an HTTP connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let service = TowerToHyperService::new(app.clone());
        // With upgrades: GET /api/v1/connect becomes a WebSocket.
        let connection = builder
            .serve_connection(TokioIo::new(Box::pin(stream)), service)
            .with_upgrades();
        let mut shutdown = shutdown.clone();
        tracker.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            // The guard `wait_for` returns is dropped at once, never held
            // across an await.
            let stop = async move {
                let _ = shutdown.wait_for(|stopped| *stopped).await.map(|_| ());
            };
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stop => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            // A client that goes away, or reads too slowly, is no error of
            // the server's.
            if let Err(error) = ended {
                tracing::debug!(%error, "an HTTP connection ended in error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP requests were still running at shutdown");
    }
}
