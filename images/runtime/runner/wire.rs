//! The wire between the engine and the runner: reading a request from
//! stdin and writing frames on stdout. The format is described in the
//! runner's opening paragraph and mirrored by the engine in
//! src/sandbox/runner_protocol.rs.

use std::io::{self, Read, Write};
use std::time::Duration;

const MAGIC: &[u8; 4] = b"BDR4";
/// A judged submission's request (judging.rs): `BDR4`'s with the first
/// test's index and flags after the magic.
const JUDGING_MAGIC: &[u8; 4] = b"BDR5";
const STOP_ON_FAILURE: u8 = 1;
/// Bounds on a request, so a corrupt one fails fast instead of allocating.
const MAX_ITEMS: u32 = 10_000;
const MAX_ITEM_BYTES: u32 = 64 * 1024 * 1024;

pub struct Request {
    pub files: Vec<(String, Vec<u8>)>,
    pub steps: Vec<Step>,
    /// For `BDR5`: the index of the first test step, and whether to stop
    /// after the first test that did not succeed.
    pub judging: Option<(usize, bool)>,
}

/// One program to run to its end: a compile step or the run.
pub struct Step {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// CPU-time limit of the sandbox's processes together (zero: none).
    pub cpu_limit: Duration,
    pub output_cap: u64,
    pub argv: Vec<String>,
    pub stdin: Vec<u8>,
}

/// Writes one frame: `R` alone, `X` + its fixed-size body, any other tag
/// + u32 length + body.
pub fn frame(out: &mut io::Stdout, tag: u8, body: &[u8]) -> io::Result<()> {
    let mut out = out.lock();
    out.write_all(&[tag])?;
    if tag != b'R' {
        if tag != b'X' {
            out.write_all(&(body.len() as u32).to_be_bytes())?;
        }
        out.write_all(body)?;
    }
    out.flush()
}

/// Reads the next request. An error of kind `UnexpectedEof` before its
/// first byte means the engine closed stdin between requests.
pub fn read_request(input: &mut impl Read) -> io::Result<Request> {
    let mut magic = [0u8; 4];
    input.read_exact(&mut magic)?;
    let judging = if &magic == MAGIC {
        None
    } else if &magic == JUDGING_MAGIC {
        let first_test = read_u32(input)? as usize;
        let mut flags = [0u8; 1];
        input.read_exact(&mut flags)?;
        Some((first_test, flags[0] & STOP_ON_FAILURE != 0))
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a BDR4 or BDR5 request",
        ));
    };
    let count = read_count(input)?;
    let mut files = Vec::new();
    for _ in 0..count {
        let name = read_string(input)?;
        files.push((name, read_bytes(input)?));
    }
    let count = read_count(input)?;
    let mut steps = Vec::new();
    for _ in 0..count {
        let timeout = Duration::from_millis(read_u64(input)?);
        let cpu_limit = Duration::from_millis(read_u64(input)?);
        let output_cap = read_u64(input)?;
        let argc = read_count(input)?;
        let mut argv = Vec::new();
        for _ in 0..argc {
            argv.push(read_string(input)?);
        }
        let stdin = read_bytes(input)?;
        steps.push(Step {
            timeout,
            cpu_limit,
            output_cap,
            argv,
            stdin,
        });
    }
    Ok(Request {
        files,
        steps,
        judging,
    })
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_be_bytes(bytes))
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_be_bytes(bytes))
}

fn read_count(input: &mut impl Read) -> io::Result<u32> {
    let count = read_u32(input)?;
    if count > MAX_ITEMS {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "too many items"));
    }
    Ok(count)
}

fn read_bytes(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let length = read_u32(input)?;
    if length > MAX_ITEM_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "item too large"));
    }
    let mut bytes = vec![0u8; length as usize];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn read_string(input: &mut impl Read) -> io::Result<String> {
    String::from_utf8(read_bytes(input)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
}
