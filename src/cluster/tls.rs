//! Mutual TLS of the cluster link (rustls, through ractor_cluster's TLS
//! mode). Every node presents a certificate signed by the cluster's
//! authority, and its role is a DNS name in that certificate:
//! [`MASTER_NAME`] for a master (or a standalone node), [`WORKER_NAME`] for a
//! worker. A worker dials only a peer whose certificate names it a master,
//! and a node's server accepts only the role that may dial it (a master
//! accepts workers, a worker accepts masters). With the cluster in isolated
//! mode (no node introduces its peers to others), a worker's only sessions
//! are with authenticated masters: no other node can send it an execution.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::configuration::Role;

/// The DNS name (subject alternative name) that makes a certificate a
/// master's.
pub const MASTER_NAME: &str = "master.braindrill";
/// The DNS name that makes a certificate a worker's.
pub const WORKER_NAME: &str = "worker.braindrill";

/// Where a node's TLS material lives (PEM files).
pub struct TlsFiles<'a> {
    /// The certificate(s) of the cluster's authority.
    pub ca: &'a Path,
    /// This node's certificate, then any intermediates.
    pub cert: &'a Path,
    /// This node's private key.
    pub key: &'a Path,
}

/// The TLS sides of one node: its server's acceptor and the connector it
/// dials the seed with.
#[derive(Clone)]
pub struct TlsLink {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

impl TlsLink {
    /// Reads the PEM files and builds both sides for a node of `role`.
    pub fn load(files: &TlsFiles<'_>, role: Role) -> anyhow::Result<TlsLink> {
        let ca = read_certificates(files.ca, "cluster.tls.ca (CLUSTER_TLS_CA)")?;
        let chain = read_certificates(files.cert, "cluster.tls.cert (CLUSTER_TLS_CERT)")?;
        let key = PrivateKeyDer::from_pem_file(files.key).map_err(|error| {
            anyhow::anyhow!(
                "cannot read this node's private key {} (cluster.tls.key, CLUSTER_TLS_KEY): {error}",
                files.key.display()
            )
        })?;
        TlsLink::new(ca, chain, key, role)
    }

    /// Builds both sides from certificates already in memory.
    pub fn new(
        ca: Vec<CertificateDer<'static>>,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        role: Role,
    ) -> anyhow::Result<TlsLink> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        for certificate in ca {
            roots
                .add(certificate)
                .context("the cluster's CA certificate (cluster.tls.ca) is not a usable CA")?;
        }
        let roots = Arc::new(roots);
        let (own, accepted) = names(role);
        check_own_name(&chain, own)?;

        let inner = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .context("cannot verify client certificates with the cluster's CA")?;
        let verifier = Arc::new(PeerRole {
            inner,
            name: server_name(accepted),
        });
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .context("this node's certificate (cluster.tls.cert) does not match its key (cluster.tls.key)")?;
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("this node's certificate (cluster.tls.cert) does not match its key (cluster.tls.key)")?;
        Ok(TlsLink {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        })
    }

    /// The name a dialled seed must prove: only masters are dialled.
    pub fn seed_name() -> ServerName<'static> {
        server_name(MASTER_NAME)
    }
}

/// The name this role's certificate carries, and the name a peer dialling
/// this node's server must carry.
fn names(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Master | Role::Standalone => (MASTER_NAME, WORKER_NAME),
        Role::Worker => (WORKER_NAME, MASTER_NAME),
    }
}

fn server_name(name: &'static str) -> ServerName<'static> {
    ServerName::try_from(name).unwrap_or_else(|_| unreachable!("{name} is a valid DNS name"))
}

fn read_certificates(path: &Path, key: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| anyhow::anyhow!("cannot read {key} from {}: {error}", path.display()))?;
    if certificates.is_empty() {
        bail!("{key}: {} holds no PEM certificate", path.display());
    }
    Ok(certificates)
}

/// A node whose certificate does not name its role would be refused by
/// every peer: say so at start instead.
fn check_own_name(chain: &[CertificateDer<'static>], own: &'static str) -> anyhow::Result<()> {
    let Some(leaf) = chain.first() else {
        bail!("cluster.tls.cert holds no certificate");
    };
    let parsed = ParsedCertificate::try_from(leaf)
        .context("this node's certificate (cluster.tls.cert) cannot be parsed")?;
    rustls::client::verify_server_name(&parsed, &server_name(own)).map_err(|_| {
        anyhow::anyhow!(
            "this node's certificate (cluster.tls.cert) does not name its role: it needs the DNS name {own} among its subject alternative names"
        )
    })
}

/// A client verifier that also requires the peer's certificate to name
/// the role allowed to dial this node.
#[derive(Debug)]
struct PeerRole {
    inner: Arc<dyn ClientCertVerifier>,
    name: ServerName<'static>,
}

impl ClientCertVerifier for PeerRole {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|error| {
                tracing::warn!(%error, "refused a node: its certificate is not signed by the cluster's CA");
            })?;
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, &self.name).inspect_err(|_| {
            tracing::warn!(
                required = ?self.name,
                "refused a node: its certificate does not name the role allowed to dial this node"
            );
        })?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests;
