//! The reset between two requests, and its proof. A program runs as the
//! same user as the runner, so whatever it can leave the runner can take
//! away: its processes (killed and reaped); the files in every writable
//! place (emptied, permissions restored first, symlinks never followed, any
//! depth), and the extended attributes and ACLs of /sandbox, the one folder
//! of the program's that stays; System V IPC objects and POSIX message
//! queues (removed); and the runner's own limits and scheduling, which a
//! process of the same user can lower from outside (prlimit, setpriority,
//! sched_setaffinity) and the next program would inherit (soft limits and
//! CPU affinity restored; a lowered hard limit, a raised nice value or
//! another scheduling policy cannot be undone without privileges, so they
//! are reported). Then it looks again, from scratch, and says what it
//! found: nothing means clean.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use crate::step::Crew;
use crate::sys::{self, Ipc, Rlimit};
use crate::{CODE_DIR, SANDBOX_DIR, SCRATCH_DIR};

/// How long the program's processes and the runner's threads may take to
/// end; past it the sandbox is dirty.
const DEADLINE: Duration = Duration::from_secs(5);
/// POSIX message queues of the sandbox's IPC namespace.
const MQUEUE_DIR: &str = "/dev/mqueue";
/// Every place a program can write to in a sandbox (`find / -writable` as
/// its user): the rest of the root filesystem is read-only.
const WRITABLE: [&str; 3] = [SCRATCH_DIR, SANDBOX_DIR, MQUEUE_DIR];
const SYSV: [(&str, Ipc); 3] = [
    ("/proc/sysvipc/shm", Ipc::SharedMemory),
    ("/proc/sysvipc/sem", Ipc::Semaphores),
    ("/proc/sysvipc/msg", Ipc::MessageQueue),
];
const ECHILD: i32 = 10;

/// What of the runner's own a program can change from outside, as it was
/// when the runner started.
pub struct Baseline {
    rlimits: Vec<Option<Rlimit>>,
    nice: i32,
    scheduler: i32,
    affinity: Vec<u8>,
}

impl Baseline {
    pub fn now() -> Baseline {
        Baseline {
            rlimits: (0..sys::RLIMITS).map(sys::get_rlimit).collect(),
            nice: sys::nice(),
            scheduler: sys::scheduler(),
            affinity: sys::affinity(),
        }
    }
}

/// Resets the sandbox after a request; `Err` says what was left.
pub fn reset(crew: Crew, baseline: &Baseline) -> Result<(), String> {
    let deadline = Instant::now() + DEADLINE;
    let mut found = Vec::new();
    if !kill_and_reap(deadline) {
        found.push("processes still running at the deadline".to_string());
    }
    if !crew.join(deadline) {
        found.push("a runner thread did not end".to_string());
    }
    // The last step sealed the code's folder; the program, its owner, may
    // also have changed it.
    let _ = fs::set_permissions(SANDBOX_DIR, fs::Permissions::from_mode(0o700));
    for dir in WRITABLE {
        if let Err(error) = empty(Path::new(dir)) {
            found.push(format!("cannot empty {dir}: {error}"));
        }
    }
    let _ = fs::set_permissions(SANDBOX_DIR, fs::Permissions::from_mode(0o755));
    // /sandbox is the one folder that stays and is the program's own: its
    // extended attributes (user.*, a default ACL, which would shape the
    // modes of the next request's files) go too.
    for name in sys::xattr_names(Path::new(SANDBOX_DIR)).unwrap_or_default() {
        let _ = sys::remove_xattr(Path::new(SANDBOX_DIR), &name);
    }
    for (table, kind) in SYSV {
        for id in ipc_ids(table).unwrap_or_default() {
            let _ = sys::remove_ipc(kind, id);
        }
    }
    restore_rlimits(baseline);
    if !baseline.affinity.is_empty() && sys::affinity() != baseline.affinity {
        sys::set_affinity(&baseline.affinity);
    }
    found.extend(look(baseline));
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("; "))
    }
}

/// Kills every process but this one until none is left to reap. Whether
/// that happened before the deadline.
pub fn kill_and_reap(deadline: Instant) -> bool {
    while Instant::now() < deadline {
        // Again each round: a process may have been forking.
        sys::kill_all();
        match sys::reap_one(true) {
            Ok(Some(_)) => {}
            Ok(None) => thread::sleep(Duration::from_millis(1)),
            Err(error) if error.raw_os_error() == Some(ECHILD) => return true,
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
    false
}

/// Removes everything under `root`, which stays. It works from inside each
/// folder with relative names, so no path grows with the depth (a tree
/// deeper than PATH_MAX is removed too) and keeps its own stack on the heap;
/// it enters only what `lstat` calls a folder, so a symlink is removed,
/// never followed.
pub fn empty(root: &Path) -> io::Result<()> {
    let result = empty_from_inside(root);
    // The runner's own working folder stays out of the sandbox's areas.
    let _ = env::set_current_dir("/");
    result
}

fn empty_from_inside(root: &Path) -> io::Result<()> {
    env::set_current_dir(root)?;
    // Root's own folders (/tmp, /dev/mqueue) refuse: they need nothing.
    let _ = fs::set_permissions(".", fs::Permissions::from_mode(0o700));
    // The folders above the current one: each one's name, and its sub-
    // folders still to empty.
    let mut above: Vec<(OsString, Vec<OsString>)> = Vec::new();
    let mut pending = remove_entries()?;
    loop {
        if let Some(name) = pending.pop() {
            env::set_current_dir(&name)?;
            above.push((name, pending));
            pending = remove_entries()?;
        } else if let Some((name, rest)) = above.pop() {
            env::set_current_dir("..")?;
            fs::remove_dir(&name)?;
            pending = rest;
        } else {
            return Ok(());
        }
    }
}

/// Removes every entry of the current folder but its folders, which it
/// opens to their owner and returns.
fn remove_entries() -> io::Result<Vec<OsString>> {
    let mut folders = Vec::new();
    for entry in fs::read_dir(".")? {
        let name = entry?.file_name();
        if fs::symlink_metadata(&name)?.is_dir() {
            fs::set_permissions(&name, fs::Permissions::from_mode(0o700))?;
            folders.push(name);
        } else {
            // Files, symlinks, FIFOs, sockets, hard links alike: unlinking
            // needs only the folder's permission, never opens the entry.
            fs::remove_file(&name)?;
        }
    }
    Ok(folders)
}

/// The ids listed in a /proc/sysvipc table (second column, after a header).
fn ipc_ids(table: &str) -> io::Result<Vec<i32>> {
    let text = fs::read_to_string(table)?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
        .collect())
}

/// Raises the soft limits a program lowered on the runner back, where the
/// hard limit still allows it (a lowered hard limit is for good: `look`
/// reports it).
fn restore_rlimits(baseline: &Baseline) {
    for (resource, before) in (0..sys::RLIMITS).zip(&baseline.rlimits) {
        if let (Some(before), Some(now)) = (*before, sys::get_rlimit(resource)) {
            if now != before && now.hard >= before.soft {
                let _ = sys::set_rlimit(
                    resource,
                    Rlimit {
                        soft: before.soft,
                        hard: now.hard,
                    },
                );
            }
        }
    }
}

/// Looks, from scratch, for anything a program could have left: what it
/// finds, described.
fn look(baseline: &Baseline) -> Vec<String> {
    let mut found = Vec::new();
    match fs::read_dir("/proc") {
        Ok(entries) => {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name != "1" && name.bytes().all(|byte| byte.is_ascii_digit()) {
                    let command =
                        fs::read_to_string(format!("/proc/{name}/comm")).unwrap_or_default();
                    found.push(format!("process {name} ({})", command.trim()));
                }
            }
        }
        Err(error) => found.push(format!("cannot list /proc: {error}")),
    }
    for dir in WRITABLE {
        match fs::read_dir(dir) {
            Ok(mut entries) => {
                if let Some(entry) = entries.next() {
                    let name = entry.map(|entry| entry.file_name());
                    found.push(format!("{dir} not empty: {name:?}"));
                }
            }
            Err(error) => found.push(format!("cannot list {dir}: {error}")),
        }
    }
    match fs::metadata(SANDBOX_DIR) {
        Ok(metadata) if metadata.permissions().mode() & 0o7777 == 0o755 => {}
        Ok(metadata) => found.push(format!(
            "{SANDBOX_DIR} has mode {:o}",
            metadata.permissions().mode() & 0o7777
        )),
        Err(error) => found.push(format!("cannot stat {SANDBOX_DIR}: {error}")),
    }
    match sys::xattr_names(Path::new(SANDBOX_DIR)) {
        Ok(names) if names.is_empty() => {}
        Ok(names) => found.push(format!("{SANDBOX_DIR} has extended attributes {names:?}")),
        Err(error) => found.push(format!(
            "cannot list the attributes of {SANDBOX_DIR}: {error}"
        )),
    }
    if Path::new(CODE_DIR).exists() {
        found.push(format!("{CODE_DIR} still exists"));
    }
    for (table, _) in SYSV {
        match ipc_ids(table) {
            Ok(ids) if ids.is_empty() => {}
            Ok(ids) => found.push(format!("{table}: ids {ids:?}")),
            Err(error) => found.push(format!("cannot read {table}: {error}")),
        }
    }
    found.extend(sockets());
    for (resource, before) in (0..sys::RLIMITS).zip(&baseline.rlimits) {
        let now = sys::get_rlimit(resource);
        if now != *before {
            found.push(format!("rlimit {resource} is {now:?}, was {before:?}"));
        }
    }
    if sys::nice() != baseline.nice {
        found.push(format!("nice is {}, was {}", sys::nice(), baseline.nice));
    }
    if sys::scheduler() != baseline.scheduler {
        found.push(format!("scheduling policy is {}", sys::scheduler()));
    }
    if sys::affinity() != baseline.affinity {
        found.push("CPU affinity changed".to_string());
    }
    found
}

/// Sockets of the sandbox's network namespace that a process holds: a
/// unix socket, or a TCP, UDP or raw one in use (bound, listening or
/// connected; a closed TCP connection lingering in TIME_WAIT is owned by
/// no process: not a trace). The sockstat tables count per namespace and
/// read in well under a millisecond; /proc/net/tcp walks the host's whole
/// table (about 20 ms).
fn sockets() -> Vec<String> {
    let mut found = Vec::new();
    let unix = fs::read_to_string("/proc/net/unix")
        .map(|text| text.lines().skip(1).count())
        .unwrap_or(0);
    if unix > 0 {
        found.push(format!("{unix} unix sockets"));
    }
    for table in ["/proc/net/sockstat", "/proc/net/sockstat6"] {
        let text = fs::read_to_string(table).unwrap_or_default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let protocol = words.next().unwrap_or("");
            let words: Vec<&str> = words.collect();
            for pair in words.chunks(2) {
                if pair.len() == 2 && pair[0] == "inuse" && pair[1] != "0" {
                    found.push(format!("{protocol} {} sockets in use", pair[1]));
                }
            }
        }
    }
    found
}
