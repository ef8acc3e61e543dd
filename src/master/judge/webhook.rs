//! Webhooks: when a submission with a `callback_url` finishes, the master
//! POSTs it (as `GET /api/v1/submissions/{id}` would answer it), signed, and
//! retries a failed delivery with backoff for a bounded time, recording
//! every attempt on the submission.
//!
//! The signature: `X-Braindrill-Signature: t=<unix seconds>,v1=<hex>`, the
//! HMAC-SHA256, under `judge.callback_secret`, of `<t>.<body>` (so a
//! receiver can refuse an old, replayed delivery by its `t`).
//!
//! Where a callback may go: `http` or `https` only; a host of
//! `judge.callback_hosts` when that list is set; never an address that is
//! unspecified (0.0.0.0, ::), nor the master's own cluster endpoint (its
//! address and cluster port) or the Docker engine's (a `tcp://` socket);
//! loopback only for a host the list names. The host is resolved again at each delivery and the request
//! goes to the address that was checked (no second lookup in between).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::configuration::Settings;

/// The first retry's wait; each later one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Where callbacks may go, and how they are signed and retried.
#[derive(Clone)]
pub struct CallbackPolicy {
    secret: String,
    /// Lower-case host names (or addresses) allowed; empty: any.
    hosts: Vec<String>,
    /// Endpoints never called: the master's cluster endpoint, the Docker
    /// engine's.
    forbidden: Vec<SocketAddr>,
    pub retry_for: Duration,
    pub attempt_timeout: Duration,
}

/// The outcome of one delivery attempt.
pub enum Attempt {
    /// The receiver answered with this status code.
    Answered(u16),
    /// No answer: why.
    Failed(String),
}

impl CallbackPolicy {
    /// The policy of `settings`, resolving the master's cluster address and
    /// the Docker engine's host once.
    pub async fn from_settings(settings: &Settings) -> CallbackPolicy {
        let judge = &settings.judge;
        let mut forbidden = resolve_all(&settings.cluster.ip, settings.cluster.port).await;
        if let Some(rest) = settings.sandbox.docker_socket.strip_prefix("tcp://") {
            // Docker's own default port where none is given.
            let (host, port) = rest
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host, port.trim_end_matches('/').parse().ok()?)))
                .unwrap_or((rest.trim_end_matches('/'), 2375));
            forbidden.extend(resolve_all(host, port).await);
        }
        CallbackPolicy {
            secret: judge.callback_secret.clone(),
            hosts: judge
                .callback_hosts
                .iter()
                .map(|host| host.to_ascii_lowercase())
                .collect(),
            forbidden,
            retry_for: Duration::from_secs(judge.callback_retry_s),
            attempt_timeout: Duration::from_millis(judge.callback_attempt_timeout_ms),
        }
    }

    /// Checks a callback URL as it is submitted: its form, its host against
    /// the list, and where it resolves now. The message names the problem.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        if self.secret.is_empty() {
            return Err(
                "callback_url: callbacks are off on this server (judge.callback_secret is not set)"
                    .into(),
            );
        }
        self.target(url).await.map(|_| ())
    }

    /// The URL and the address a delivery goes to, if it may go there.
    async fn target(&self, url: &str) -> Result<(reqwest::Url, String, SocketAddr), String> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|error| format!("callback_url: not a URL ({error})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("callback_url: only http and https URLs are allowed".into());
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(name)) => name.to_ascii_lowercase(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Ipv6(address)) => address.to_string(),
            None => return Err("callback_url: the URL has no host".into()),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("callback_url: credentials in the URL are not allowed".into());
        }
        let listed = self.hosts.contains(&host);
        if !self.hosts.is_empty() && !listed {
            return Err(format!(
                "callback_url: the host {host} is not in this server's allow-list (judge.callback_hosts)"
            ));
        }
        let port = parsed
            .port_or_known_default()
            .ok_or("callback_url: the URL has no port")?;
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|error| format!("callback_url: the host {host} does not resolve ({error})"))?
            .collect();
        let first = addresses
            .first()
            .copied()
            .ok_or_else(|| format!("callback_url: the host {host} resolves to no address"))?;
        for address in &addresses {
            let ip = canonical(address.ip());
            if ip.is_unspecified() {
                return Err(format!(
                    "callback_url: {host} resolves to an unspecified address"
                ));
            }
            if self.forbidden.contains(&SocketAddr::new(ip, port)) {
                return Err(format!(
                    "callback_url: {host}:{port} is the cluster's own or the Docker engine's endpoint"
                ));
            }
            if ip.is_loopback() && !listed {
                return Err(format!(
                    "callback_url: {host} resolves to a loopback address, which only a host of judge.callback_hosts may"
                ));
            }
        }
        Ok((parsed, host, first))
    }

    /// One delivery attempt of `body` to `url`.
    pub async fn attempt(&self, url: &str, submission_id: &str, body: &str) -> Attempt {
        let (parsed, host, address) = match self.target(url).await {
            Ok(target) => target,
            Err(reason) => return Attempt::Failed(reason),
        };
        let client = match reqwest::Client::builder()
            .timeout(self.attempt_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // The checked address, not a second lookup.
            .resolve(&host, address)
            .build()
        {
            Ok(client) => client,
            Err(error) => return Attempt::Failed(format!("cannot make an HTTP client: {error}")),
        };
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let signature = sign(&self.secret, timestamp, body);
        let sent = client
            .post(parsed)
            .header("content-type", "application/json")
            .header("x-braindrill-submission", submission_id)
            .header(
                "x-braindrill-signature",
                format!("t={timestamp},v1={signature}"),
            )
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(response) => Attempt::Answered(response.status().as_u16()),
            Err(error) => Attempt::Failed(format!("{error}")),
        }
    }
}

/// The wait before retry number `retry` (0 for the first).
pub fn backoff(retry: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(retry))
        .min(MAX_BACKOFF)
}

/// The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn sign(secret: &str, timestamp: u64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        other => other,
    }
}

async fn resolve_all(host: &str, port: u16) -> Vec<SocketAddr> {
    if host.is_empty() {
        return Vec::new();
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addresses) => addresses
            .map(|address| SocketAddr::new(canonical(address.ip()), port))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str]) -> CallbackPolicy {
        CallbackPolicy {
            secret: "s3cret".into(),
            hosts: hosts.iter().map(|host| host.to_string()).collect(),
            forbidden: vec!["10.1.2.3:1600".parse().expect("an address")],
            retry_for: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn refuses_what_a_callback_may_not_reach() {
        let open = policy(&[]);
        for (url, says) in [
            ("ftp://example.com/x", "only http and https"),
            ("not a url", "not a URL"),
            ("http://0.0.0.0:8080/", "unspecified"),
            ("http://[::]:8080/", "unspecified"),
            ("http://127.0.0.1:9/", "loopback"),
            ("http://[::ffff:127.0.0.1]:9/", "loopback"),
            ("http://10.1.2.3:1600/", "cluster's own"),
            ("http://user:pw@10.9.9.9/", "credentials"),
        ] {
            let error = open.check(url).await.expect_err(url);
            assert!(error.contains(says), "{url}: {error}");
        }
        let listed = policy(&["127.0.0.1"]);
        assert_eq!(listed.check("http://127.0.0.1:9/hook").await, Ok(()));
        let error = listed
            .check("http://10.9.9.9/")
            .await
            .expect_err("not listed");
        assert!(error.contains("allow-list"), "{error}");
        // Another port of the cluster's address is allowed.
        let cluster_host = policy(&["10.1.2.3"]);
        assert_eq!(cluster_host.check("http://10.1.2.3:8080/").await, Ok(()));
        let error = cluster_host
            .check("http://10.1.2.3:1600/")
            .await
            .expect_err("the cluster's endpoint");
        assert!(error.contains("cluster's own"), "{error}");
        let off = CallbackPolicy {
            secret: String::new(),
            ..policy(&["127.0.0.1"])
        };
        assert!(off.check("http://127.0.0.1:9/").await.is_err());
    }

    #[test]
    fn signs_the_timestamp_and_the_body() {
        // Against a value computed independently
        // (python3 -c "import hmac,hashlib; print(hmac.new(b'key', b'1700000000.{}', hashlib.sha256).hexdigest())").
        assert_eq!(
            sign("key", 1_700_000_000, "{}"),
            "9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(sign("key", 1, "a"), sign("key", 2, "a"));
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
