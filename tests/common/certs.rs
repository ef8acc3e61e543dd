//! TLS material for test clusters, made with rcgen: a certificate authority
//! per test process (or a stranger one) and node certificates naming a role,
//! written as the PEM files a node reads.

use std::path::Path;
use std::sync::OnceLock;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};

/// The DNS names that make a certificate a master's or a worker's
/// (`braindrill::cluster::tls`).
pub const MASTER_NAME: &str = "master.braindrill";
pub const WORKER_NAME: &str = "worker.braindrill";

pub struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub fn new() -> Authority {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Authority {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// The authority of this test process's clusters.
    pub fn shared() -> &'static Authority {
        static SHARED: OnceLock<Authority> = OnceLock::new();
        SHARED.get_or_init(Authority::new)
    }

    /// A node certificate naming `names` and its key, as PEM.
    pub fn node(&self, names: &[&str]) -> (String, String) {
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
        (certificate.pem(), key.serialize_pem())
    }

    /// Writes `ca.pem`, `node.pem` and `node.key` for a node of `role` into
    /// `dir`, and returns the environment that points a node at them.
    pub fn write_node(&self, dir: &Path, role: &str) -> Vec<(String, String)> {
        let name = if role == "worker" {
            WORKER_NAME
        } else {
            MASTER_NAME
        };
        let (certificate, key) = self.node(&[name]);
        std::fs::create_dir_all(dir).expect("secrets dir");
        let files = [
            ("ca.pem", self.pem.as_str(), "CLUSTER_TLS_CA"),
            ("node.pem", certificate.as_str(), "CLUSTER_TLS_CERT"),
            ("node.key", key.as_str(), "CLUSTER_TLS_KEY"),
        ];
        files
            .iter()
            .map(|(file, content, variable)| {
                let path = dir.join(file);
                std::fs::write(&path, content).expect("write a PEM file");
                (variable.to_string(), path.display().to_string())
            })
            .collect()
    }

    /// Writes the files of a whole local cluster as `./deploy.sh secrets`
    /// does: `ca.pem`, `master.pem`/`.key`, `worker.pem`/`.key`, `cookie`.
    pub fn write_cluster(&self, dir: &Path, cookie: &str) {
        std::fs::create_dir_all(dir).expect("secrets dir");
        std::fs::write(dir.join("ca.pem"), &self.pem).expect("write");
        for (role, name) in [("master", MASTER_NAME), ("worker", WORKER_NAME)] {
            let (certificate, key) = self.node(&[name]);
            std::fs::write(dir.join(format!("{role}.pem")), certificate).expect("write");
            std::fs::write(dir.join(format!("{role}.key")), key).expect("write");
        }
        std::fs::write(dir.join("cookie"), cookie).expect("write");
    }
}
