//! HTTP fuzzing of one standalone node (a real process on loopback): a
//! seeded stream of random methods, paths, headers and bodies, most of them
//! invalid so that they never reach Docker (the few valid executions run
//! `print(1)`), then raw-TCP abuse that an HTTP client cannot send. The node
//! must never answer 500/502 (a panic or an engine fault on bad input), must
//! answer every request in bounded time, must give API errors as
//! `{"error":{"code","message"}}` and plain-text errors with a message, and
//! must still be alive and able to run code afterwards.
//!
//! Replay a run with `BRAINDRILL_FUZZ_SEED=<seed> cargo test --test http_fuzz`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Node, client, free_port, wait_for_nodes};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Requests of one fuzz run (`BRAINDRILL_FUZZ_REQUESTS` overrides it).
const REQUESTS: usize = 400;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;
/// The longest any single request may take to be answered.
const PER_REQUEST: Duration = Duration::from_secs(30);
/// The longest the whole fuzz run of `REQUESTS` may take.
const OVERALL: Duration = Duration::from_secs(300);
/// `http.max_body_bytes` and `http.max_json_body_bytes` of the defaults.
const MAX_CODE: usize = 65_536;
const MAX_JSON: usize = 1_048_576;
/// The largest body sent.
const HUGE: usize = 1_250_000;
/// The only code that may reach Docker from `/lang/python`.
const TRIVIAL: &str = "print(1)\n";

fn requests() -> usize {
    std::env::var("BRAINDRILL_FUZZ_REQUESTS")
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(REQUESTS)
}

/// The seed of this run: `BRAINDRILL_FUZZ_SEED`, or a fresh one.
fn seed() -> u64 {
    match std::env::var("BRAINDRILL_FUZZ_SEED") {
        Ok(value) => value
            .trim()
            .parse()
            .expect("BRAINDRILL_FUZZ_SEED is an unsigned 64-bit integer"),
        Err(_) => rand::rng().random(),
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// How a case is sent: by reqwest (which normalises the URL: `..` and `.`
/// segments are resolved, unsafe bytes percent-encoded) or by hand over TCP
/// (the request target goes out byte for byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Client,
    Raw,
}

struct Case {
    index: usize,
    seed: u64,
    transport: Transport,
    method: String,
    /// The request target as generated (reqwest may normalise it).
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Which generator made the body (for the report).
    body_kind: &'static str,
}

const REAL_PATHS: &[&str] = &[
    "/lang/python",
    "/lang/python",
    "/lang/ruby",
    "/lang/java",
    "/lang/rust",
    "/health",
    "/ready",
    "/api/v1/execute",
    "/api/v1/execute",
    "/api/v1/execute",
    "/api/v1/batch",
    "/api/v1/batch",
    "/api/v1/languages",
    "/api/v1/openapi.json",
    "/",
    "/api/v1",
    "/api/v1/",
    "/lang",
    "/lang/",
];

/// The routes that take a body: most requests go to them, bodies vary.
const POST_PATHS: &[&str] = &[
    "/api/v1/execute",
    "/api/v1/execute",
    "/api/v1/execute",
    "/api/v1/batch",
    "/api/v1/batch",
    "/lang/python",
    "/lang/python",
    "/lang/bash",
    "/lang/java",
];

const METHODS: &[&str] = &[
    "GET", "POST", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
    "FOO", "post", "Get", "PROPFIND", "M-SEARCH", "BREW", "X",
];

/// Header names the client sets itself or that change the framing.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
    "te",
    "keep-alive",
    "proxy-connection",
    "trailer",
    "http2-settings",
];

const KNOWN_HEADERS: &[&str] = &[
    "content-type",
    "content-type",
    "content-type",
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cookie",
    "origin",
    "referer",
    "user-agent",
    "x-forwarded-for",
    "x-request-id",
    "range",
    "if-none-match",
    "cache-control",
    "content-encoding",
    "content-language",
    "x-braindrill-status",
    "x-http-method-override",
    "forwarded",
];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin1",
    "text/plain",
    "text/plain; charset=utf-16",
    "text/x-python",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "image/png",
    "*/*",
    "",
    ";;;",
    "application/json\u{7f}",
    "text/plain; charset=\"",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A random character from ranges that tend to break things.
fn odd_char(rng: &mut StdRng) -> char {
    let code = match rng.random_range(0..10) {
        0 => rng.random_range(0x00..0x20),
        1 | 2 => rng.random_range(0x20..0x7f),
        3 => rng.random_range(0x80..0x100),
        4 => rng.random_range(0x300..0x370),   // combining marks
        5 => rng.random_range(0x590..0x700),   // right-to-left scripts
        6 => rng.random_range(0x200b..0x2030), // zero-width and direction marks
        7 => rng.random_range(0x4e00..0x9fff), // CJK
        8 => rng.random_range(0x1f300..0x1fa00), // emoji
        _ => *pick(rng, &[0xfeff, 0xfffd, 0xffff, 0x10ffff, 0x2028, 0x0, 0x7f]),
    };
    char::from_u32(code).unwrap_or('\u{fffd}')
}

fn odd_string(rng: &mut StdRng, max: usize) -> String {
    let length = rng.random_range(0..=max);
    (0..length).map(|_| odd_char(rng)).collect()
}

fn random_bytes(rng: &mut StdRng, length: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; length];
    rng.fill(&mut bytes[..]);
    bytes
}

fn percent_junk(rng: &mut StdRng) -> String {
    let count = rng.random_range(1..12);
    (0..count)
        .map(|_| match rng.random_range(0..8) {
            0 => "%".to_string(),
            1 => "%G1".to_string(),
            2 => "%00".to_string(),
            3 => "%2F".to_string(),
            4 => "%2e%2e".to_string(),
            _ => format!("%{:02X}", rng.random::<u8>()),
        })
        .collect()
}

/// The segment after `/lang/`.
fn lang_segment(rng: &mut StdRng) -> String {
    match rng.random_range(0..9) {
        0 => odd_string(rng, 40),
        1 => percent_junk(rng),
        2 => pick(
            rng,
            &[
                "python%00",
                "python%20",
                "PYTHON",
                "python3",
                "pyth%6Fn",
                "py%00thon",
                "%70%79%74%68%6f%6e",
                "python;",
                "python.",
                "..",
                ".",
                "%2e%2e",
                "java-compiled%2F..",
                "ghost",
                "%E2%80%AEnohtyp",
            ],
        )
        .to_string(),
        3 => "a".repeat(rng.random_range(1_000..20_000)),
        4 => String::new(),
        5 => format!("{}{}", odd_string(rng, 5), percent_junk(rng)),
        6 => format!("python/{}", odd_string(rng, 8)),
        _ => {
            let length = rng.random_range(1..16);
            (0..length)
                .map(|_| *pick(rng, b"abcdefghijklmnopqrstuvwxyz0123456789-_.~") as char)
                .collect()
        }
    }
}

fn mutate_path(rng: &mut StdRng, path: &str) -> String {
    let mut path = path.to_string();
    for _ in 0..rng.random_range(1..=3) {
        match rng.random_range(0..13) {
            0 => path = path.to_uppercase(),
            1 => path.push('/'),
            2 => path = path.replacen('/', "//", 1),
            3 => path = path.replace('/', "//"),
            4 => {
                let query = match rng.random_range(0..4) {
                    0 => "language=python&code=print(1)".to_string(),
                    1 => "a".repeat(rng.random_range(100..8_000)),
                    2 => percent_junk(rng),
                    _ => odd_string(rng, 20),
                };
                path = format!("{path}?{query}");
            }
            5 => path.push_str("%00"),
            6 => {
                let at = path.rfind('/').unwrap_or(0);
                path.insert_str(at, "/%00");
            }
            7 => {
                let at = path.rfind('/').unwrap_or(0);
                path.insert_str(
                    at,
                    pick::<&str>(rng, &["/..", "/.", "/../..", "/x/..", "/%2e%2e"]),
                );
            }
            8 => {
                if path.len() > 1 {
                    let cut = rng.random_range(1..path.len());
                    if path.is_char_boundary(cut) {
                        path.truncate(cut);
                    }
                }
            }
            9 => {
                // Percent-encode one ASCII letter.
                let letters: Vec<usize> = path
                    .char_indices()
                    .filter(|(_, c)| c.is_ascii_alphanumeric())
                    .map(|(at, _)| at)
                    .collect();
                if !letters.is_empty() {
                    let at = *pick(rng, &letters);
                    let byte = path.as_bytes()[at];
                    path.replace_range(at..at + 1, &format!("%{byte:02x}"));
                }
            }
            10 => path = format!("{path}/{}", lang_segment(rng)),
            11 => path = path.replace('/', "%2F"),
            _ => path.push_str(";jsessionid=1"),
        }
    }
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    path
}

fn random_path(rng: &mut StdRng) -> String {
    match rng.random_range(0..30) {
        0..=9 | 27..=29 => pick(rng, POST_PATHS).to_string(),
        10..=12 => pick(rng, REAL_PATHS).to_string(),
        13..=15 => {
            let base = *pick(rng, REAL_PATHS);
            mutate_path(rng, base)
        }
        16..=18 => format!("/lang/{}", lang_segment(rng)),
        19 => {
            // Very long, but below the 64 KiB a URI may have.
            let segment = *pick(rng, &["a", "lang/", "../", "%41", "api/v1/"]);
            let length = rng.random_range(2_000..60_000);
            let mut path = String::from("/");
            while path.len() < length {
                path.push_str(segment);
            }
            path
        }
        20..=22 => pick(
            rng,
            &[
                "/lang/../health",
                "/lang/../lang/python",
                "/api/v1/../../etc/passwd",
                "/..",
                "/../../../../etc/passwd",
                "/lang/%2e%2e/python",
                "/./health",
                "/api/v1/./execute",
                "/api/v1/execute/..",
                "//api/v1/execute",
                "/api//v1/execute",
                "/lang//python",
                "/health%00",
                "/%00",
                "/api/v1/execute%00",
                "/lang/python%00/x",
                "/api/v1/nope",
                "/api/v2/execute",
                "/api/v1/execute/",
                "/health/",
                "/lang/python/",
                "/lang/python/extra",
                "/*",
                "/%",
                "/%%",
            ],
        )
        .to_string(),
        23 | 24 => {
            let base = *pick(rng, POST_PATHS);
            mutate_path(rng, base)
        }
        _ => format!("/{}", odd_string(rng, 30)),
    }
}

fn random_header_name(rng: &mut StdRng) -> String {
    loop {
        let name = if rng.random_bool(0.6) {
            pick(rng, KNOWN_HEADERS).to_string()
        } else {
            let length = rng.random_range(1..40);
            (0..length)
                .map(|_| *pick(rng, b"abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~") as char)
                .collect()
        };
        if !RESERVED_HEADERS.contains(&name.as_str()) {
            return name;
        }
    }
}

/// A header value as HTTP allows it: tab, visible ASCII and obs-text.
fn random_header_value(rng: &mut StdRng, name: &str) -> Vec<u8> {
    if name == "content-type" && rng.random_bool(0.8) {
        return pick(rng, CONTENT_TYPES)
            .bytes()
            .filter(|byte| *byte != 0x7f)
            .collect();
    }
    let length = match rng.random_range(0..10) {
        0 => 0,
        1 => rng.random_range(1_024..8_192),
        _ => rng.random_range(1..64),
    };
    let ascii_only = rng.random_bool(0.7);
    (0..length)
        .map(|_| {
            loop {
                let byte: u8 = rng.random();
                let fine =
                    byte == b'\t' || (0x20..0x7f).contains(&byte) || (!ascii_only && byte >= 0x80);
                if fine {
                    break byte;
                }
            }
        })
        .collect()
}

fn random_headers(rng: &mut StdRng) -> Vec<(String, Vec<u8>)> {
    let count = match rng.random_range(0..10) {
        0 => rng.random_range(20..40),
        1..=3 => 0,
        _ => rng.random_range(1..6),
    };
    (0..count)
        .map(|_| {
            let name = random_header_name(rng);
            let value = random_header_value(rng, &name);
            (name, value)
        })
        .collect()
}

/// A JSON value that no field of the API expects.
fn odd_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(1.5),
        4 => json!(u64::MAX),
        5 => json!(i64::MIN),
        6 => json!([]),
        7 => json!({}),
        8 => json!([1, "a", null, {"k": []}]),
        9 => json!({"language": "python", "code": "print(1)"}),
        10 => json!(odd_string(rng, 20)),
        _ => json!(""),
    }
}

/// Number literals, some of them not JSON at all, put into the text as they
/// are (a `Value` cannot hold most of them).
const ODD_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1",
    "8",
    "7",
    "1.5",
    "1e2",
    "1e400",
    "-1e400",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999999999999999",
    "0.0000000001",
    "NaN",
    "Infinity",
    "0x10",
    "01",
    "1_000",
    "+1",
    "\"100\"",
    "null",
];

/// Values to splice in as raw text: a marker string stands in for each in
/// the `Value` and is replaced after serialisation.
struct Raw(Vec<String>);

impl Raw {
    fn marker(&mut self, text: String) -> Value {
        self.0.push(text);
        json!(format!("@@RAW{}@@", self.0.len() - 1))
    }

    fn render(&self, value: &Value) -> Vec<u8> {
        let mut text = value.to_string();
        for (index, raw) in self.0.iter().enumerate() {
            text = text.replace(&format!("\"@@RAW{index}@@\""), raw);
        }
        text.into_bytes()
    }
}

fn nested(depth: usize, open: &str, close: &str) -> String {
    let mut text = String::with_capacity(depth * (open.len() + close.len()) + 1);
    for _ in 0..depth {
        text.push_str(open);
    }
    text.push('1');
    for _ in 0..depth {
        text.push_str(close);
    }
    text
}

fn deep(rng: &mut StdRng, raw: &mut Raw) -> Value {
    let depth = *pick(rng, &[10, 127, 128, 129, 1_000, 100_000]);
    let (open, close) = *pick(rng, &[("[", "]"), ("{\"a\":", "}")]);
    raw.marker(nested(depth, open, close))
}

fn odd_files(rng: &mut StdRng) -> Value {
    let file = |name: Value| json!({"name": name, "content": "print(1)"});
    match rng.random_range(0..13) {
        // Valid names, one a folder of another (or of the entry point).
        12 => match rng.random_range(0..4) {
            0 => json!([file(json!("main.py")), file(json!("a")), file(json!("a/b"))]),
            1 => json!([file(json!("main.py")), file(json!("a/b")), file(json!("a"))]),
            2 => json!([file(json!("x.py")), file(json!("main.py/b"))]),
            _ => json!([
                file(json!("main.py")),
                file(json!("d/e.py")),
                file(json!("d/e.py/f"))
            ]),
        },
        0 => json!([]),
        1 => json!([file(json!("main.py"))]),
        2 => {
            let name = *pick(
                rng,
                &[
                    "../main.py",
                    "/etc/passwd",
                    "a\u{0}b",
                    "",
                    ".",
                    "..",
                    "a/../../b",
                    "dir/",
                    "\\evil",
                    " ",
                    "main.py\n",
                    "./main.py",
                    "~",
                ],
            );
            json!([file(json!("main.py")), file(json!(name))])
        }
        3 => json!([file(json!("x".repeat(rng.random_range(200..5_000))))]),
        4 => json!([file(json!("a.py")), file(json!("a.py"))]),
        5 => Value::Array((0..33).map(|i| file(json!(format!("f{i}.py")))).collect()),
        6 => json!([{"name": 1, "content": "print(1)"}]),
        7 => json!([{"name": "main.py"}]),
        8 => json!([{"name": "main.py", "content": "print(1)", "mode": 493}]),
        9 => json!([file(json!(odd_string(rng, 12)))]),
        10 => json!([null]),
        _ => odd_value(rng),
    }
}

fn odd_args(rng: &mut StdRng) -> Value {
    match rng.random_range(0..8) {
        0 => Value::Array((0..65).map(|i| json!(i.to_string())).collect()),
        1 => json!(["a\u{0}b"]),
        2 => json!(["x".repeat(4_097)]),
        3 => json!([["nested"]]),
        4 => json!([1, 2]),
        5 => json!([null]),
        6 => json!([odd_string(rng, 20), "--help", "-c", "$(id)"]),
        _ => odd_value(rng),
    }
}

fn odd_limits(rng: &mut StdRng, raw: &mut Raw) -> Value {
    if rng.random_bool(0.15) {
        return odd_value(rng);
    }
    let mut limits = serde_json::Map::new();
    for _ in 0..rng.random_range(1..=4) {
        let field = *pick(
            rng,
            &[
                "timeout_ms",
                "compile_timeout_ms",
                "memory_mb",
                "output_bytes",
                "cpus",
                "pids",
                "TIMEOUT_MS",
            ],
        );
        let number = pick(rng, ODD_NUMBERS).to_string();
        limits.insert(field.to_string(), raw.marker(number));
    }
    Value::Object(limits)
}

fn odd_code(rng: &mut StdRng) -> Value {
    match rng.random_range(0..7) {
        0 => json!(""),
        1 => json!("print(1)\u{0}"),
        2 => json!(format!("print(1)\n#{}", odd_string(rng, 40))),
        // Over the code limit, under the body limit: refused before Docker.
        3 => json!(format!(
            "print(1)\n#{}",
            "#".repeat(rng.random_range(MAX_CODE..MAX_JSON - 1_000))
        )),
        4 => json!("print('\u{e9}\u{1f600}')"),
        _ => odd_value(rng),
    }
}

fn mutate_execute(rng: &mut StdRng, raw: &mut Raw, value: &mut Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    let key = |rng: &mut StdRng| {
        pick(
            rng,
            &[
                "language", "code", "files", "stdin", "args", "limits", "Language", "",
            ],
        )
        .to_string()
    };
    match rng.random_range(0..14) {
        0 => {
            let name = key(rng);
            object.remove(&name);
        }
        1 => {
            let language = match rng.random_range(0..4) {
                0 => odd_value(rng),
                1 => json!(odd_string(rng, 30)),
                2 => json!("x".repeat(rng.random_range(1_000..100_000))),
                _ => json!(*pick(
                    rng,
                    &[
                        "PYTHON",
                        "python\u{0}",
                        "../python",
                        " python",
                        "ghost",
                        "python3"
                    ]
                )),
            };
            object.insert("language".into(), language);
        }
        2 => {
            let code = odd_code(rng);
            object.insert("code".into(), code);
        }
        3 => {
            let name = if rng.random_bool(0.5) {
                odd_string(rng, 12)
            } else {
                pick(
                    rng,
                    &["timeout", "image", "cmd", "user", "privileged", "__proto__"],
                )
                .to_string()
            };
            let value = odd_value(rng);
            object.insert(name, value);
        }
        4 => {
            if rng.random_bool(0.6) {
                object.remove("code");
            }
            let files = odd_files(rng);
            object.insert("files".into(), files);
        }
        5 => {
            let stdin = match rng.random_range(0..3) {
                0 => odd_value(rng),
                1 => json!("s".repeat(rng.random_range(MAX_CODE + 1..200_000))),
                _ => json!(odd_string(rng, 50)),
            };
            object.insert("stdin".into(), stdin);
        }
        6 => {
            let args = odd_args(rng);
            object.insert("args".into(), args);
        }
        7 | 8 => {
            let limits = odd_limits(rng, raw);
            object.insert("limits".into(), limits);
        }
        9 => {
            let name = key(rng);
            let value = deep(rng, raw);
            object.insert(name, value);
        }
        10 => {
            let name = key(rng);
            object.insert(name, Value::Null);
        }
        11 => *value = odd_value(rng),
        12 => {
            let name = key(rng);
            let number = pick(rng, ODD_NUMBERS).to_string();
            let value = raw.marker(number);
            object.insert(name, value);
        }
        _ => {
            let language = json!(pick(
                rng,
                &["pyth\u{f6}n", "\u{1d429}ython", "python\u{200b}"]
            ));
            object.insert("language".into(), language);
        }
    }
}

fn execute_value(rng: &mut StdRng, raw: &mut Raw) -> Value {
    let mut value = json!({"language": "python", "code": "print(1)"});
    for _ in 0..rng.random_range(1..=3) {
        mutate_execute(rng, raw, &mut value);
    }
    value
}

fn batch_value(rng: &mut StdRng, raw: &mut Raw) -> Value {
    match rng.random_range(0..8) {
        0 => json!({"executions": []}),
        1 => {
            let one = json!({"language": "python", "code": "print(1)"});
            json!({"executions": vec![one; 21]})
        }
        2 => json!({"executions": odd_value(rng)}),
        3 => json!({"executions": [], "extra": 1}),
        4 => json!({}),
        5 => {
            let value = deep(rng, raw);
            json!({ "executions": value })
        }
        _ => {
            let count = rng.random_range(1..=3);
            let executions: Vec<Value> = (0..count).map(|_| execute_value(rng, raw)).collect();
            json!({ "executions": executions })
        }
    }
}

/// Byte-level damage to a serialised body.
fn damage(rng: &mut StdRng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..=3) {
        let length = bytes.len();
        match rng.random_range(0..8) {
            0 if length > 0 => {
                let at = rng.random_range(0..length);
                bytes[at] = rng.random();
            }
            1 => {
                let at = rng.random_range(0..=length);
                let count = rng.random_range(1..8);
                let junk = random_bytes(rng, count);
                bytes.splice(at..at, junk);
            }
            2 if length > 1 => {
                let from = rng.random_range(0..length);
                let to = rng.random_range(from..=length);
                bytes.drain(from..to);
            }
            3 if length > 1 => bytes.truncate(rng.random_range(0..length)),
            4 => {
                let mut with_bom = vec![0xef, 0xbb, 0xbf];
                with_bom.extend_from_slice(&bytes);
                bytes = with_bom;
            }
            5 => {
                let tails: [&[u8]; 5] = [b" garbage", b"}", b",", b"\0", b"{}"];
                bytes.extend_from_slice(pick::<&[u8]>(rng, &tails));
            }
            6 => {
                let mut wrapped = b"[".to_vec();
                wrapped.extend_from_slice(&bytes);
                wrapped.push(b']');
                bytes = wrapped;
            }
            _ => bytes.extend_from_slice(b"\n//comment"),
        }
    }
    bytes
}

/// Text that is not UTF-8.
fn invalid_utf8(rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = b"print(1)\n".to_vec();
    let bads: [&[u8]; 7] = [
        &[0xff],
        &[0xc3, 0x28],
        &[0xed, 0xa0, 0x80],
        &[0xc0, 0xaf],
        &[0xf8, 0x88, 0x80, 0x80, 0x80],
        &[0xe2, 0x82],
        &[0x80],
    ];
    let bad = *pick(rng, &bads);
    let at = rng.random_range(0..=bytes.len());
    bytes.splice(at..at, bad.iter().copied());
    bytes
}

fn huge(rng: &mut StdRng, at_least: usize) -> Vec<u8> {
    let length = rng.random_range(at_least + 1..=HUGE);
    match rng.random_range(0..3) {
        0 => random_bytes(rng, length),
        1 => {
            let mut code = TRIVIAL.as_bytes().to_vec();
            code.resize(length, b'#');
            code
        }
        _ => vec![b'{'; length],
    }
}

fn random_body(rng: &mut StdRng, target: &str) -> (&'static str, Vec<u8>) {
    let api = target.contains("api");
    let batch = target.contains("batch");
    let weights = if api { 9 } else { 2 };
    match rng.random_range(0..8 + weights) {
        0 => ("empty", Vec::new()),
        1 => {
            let length = rng.random_range(1..4_096);
            ("random bytes", random_bytes(rng, length))
        }
        2 => ("invalid utf-8", invalid_utf8(rng)),
        3 => {
            let at_least = if api { MAX_JSON } else { MAX_CODE };
            ("huge", huge(rng, at_least))
        }
        4 => ("unicode", odd_string(rng, 200).into_bytes()),
        5 => ("trivial code", TRIVIAL.as_bytes().to_vec()),
        6 => {
            // Exactly at or just past the code limit.
            let mut code = TRIVIAL.as_bytes().to_vec();
            code.resize(MAX_CODE + rng.random_range(0..2), b'#');
            ("code at the limit", code)
        }
        7 => ("json scalar", odd_value(rng).to_string().into_bytes()),
        _ => {
            let mut raw = Raw(Vec::new());
            let value = if batch || (!api && rng.random_bool(0.3)) {
                batch_value(rng, &mut raw)
            } else {
                execute_value(rng, &mut raw)
            };
            let bytes = raw.render(&value);
            if rng.random_bool(0.25) {
                ("damaged json", damage(rng, bytes))
            } else {
                ("json", bytes)
            }
        }
    }
}

/// Requests every run sends first, whatever the seed: the shapes that found
/// problems before, and the limits' edges.
fn corpus() -> Vec<Case> {
    let case = |method: &str, target: &str, kind: &'static str, body: Vec<u8>| Case {
        index: 0,
        seed: 0,
        transport: Transport::Client,
        method: method.to_string(),
        target: target.to_string(),
        headers: vec![("content-type".to_string(), b"application/json".to_vec())],
        body,
        body_kind: kind,
    };
    let json = |value: Value| value.to_string().into_bytes();
    let file = |name: &str| json!({"name": name, "content": "print(1)"});
    let padded = |length: usize| {
        let mut code = TRIVIAL.as_bytes().to_vec();
        code.resize(length, b'#');
        code
    };
    let at_json_limit = |length: usize| {
        let mut body = br#"{"language":"python","code":"print(1)"}"#.to_vec();
        body.resize(length, b' ');
        body
    };
    let mut deep = String::from(r#"{"language":"python","code":"print(1)","args":"#);
    deep.push_str(&nested(100_000, "[", "]"));
    deep.push('}');
    let conflicts = [
        json!([file("main.py"), file("a"), file("a/b")]),
        json!([file("x.py"), file("main.py/b")]),
    ];
    let mut cases = Vec::new();
    for files in &conflicts {
        cases.push(case(
            "POST",
            "/api/v1/execute",
            "files: one name a folder of another",
            json(json!({"language": "python", "files": files})),
        ));
        cases.push(case(
            "POST",
            "/api/v1/batch",
            "files: one name a folder of another",
            json(json!({"executions": [{"language": "python", "files": files}]})),
        ));
    }
    cases.extend([
        case("GET", "/api/v1/execute", "empty", Vec::new()),
        case("DELETE", "/api/v1/batch", "empty", Vec::new()),
        case("POST", "/api/v1/languages", "empty", Vec::new()),
        case("GET", "/lang/python", "empty", Vec::new()),
        case("POST", "/api/v1/nowhere", "empty", Vec::new()),
        case("POST", "/api/v1/execute", "deep json", deep.into_bytes()),
        case(
            "POST",
            "/api/v1/execute",
            "json",
            json(json!({
                "language": "python",
                "code": "print(1)",
                "limits": {"memory_mb": u64::MAX, "timeout_ms": 0},
            })),
        ),
        case(
            "POST",
            "/api/v1/execute",
            "json at the limit",
            at_json_limit(MAX_JSON),
        ),
        case(
            "POST",
            "/api/v1/execute",
            "json past the limit",
            at_json_limit(MAX_JSON + 1),
        ),
        case(
            "POST",
            "/lang/python",
            "code at the limit",
            padded(MAX_CODE),
        ),
        case(
            "POST",
            "/lang/python",
            "code past the limit",
            padded(MAX_CODE + 1),
        ),
    ]);
    cases
}

fn generate(index: usize, seed: u64) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    let target = random_path(&mut rng);
    let takes_body = target.starts_with("/lang/")
        || target.starts_with("/api/v1/execute")
        || target.starts_with("/api/v1/batch");
    let method = if takes_body && rng.random_bool(0.8) {
        "POST".to_string()
    } else if !takes_body && rng.random_bool(0.4) {
        "GET".to_string()
    } else {
        pick(&mut rng, METHODS).to_string()
    };
    let headers = random_headers(&mut rng);
    let (body_kind, body) = if method == "GET" && rng.random_bool(0.7) {
        ("empty", Vec::new())
    } else {
        random_body(&mut rng, &target)
    };
    // Dot segments survive only by hand (reqwest resolves them); some other
    // cases go by hand too.
    let dots = target.contains("/.") || target.contains("%2e") || target.contains("%2E");
    let transport = if dots || rng.random_bool(0.15) {
        Transport::Raw
    } else {
        Transport::Client
    };
    let mut case = Case {
        index,
        seed,
        transport,
        method,
        target,
        headers,
        body,
        body_kind,
    };
    if case.transport == Transport::Raw {
        case.target = raw_target(&case.target);
    }
    keep_cheap(&mut case);
    case
}

/// Only the bytes a request target may hold go out as they are; the rest is
/// percent-encoded (a malformed request line is a case of its own below).
fn raw_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for byte in target.bytes() {
        let fine =
            matches!(byte, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x5F | 0x61..=0x7A | 0x7C | 0x7E);
        if fine {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |byte: u8| (byte as char).to_digit(16);
        if bytes[at] == b'%'
            && at + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[at + 1]), hex(bytes[at + 2]))
        {
            out.push((high * 16 + low) as u8);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

/// The path the server routes on: reqwest's normalised URL, or the raw one.
fn routed_path(case: &Case, port: u16) -> String {
    match case.transport {
        Transport::Raw => case
            .target
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string(),
        Transport::Client => {
            reqwest::Url::parse(&format!("http://127.0.0.1:{port}{}", case.target))
                .map(|url| url.path().to_string())
                .unwrap_or_else(|_| case.target.clone())
        }
    }
}

/// The language a `POST` would run in, if it would run at all.
fn runs_in(case: &Case) -> Option<String> {
    if case.method != "POST" {
        return None;
    }
    let path = routed_path(case, 1);
    let segment = path.strip_prefix("/lang/")?;
    if segment.contains('/') {
        return None;
    }
    String::from_utf8(percent_decode(segment)).ok()
}

/// Only `print(1)` (padded with comments) may reach Docker from `/lang/*`;
/// anything else that would run is made invalid UTF-8 first.
fn keep_cheap(case: &mut Case) {
    let Some(language) = runs_in(case) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(&case.body) else {
        return;
    };
    if text.is_empty() || text.len() > MAX_CODE {
        return;
    }
    let trivial = text.starts_with(TRIVIAL) && text[TRIVIAL.len()..].bytes().all(|b| b == b'#');
    if language == "python" && trivial {
        return;
    }
    if language == "python" && text.len() < 1_000 {
        case.body = TRIVIAL.as_bytes().to_vec();
        case.body_kind = "trivial code";
    } else {
        case.body.insert(0, 0xff);
    }
}

// ---------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn fuzz_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        // A fresh connection per request: one the server closed after an
        // early answer is never reused.
        .pool_max_idle_per_host(0)
        .timeout(PER_REQUEST)
        .build()
        .expect("http client")
}

async fn send_client(http: &reqwest::Client, port: u16, case: &Case) -> Result<Answer, String> {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).map_err(|e| e.to_string())?;
    let url = format!("http://127.0.0.1:{port}{}", case.target);
    let mut request = http.request(method, &url);
    for (name, value) in &case.headers {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_bytes(value),
        ) {
            request = request.header(name, value);
        }
    }
    if !case.body.is_empty() {
        request = request.body(case.body.clone());
    }
    let response = request.send().await.map_err(|error| format!("{error:?}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .bytes()
        .await
        .map_err(|error| format!("reading the body: {error:?}"))?;
    Ok(Answer {
        status,
        headers,
        body: body.to_vec(),
    })
}

fn raw_request(case: &Case, port: u16) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n",
        case.method, case.target
    )
    .into_bytes();
    for (name, value) in &case.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    if !case.body.is_empty() {
        head.extend_from_slice(format!("content-length: {}\r\n", case.body.len()).as_bytes());
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    head.extend_from_slice(&case.body);
    head
}

/// Writes `request` (a write error is not fatal: the server may answer
/// early and close) and reads until the server closes.
async fn exchange(port: u16, request: &[u8]) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|error| format!("connect: {error}"))?;
    let write_error = stream.write_all(request).await.err();
    let mut received = Vec::new();
    match stream.read_to_end(&mut received).await {
        Ok(_) => {}
        Err(error) if received.is_empty() => {
            return Err(format!(
                "read: {error} (write: {})",
                write_error.map_or("ok".to_string(), |e| e.to_string())
            ));
        }
        Err(_) => {}
    }
    if received.is_empty() {
        return Err(format!(
            "the connection closed without an answer (write: {})",
            write_error.map_or("ok".to_string(), |e| e.to_string())
        ));
    }
    Ok(received)
}

/// Parses the first HTTP/1.x response in `bytes`.
fn parse_response(bytes: &[u8]) -> Result<(Answer, usize), String> {
    let end = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete head in {:?}", excerpt(bytes)))?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let rest = &bytes[end + 4..];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(held, _)| held == name)
            .map(|(_, value)| value.clone())
    };
    let (body, used) = if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| "bad content-length")?;
        let length = length.min(rest.len());
        (rest[..length].to_vec(), length)
    } else if header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        let mut body = Vec::new();
        let mut at = 0;
        while let Some(line_end) = rest[at..].windows(2).position(|w| w == b"\r\n") {
            let size_text = String::from_utf8_lossy(&rest[at..at + line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            at += line_end + 2;
            if size == 0 {
                at = (at + 2).min(rest.len());
                break;
            }
            let stop = (at + size).min(rest.len());
            body.extend_from_slice(&rest[at..stop]);
            at = (stop + 2).min(rest.len());
        }
        (body, at)
    } else {
        (rest.to_vec(), rest.len())
    };
    Ok((
        Answer {
            status,
            headers,
            body,
        },
        end + 4 + used,
    ))
}

async fn send_raw(port: u16, case: &Case) -> Result<Answer, String> {
    let received = exchange(port, &raw_request(case, port)).await?;
    parse_response(&received).map(|(answer, _)| answer)
}

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut short: String = text.chars().take(240).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn short(text: &str) -> String {
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push_str(&format!("…({} bytes)", text.len()));
    }
    short
}

/// What is wrong with `answer` to `case`, if anything.
fn judge(case: &Case, path: &str, answer: &Answer) -> Option<String> {
    let status = answer.status;
    let fault = |status: u64| status >= 500 && status != 503 && status != 504;
    if fault(status.into()) {
        return Some(format!("status {status} (an engine fault or a panic)"));
    }
    if status == 200 && path == "/api/v1/batch" {
        let json: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        let items = json["results"].as_array().cloned().unwrap_or_default();
        for item in items {
            let item_status = item["http_status"].as_u64().unwrap_or(0);
            if fault(item_status) {
                return Some(format!(
                    "a batch item with status {item_status} (an engine fault or a panic)"
                ));
            }
        }
    }
    // Statuses only the HTTP layer gives: no room for a body of ours.
    let protocol = matches!(status, 414 | 431);
    if !(400..500).contains(&status) || case.method == "HEAD" || protocol {
        return None;
    }
    if path.starts_with("/api/v1/") {
        let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let error = json.as_ref().map(|json| &json["error"]);
        let code = error.and_then(|e| e["code"].as_str()).unwrap_or_default();
        let message = error
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default();
        if code.is_empty() || message.trim().is_empty() {
            return Some(format!(
                "a {status} from the API without {{\"error\":{{\"code\",\"message\"}}}}"
            ));
        }
    } else if path.starts_with("/lang/") && String::from_utf8_lossy(&answer.body).trim().is_empty()
    {
        return Some(format!("a {status} from /lang/* without a message"));
    }
    None
}

/// Failures grouped by kind, each with its requests.
#[derive(Default)]
struct Failures(BTreeMap<String, Vec<String>>);

impl Failures {
    fn add(&mut self, problem: impl Into<String>, detail: impl Into<String>) {
        self.0
            .entry(problem.into())
            .or_default()
            .push(detail.into());
    }

    fn count(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    /// Every kind with its count and its first few requests.
    fn report(&self) -> String {
        let mut text = String::new();
        for (problem, details) in &self.0 {
            text.push_str(&format!("\n  {} x {problem}", details.len()));
            for detail in details.iter().take(4) {
                text.push_str(&format!("\n    - {}", detail.replace('\n', "\n      ")));
            }
            if details.len() > 4 {
                text.push_str(&format!("\n    - ... and {} more", details.len() - 4));
            }
        }
        text
    }
}

struct Outcome {
    case: Case,
    path: String,
    result: Result<Answer, String>,
    took: Duration,
}

fn describe(outcome: &Outcome, seed: u64) -> String {
    let case = &outcome.case;
    let (status, body, allow) = match &outcome.result {
        Ok(answer) => {
            let allow = answer
                .headers
                .iter()
                .find(|(name, _)| name == "allow")
                .map(|(_, value)| format!(" allow={value}"))
                .unwrap_or_default();
            (answer.status.to_string(), excerpt(&answer.body), allow)
        }
        Err(error) => ("-".to_string(), error.clone(), String::new()),
    };
    let header_names: Vec<&str> = case.headers.iter().map(|(name, _)| name.as_str()).collect();
    let origin = if case.seed == 0 {
        format!("a fixed case, run seed {seed}")
    } else {
        format!("case seed {}, run seed {seed}", case.seed)
    };
    format!(
        "request #{} ({:?}, {origin}): {} {:?} (routed as {:?}), headers {:?}, \
         body {} of {} bytes: {:?}\nanswer after {:?}: status {status}{allow}, body {:?}",
        case.index,
        case.transport,
        case.method,
        short(&case.target),
        short(&outcome.path),
        header_names,
        case.body_kind,
        case.body.len(),
        excerpt(&case.body[..case.body.len().min(160)]),
        outcome.took,
        body
    )
}

async fn assert_alive(http: &reqwest::Client, node: &mut Node, after: &str) {
    let health = tokio::time::timeout(Duration::from_secs(10), async {
        let response = http.get(node.url("/health")).send().await?;
        let status = response.status().as_u16();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    })
    .await;
    match health {
        Ok(Ok((200, body))) if body == "ok" => {}
        other => panic!(
            "after {after}: GET /health did not answer 200 \"ok\": {other:?}; process: {:?}",
            node.exit_status()
        ),
    }
}

async fn run_trivial(http: &reqwest::Client, node: &Node) -> (u16, String) {
    let response = http
        .post(node.url("/lang/python"))
        .header("content-type", "text/plain")
        .body("print(1)")
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn standalone() -> Node {
    let node = Node::start("standalone", free_port(), 1, free_port(), &[]);
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    node
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_requests_never_break_the_gateway() {
    let seed = seed();
    eprintln!("http fuzz: seed {seed} (replay with BRAINDRILL_FUZZ_SEED={seed})");
    let mut node = standalone().await;
    let port = node.http_port;
    let http = fuzz_client();
    // The first language listing reads every image's version (containers,
    // once per node): done here, so that no fuzz request waits for it.
    let listing = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(180))
        .build()
        .expect("http client")
        .get(node.url("/api/v1/languages"))
        .send()
        .await
        .expect("the language listing answers");
    assert_eq!(listing.status().as_u16(), 200, "GET /api/v1/languages");
    let started = Instant::now();

    let mut seeds = StdRng::seed_from_u64(seed);
    let fixed = corpus();
    let requests = fixed.len() + requests();
    let sources: Vec<(usize, Result<Case, u64>)> = fixed
        .into_iter()
        .map(Ok)
        .chain((0..).map(|_| Err(seeds.random())))
        .take(requests)
        .enumerate()
        .collect();
    let http_for_cases = http.clone();
    let mut answers = futures_util::stream::iter(sources)
        .map(move |(index, source)| {
            let http = http_for_cases.clone();
            async move {
                let case = match source {
                    Ok(fixed) => Case { index, ..fixed },
                    Err(case_seed) => generate(index, case_seed),
                };
                let path = routed_path(&case, port);
                let began = Instant::now();
                let sent = async {
                    match case.transport {
                        Transport::Client => send_client(&http, port, &case).await,
                        Transport::Raw => send_raw(port, &case).await,
                    }
                };
                let result = match tokio::time::timeout(PER_REQUEST, sent).await {
                    Ok(result) => result,
                    Err(_) => Err(format!("no answer within {PER_REQUEST:?}")),
                };
                Outcome {
                    case,
                    path,
                    result,
                    took: began.elapsed(),
                }
            }
        })
        .buffer_unordered(CONCURRENCY);

    // A longer run (BRAINDRILL_FUZZ_REQUESTS) gets proportionally longer.
    let overall = OVERALL.max(OVERALL * requests as u32 / REQUESTS as u32);
    let deadline = started + overall;
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Failures::default();
    let mut executions = 0;
    let mut done = 0;
    let mut slowest = Duration::ZERO;
    let mut slowest_request = String::new();
    loop {
        let next = match tokio::time::timeout_at(deadline, answers.next()).await {
            Ok(next) => next,
            Err(_) => {
                failures.add(
                    format!("the run did not finish within {overall:?}"),
                    format!("{done} of {requests} answered"),
                );
                break;
            }
        };
        let Some(outcome) = next else { break };
        done += 1;
        if outcome.took > slowest {
            slowest = outcome.took;
            slowest_request = describe(&outcome, seed);
        }
        match &outcome.result {
            Ok(answer) => {
                *tally.entry(answer.status.to_string()).or_default() += 1;
                let ran = answer
                    .headers
                    .iter()
                    .any(|(name, _)| name == "x-braindrill-status")
                    || (answer.status == 200 && outcome.path.ends_with("/execute"));
                if ran {
                    executions += 1;
                }
                if let Some(problem) = judge(&outcome.case, &outcome.path, answer) {
                    failures.add(problem, describe(&outcome, seed));
                }
            }
            Err(error) => {
                // HTTP/1.1 lets a server answer and close before it has
                // read a body it refuses: a client still writing a large
                // body then sees a broken pipe. That is a refusal, not a
                // failure.
                let refused_early = outcome.case.body.len() > 64 * 1024
                    && error.contains("BodyWrite")
                    && (error.contains("BrokenPipe") || error.contains("ConnectionReset"));
                let key = if error.starts_with("no answer within") {
                    "timeout"
                } else if refused_early {
                    "closed while sending a large body"
                } else {
                    "transport error"
                };
                *tally.entry(key.to_string()).or_default() += 1;
                if !refused_early {
                    failures.add(format!("no HTTP answer: {key}"), describe(&outcome, seed));
                }
            }
        }
    }
    drop(answers);
    let fuzz_time = started.elapsed();

    // The process survived and still runs code.
    let exited = node.exit_status();
    if let Some(status) = exited {
        failures.add("the node exited during the fuzzing", status.to_string());
    } else {
        assert_alive(&http, &mut node, "the fuzzing").await;
        let (status, body) = run_trivial(&http, &node).await;
        if (status, body.as_str()) != (200, "1\n") {
            failures.add(
                "after the fuzzing, POST /lang/python print(1) is not 200 \"1\\n\"",
                format!("{status} {body:?}"),
            );
        }
        if let Some(status) = node.exit_status() {
            failures.add("the node exited after the fuzzing", status.to_string());
        }
    }
    let log = node.log_text();
    if let Some(at) = log.find("panicked") {
        let from = log[..at].rfind('\n').map_or(0, |n| n + 1);
        let line: String = log[from..].chars().take(400).collect();
        failures.add("the node's log holds a panic", line);
    }

    let tally_text: Vec<String> = tally
        .iter()
        .map(|(status, count)| format!("{status}: {count}"))
        .collect();
    eprintln!(
        "http fuzz: seed {seed}, {done} requests in {fuzz_time:?} (slowest {slowest:?}), \
         {executions} reached Docker; statuses {{{}}}\nhttp fuzz: the slowest was {}",
        tally_text.join(", "),
        slowest_request
    );
    assert!(
        failures.count() == 0,
        "{} failure(s) with seed {seed} (replay with BRAINDRILL_FUZZ_SEED={seed}); \
         statuses {{{}}}:{}",
        failures.count(),
        tally_text.join(", "),
        failures.report()
    );
}

/// What a raw exchange got: a status, or nothing (the server closed).
async fn raw_status(port: u16, request: &[u8], within: Duration) -> Result<Option<u16>, String> {
    match tokio::time::timeout(within, exchange(port, request)).await {
        Err(_) => Err(format!("no answer and no close within {within:?}")),
        Ok(Err(_closed)) => Ok(None),
        Ok(Ok(bytes)) => match parse_response(&bytes) {
            Ok((answer, _)) => Ok(Some(answer.status)),
            Err(error) => Err(format!("an answer that is not HTTP: {error}")),
        },
    }
}

fn request_head(method: &str, target: &str, port: u16, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{extra}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_traffic_never_breaks_the_gateway() {
    let mut node = standalone().await;
    let port = node.http_port;
    let http = fuzz_client();
    let within = Duration::from_secs(15);
    let mut failures: Vec<String> = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();

    // An idle half-request, held open the whole test.
    let idle_since = Instant::now();
    let mut idle = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    idle.write_all(b"POST /lang/python HTTP/1.1\r\nhost: x\r\ncontent-le")
        .await
        .expect("writes");

    let long_target = format!("/lang/{}", "a".repeat(100_000));
    let many_headers: String = (0..40)
        .map(|i| format!("x-filler-{i}: {}\r\n", "v".repeat(2_048)))
        .collect();
    let huge_header = format!("x-huge: {}\r\n", "h".repeat(1_100_000));
    let pipelined = format!(
        "{}\r\n{}connection: close\r\n\r\n",
        request_head("GET", "/health", port, ""),
        request_head("GET", "/health", port, "")
    )
    .into_bytes();
    // A request head to `port`, then `rest` (more headers, the blank line,
    // a body).
    let req = |method: &str, target: &str, rest: &str| {
        format!("{}{rest}", request_head(method, target, port, "")).into_bytes()
    };
    let close = "connection: close\r\n\r\n";
    let chunked = "transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    let absolute = format!("http://127.0.0.1:{port}/health");
    let bare_lf = format!("GET /health HTTP/1.1\nhost: 127.0.0.1:{port}\nconnection: close\n\n");
    let h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00junkjunkjunk";
    // (what, the bytes, the statuses expected: another one is only noted)
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        (
            "a garbage request line",
            b"\x16\x03\x01\x00\xa5GARBAGE \xff\xfe\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "a request line without a target",
            b"GET\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "blank lines before a request",
            [&b"\r\n\r\n"[..], &req("GET", "/health", close)].concat(),
            &[200, 400],
        ),
        (
            "an unknown HTTP version",
            b"GET /health HTTP/9.9\r\n\r\n".to_vec(),
            &[400, 505],
        ),
        (
            "NUL in the target",
            b"GET /he\0alth HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "a space in the target",
            b"GET /lang/py thon HTTP/1.1\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "a header without a colon",
            req("GET", "/health", "no colon\r\n\r\n"),
            &[400],
        ),
        (
            "a header name with a space",
            req("GET", "/health", "bad name: x\r\n\r\n"),
            &[400],
        ),
        ("bare LFs as line ends", bare_lf.into_bytes(), &[200, 400]),
        ("an HTTP/2 preface and junk frames", h2.to_vec(), &[400]),
        (
            "a target over 64 KiB",
            req("GET", &long_target, close),
            &[400, 404, 414],
        ),
        (
            "a header block over 64 KiB",
            req("GET", "/health", &format!("{many_headers}{close}")),
            &[200, 431],
        ),
        (
            "one header over 1 MiB",
            req("GET", "/health", &format!("{huge_header}{close}")),
            &[431],
        ),
        (
            "content-length and chunked at once",
            req(
                "POST",
                "/lang/python",
                &format!("content-length: 5\r\n{chunked}0\r\n\r\n"),
            ),
            &[400],
        ),
        (
            "a bad chunk size",
            req(
                "POST",
                "/lang/python",
                &format!("{chunked}zz\r\nprint(1)\r\n0\r\n\r\n"),
            ),
            &[400],
        ),
        (
            "a chunked body with invalid UTF-8",
            [
                req("POST", "/lang/python", &format!("{chunked}2\r\n")),
                b"\xff\xfe\r\n0\r\n\r\n".to_vec(),
            ]
            .concat(),
            &[400],
        ),
        (
            "two content-lengths",
            req(
                "POST",
                "/api/v1/execute",
                &format!("content-length: 1\r\ncontent-length: 2\r\n{close}ab"),
            ),
            &[400],
        ),
        (
            "a negative content-length",
            req(
                "POST",
                "/api/v1/execute",
                &format!("content-length: -1\r\n{close}"),
            ),
            &[400],
        ),
        (
            "a content-length past u64",
            req(
                "POST",
                "/api/v1/execute",
                &format!("content-length: 99999999999999999999999\r\n{close}"),
            ),
            &[400],
        ),
        ("dot segments", req("GET", "/lang/../health", close), &[404]),
        (
            "an absolute-form target",
            req("GET", &absolute, close),
            &[200],
        ),
        (
            "an asterisk target",
            req("OPTIONS", "*", close),
            &[400, 404, 405],
        ),
        (
            "HTTP/1.0 without a host",
            b"GET /health HTTP/1.0\r\n\r\n".to_vec(),
            &[200],
        ),
        ("two pipelined requests", pipelined.clone(), &[200]),
    ];
    for (name, request, expected) in &cases {
        let result = raw_status(port, request, within).await;
        let key = match &result {
            Ok(Some(status)) => status.to_string(),
            Ok(None) => "closed".to_string(),
            Err(_) => "error".to_string(),
        };
        eprintln!("raw: {name}: {key}");
        *tally.entry(key).or_default() += 1;
        match result {
            Ok(Some(status)) if status >= 500 && status != 503 && status != 504 => {
                failures.push(format!("{name}: status {status}"));
            }
            Ok(Some(status)) if !expected.contains(&status) => {
                eprintln!(
                    "raw: {name}: status {status} (expected one of {expected:?}; not a failure)"
                );
            }
            Ok(_) => {}
            Err(error) => failures.push(format!("{name}: {error}")),
        }
        assert_alive(&http, &mut node, name).await;
    }

    // Both pipelined requests are answered, in order.
    let pipelined_answers = tokio::time::timeout(within, exchange(port, &pipelined)).await;
    let mut answered = Vec::new();
    if let Ok(Ok(bytes)) = &pipelined_answers {
        let mut rest = &bytes[..];
        while let Ok((answer, used)) = parse_response(rest) {
            answered.push((
                answer.status,
                String::from_utf8_lossy(&answer.body).into_owned(),
            ));
            rest = &rest[used..];
        }
    }
    let ok = (200, "ok".to_string());
    if answered != [ok.clone(), ok] {
        failures.push(format!(
            "two pipelined GET /health: {answered:?} ({:?})",
            pipelined_answers.map(|result| result.map(|bytes| excerpt(&bytes)))
        ));
    }

    // A body shorter than its content-length, then the writing half closed:
    // the server must answer (the body cannot be read) or close, not hang.
    for (target, length, body) in [
        ("/lang/python", 100, &b"print(1)"[..]),
        (
            "/api/v1/execute",
            100,
            &br#"{"language":"python","code":"pri"#[..],
        ),
        ("/api/v1/batch", 100, &b"{"[..]),
        ("/lang/python", 1u64 << 40, &b"print(1)"[..]),
        ("/api/v1/execute", 1u64 << 40, &b"{}"[..]),
    ] {
        let name = format!("a body of {} bytes, not {length}, to {target}", body.len());
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let head = request_head(
            "POST",
            target,
            port,
            &format!("content-length: {length}\r\n\r\n"),
        );
        stream.write_all(head.as_bytes()).await.expect("writes");
        stream.write_all(body).await.expect("writes");
        stream.shutdown().await.expect("shuts down");
        let mut received = Vec::new();
        match tokio::time::timeout(within, stream.read_to_end(&mut received)).await {
            Err(_) => failures.push(format!("{name}: no answer and no close within {within:?}")),
            Ok(_) if received.is_empty() => {
                eprintln!("raw: {name}: closed");
                *tally.entry("closed".into()).or_default() += 1;
            }
            Ok(_) => match parse_response(&received) {
                Ok((answer, _)) => {
                    eprintln!("raw: {name}: {}", answer.status);
                    *tally.entry(answer.status.to_string()).or_default() += 1;
                    if let Some(problem) = judge(
                        &Case {
                            index: 0,
                            seed: 0,
                            transport: Transport::Raw,
                            method: "POST".into(),
                            target: target.into(),
                            headers: Vec::new(),
                            body: body.to_vec(),
                            body_kind: "short",
                        },
                        target,
                        &answer,
                    ) {
                        failures.push(format!("{name}: {problem}: {}", excerpt(&answer.body)));
                    }
                }
                Err(error) => failures.push(format!("{name}: {error}")),
            },
        }
        assert_alive(&http, &mut node, &name).await;
        // And the same, with the connection dropped outright.
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        stream.write_all(head.as_bytes()).await.expect("writes");
        stream.write_all(body).await.expect("writes");
        drop(stream);
        assert_alive(&http, &mut node, &format!("{name}, dropped")).await;
    }

    // Slowloris: many connections trickling a request, the server answering
    // others meanwhile; then all dropped.
    let mut trickles = Vec::new();
    for i in 0..64 {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let start = if i % 2 == 0 {
            "POST /lang/python HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\nx-slow: "
        } else {
            // Head complete, body never finished: a handler waits on it.
            "POST /api/v1/execute HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"lang"
        };
        stream.write_all(start.as_bytes()).await.expect("writes");
        trickles.push(stream);
    }
    for round in 0..5 {
        for stream in &mut trickles {
            let _ = stream.write_all(b"a").await;
        }
        assert_alive(&http, &mut node, &format!("slowloris round {round}")).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = run_trivial(&http, &node).await;
    if (status, body.as_str()) != (200, "1\n") {
        failures.push(format!(
            "during the slowloris, POST /lang/python print(1) answered {status} {body:?}"
        ));
    }
    drop(trickles);
    assert_alive(&http, &mut node, "dropping the slowloris connections").await;

    // Was the idle half-request ever closed by the server? (Reported only.)
    let mut byte = [0u8; 1];
    let idle_state =
        match tokio::time::timeout(Duration::from_millis(200), idle.read(&mut byte)).await {
            Err(_) => "still open",
            Ok(Ok(0)) => "closed by the server",
            Ok(_) => "answered or reset",
        };
    drop(idle);
    eprintln!(
        "raw: an idle half-request is {idle_state} after {:?}",
        idle_since.elapsed()
    );

    let (status, body) = run_trivial(&http, &node).await;
    if (status, body.as_str()) != (200, "1\n") {
        failures.push(format!(
            "after the raw cases, POST /lang/python print(1) answered {status} {body:?}"
        ));
    }
    if let Some(status) = node.exit_status() {
        failures.push(format!("the node exited: {status}"));
    }
    let log = node.log_text();
    if let Some(at) = log.find("panicked") {
        let from = log[..at].rfind('\n').map_or(0, |n| n + 1);
        let line: String = log[from..].chars().take(400).collect();
        failures.push(format!("the node's log holds a panic: {line}"));
    }
    let tally_text: Vec<String> = tally.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!("raw: statuses {{{}}}", tally_text.join(", "));
    assert!(
        failures.is_empty(),
        "{} raw-TCP failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
