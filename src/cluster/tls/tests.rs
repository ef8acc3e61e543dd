//! Handshakes between the TLS sides of nodes over an in-memory pipe: who
//! is let in, by authority and by role.

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

struct Authority {
    certificate: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new() -> Authority {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let certificate = params.self_signed(&key).expect("CA").der().clone();
        Authority {
            certificate,
            issuer: Issuer::new(params, key),
        }
    }

    /// A node certificate naming `names`, and its key.
    fn node(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(
            names
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>(),
        )
        .expect("params");
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let certificate = params.signed_by(&key, &self.issuer).expect("signed");
        (
            certificate.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    fn link(&self, names: &[&str], role: Role) -> TlsLink {
        let (certificate, key) = self.node(names);
        TlsLink::new(vec![self.certificate.clone()], vec![certificate], key, role)
            .expect("a valid link")
    }
}

/// Dials `server` from `client` as a worker dials its seed, and says
/// whether both sides came through and could exchange a byte.
async fn handshake(client: &TlsLink, server: &TlsLink, name: ServerName<'static>) -> bool {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let accept = async {
        let mut stream = server.acceptor.accept(server_io).await.ok()?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.ok()?;
        stream.write_all(&byte).await.ok()?;
        stream.flush().await.ok()
    };
    let connect = async {
        let mut stream = client.connector.connect(name, client_io).await.ok()?;
        stream.write_all(b"x").await.ok()?;
        stream.flush().await.ok()?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.ok()
    };
    let (accepted, connected) = tokio::join!(accept, connect);
    accepted.is_some() && connected.is_some()
}

#[tokio::test]
async fn a_worker_of_the_cluster_joins_its_master() {
    let ca = Authority::new();
    let master = ca.link(&[MASTER_NAME], Role::Master);
    let worker = ca.link(&[WORKER_NAME], Role::Worker);
    assert!(handshake(&worker, &master, TlsLink::seed_name()).await);
}

#[tokio::test]
async fn a_certificate_of_another_authority_is_refused_both_ways() {
    let ca = Authority::new();
    let stranger = Authority::new();
    let master = ca.link(&[MASTER_NAME], Role::Master);
    let worker = ca.link(&[WORKER_NAME], Role::Worker);
    let foreign_worker = stranger.link(&[WORKER_NAME], Role::Worker);
    let foreign_master = stranger.link(&[MASTER_NAME], Role::Master);
    assert!(!handshake(&foreign_worker, &master, TlsLink::seed_name()).await);
    assert!(!handshake(&worker, &foreign_master, TlsLink::seed_name()).await);
}

#[tokio::test]
async fn a_worker_accepts_only_masters() {
    let ca = Authority::new();
    let master = ca.link(&[MASTER_NAME], Role::Master);
    let worker = ca.link(&[WORKER_NAME], Role::Worker);
    let other_worker = ca.link(&[WORKER_NAME], Role::Worker);
    // A worker's server lets a master in, never another worker.
    assert!(handshake(&master, &worker, server_name(WORKER_NAME)).await);
    assert!(!handshake(&other_worker, &worker, server_name(WORKER_NAME)).await);
    // A worker never takes a worker for its seed.
    assert!(!handshake(&other_worker, &worker, TlsLink::seed_name()).await);
}

#[tokio::test]
async fn a_master_accepts_only_workers() {
    let ca = Authority::new();
    let master = ca.link(&[MASTER_NAME], Role::Master);
    let other_master = ca.link(&[MASTER_NAME], Role::Master);
    assert!(!handshake(&other_master, &master, TlsLink::seed_name()).await);
}

#[test]
fn a_node_whose_certificate_does_not_name_its_role_does_not_start() {
    let ca = Authority::new();
    let (certificate, key) = ca.node(&[WORKER_NAME]);
    let result = TlsLink::new(
        vec![ca.certificate.clone()],
        vec![certificate],
        key,
        Role::Master,
    );
    let Err(error) = result else {
        panic!("a master with a worker's certificate started");
    };
    assert!(error.to_string().contains(MASTER_NAME), "{error}");
}
