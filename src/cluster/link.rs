//! How this node's cluster link is secured, decided once at start from its
//! settings: the cookie (from the settings or a file, e.g. a Docker secret)
//! and the transport (mutual TLS, or clear text in development mode only).
//!
//! Outside development mode (`cluster.development`, `CLUSTER_DEVELOPMENT`) a
//! node refuses to start with the built-in cookie, which everyone can read,
//! or without TLS material: the message says what to set.

use std::path::Path;

use anyhow::{Context, bail};
use ractor::ActorRef;
use ractor_cluster::{ClientConnectErr, IncomingEncryptionMode, NodeServerMessage};

use super::tls::{TlsFiles, TlsLink};
use crate::configuration::{BUILT_IN_COOKIE, ClusterSettings, Role};

/// A cookie shorter than this is refused outside development mode.
const MIN_COOKIE_LENGTH: usize = 16;

/// How bytes cross the link.
#[derive(Clone)]
pub enum Transport {
    /// Mutual TLS: peers proved a certificate of the cluster's authority
    /// naming their role.
    Tls(TlsLink),
    /// Clear text, with the cookie as the only check: development mode.
    Plain,
}

/// This node's link settings, checked.
pub struct ClusterLink {
    pub cookie: String,
    pub transport: Transport,
}

impl ClusterLink {
    pub fn from_settings(cluster: &ClusterSettings, role: Role) -> anyhow::Result<ClusterLink> {
        let cookie = cookie(cluster)?;
        let tls = &cluster.tls;
        let set = [
            ("cluster.tls.ca (CLUSTER_TLS_CA)", &tls.ca),
            ("cluster.tls.cert (CLUSTER_TLS_CERT)", &tls.cert),
            ("cluster.tls.key (CLUSTER_TLS_KEY)", &tls.key),
        ];
        let missing: Vec<&str> = set
            .iter()
            .filter(|(_, path)| path.trim().is_empty())
            .map(|(key, _)| *key)
            .collect();
        if !cluster.development {
            if cookie == BUILT_IN_COOKIE {
                bail!(
                    "refusing to start: the cluster cookie is the built-in development cookie, which anyone can read; \
                     set CLUSTER_COOKIE or CLUSTER_COOKIE_FILE to a secret of your own (e.g. `openssl rand -hex 32`), \
                     or CLUSTER_DEVELOPMENT=true for a throw-away cluster on one machine"
                );
            }
            if cookie.len() < MIN_COOKIE_LENGTH {
                bail!(
                    "refusing to start: the cluster cookie must be at least {MIN_COOKIE_LENGTH} characters outside development mode (CLUSTER_COOKIE, CLUSTER_COOKIE_FILE)"
                );
            }
            if missing.len() == set.len() {
                bail!(
                    "refusing to start: the cluster link needs TLS outside development mode; \
                     set CLUSTER_TLS_CA, CLUSTER_TLS_CERT and CLUSTER_TLS_KEY to PEM files \
                     (the cluster's CA, this node's certificate and key; ./deploy.sh secrets makes a set), \
                     or CLUSTER_DEVELOPMENT=true for a throw-away cluster on one machine"
                );
            }
        }
        let transport = if missing.len() == set.len() {
            tracing::warn!(
                "development mode: the cluster link is in clear text, guarded by the cookie alone"
            );
            Transport::Plain
        } else if let Some(first) = missing.first() {
            bail!(
                "invalid configuration: {first} is not set; TLS needs the CA, the certificate and the key"
            );
        } else {
            Transport::Tls(TlsLink::load(
                &TlsFiles {
                    ca: Path::new(&tls.ca),
                    cert: Path::new(&tls.cert),
                    key: Path::new(&tls.key),
                },
                role,
            )?)
        };
        Ok(ClusterLink { cookie, transport })
    }
}

impl Transport {
    /// What the node server does with an accepted connection.
    pub fn incoming(&self) -> Option<IncomingEncryptionMode> {
        match self {
            Transport::Tls(tls) => Some(IncomingEncryptionMode::Tls(tls.acceptor.clone())),
            Transport::Plain => None,
        }
    }

    /// Dials `address` (a seed, always a master) for `server`.
    pub async fn dial(
        &self,
        server: &ActorRef<NodeServerMessage>,
        address: &str,
    ) -> Result<(), ClientConnectErr> {
        match self {
            Transport::Tls(tls) => {
                ractor_cluster::client_connect_enc(
                    server,
                    address,
                    tls.connector.clone(),
                    TlsLink::seed_name(),
                )
                .await
            }
            Transport::Plain => ractor_cluster::client_connect(server, address).await,
        }
    }
}

/// The cookie: from `cluster.cookie_file` when set (a Docker or Kubernetes
/// secret), else `cluster.cookie`.
fn cookie(cluster: &ClusterSettings) -> anyhow::Result<String> {
    let cookie = if cluster.cookie_file.trim().is_empty() {
        cluster.cookie.clone()
    } else {
        std::fs::read_to_string(&cluster.cookie_file)
            .with_context(|| {
                format!(
                    "cannot read the cluster cookie from {} (cluster.cookie_file, CLUSTER_COOKIE_FILE)",
                    cluster.cookie_file
                )
            })?
            .trim()
            .to_string()
    };
    if cookie.is_empty() {
        bail!("invalid configuration: the cluster cookie must not be empty");
    }
    Ok(cookie)
}
