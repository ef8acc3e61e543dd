//! braindrill-runner: PID 1 of a warm sandbox.
//!
//! A warm container starts this runner, attached, long before any request.
//! It announces itself with one `R` byte on stdout and waits on stdin. When
//! a request arrives it writes the files into /sandbox/code and runs its
//! steps there one after the other (a compile step, then the run), each
//! while the previous one succeeded. Before the last step it makes the code
//! and its folders read-only, as a fresh sandbox's code is, and empties the
//! scratch area /tmp of what an earlier step left. For each step it forwards
//! the program's stdout and stderr as frames and ends with a result frame:
//! how the program ended and the step's own figures. Then it resets the
//! sandbox (reset.rs: every process killed, every writable place emptied,
//! IPC objects removed, and all of it checked again) and either says it is
//! clean and waits for the next request, or says what was left and exits,
//! and the engine retires the container. A request thus pays neither a
//! container start nor an exec, and a sandbox can serve many.
//!
//! Each step has two time limits: the CPU time the sandbox's processes use
//! together (read from the container's cgroup while the step runs; past it
//! every process is killed), which decides a timeout whatever the load of
//! the host, and the wall clock, a generous cap against a program that
//! sleeps or blocks. The result says which one ended the step.
//!
//! The engine keeps its own timer and output cap; this runner's limits make
//! the common case exact and cheap, they are not the last line of defence.
//!
//! A judged submission's request (`BDR5`, judging.rs) compiles once and
//! runs every test case of the submission in this sandbox, one after
//! another, with a reset of processes and scratch between them.
//!
//! `--once`: PID 1 of a fresh container (one step of a fresh run, its code
//! on the container's volume): it reads one request without files, runs its
//! steps as above with the same frames, and exits, without sealing the code
//! (the volume's mount decides) or resetting anything (the container is
//! removed). So a fresh run's figures and limits are a warm run's.
//!
//! Why the program cannot disturb it, though it runs as the same user: the
//! kernel delivers no signal to a PID namespace's init from inside it unless
//! init handles that signal (and SIGKILL never), `kill(-1, ..)` skips init,
//! and the runner marks itself non-dumpable, so it cannot be ptraced nor its
//! /proc/1/{mem,fd} opened. What a process of the same user can still change
//! on it from outside (its limits, nice value, scheduling, CPU affinity) the
//! reset checks.
//!
//! The wire (all integers big-endian) is mirrored by the engine in
//! src/sandbox/runner_protocol.rs:
//! - request: `BDR4` (or `BDR5` followed by the first test step's index
//!   u32 and flags u8, see judging.rs), file count u32 and each file (u32 length + name, u32
//!   length + content), step count u32 and each step: timeout_ms u64 (wall
//!   clock), cpu_limit_ms u64 (0: none), output_cap u64, argc u32 and each
//!   argument (u32 length + bytes), stdin (u32 length + bytes). The engine may send the next request once it has
//!   read `C`; it closes stdin to retire the sandbox (the runner exits).
//! - frames, in order: `R` once, when the runner is up. Then for each
//!   request, per step: `1`/`2` + u32 length + bytes (stdout/stderr), then
//!   `X` + kind u8 (0 exited, 1 killed by a signal) + code or signal i32 +
//!   flags u8 (1 wall-clock limit reached, 2 output cap reached, 4 stdout
//!   cut, 8 stderr cut, 16 CPU-time limit reached) + wall_us u64 + cpu_us u64 + memory_peak u64 + oom_kills u64
//!   (u64::MAX: unknown). After the request's last step (all ran, or one
//!   failed): `C` + u32 length 0, the reset is proven and the runner reads
//!   the next request; or `D` + u32 length + what was left, and the runner
//!   exits. `F` + u32 length + message, at any point, when the runner
//!   cannot run a step: it exits.
//! - the figures are the step's own, though the container's counters count
//!   since its start: cpu_us is the container's CPU time over the step (the
//!   program's, plus the runner's small share of forwarding its output);
//!   memory_peak the step's peak (step.rs: the largest process's peak
//!   resident set, or more where the container's peak rose during the
//!   step); oom_kills the memory cgroup's OOM kills during the step.
//!
//! `--live`: PID 1 of a live sandbox (runner/live.rs): one request whose
//! last step reads the engine's input frames (`I` stdin bytes, `E` end of
//! stdin, `S` a signal) while it runs, then exit.
//!
//! Only std: these files are compiled with Debian's rustc (1.63) inside the
//! image.

#[path = "runner/figures.rs"]
mod figures;
#[path = "runner/judging.rs"]
mod judging;
#[path = "runner/live.rs"]
mod live;
#[path = "runner/reset.rs"]
mod reset;
#[path = "runner/step.rs"]
mod step;
#[path = "runner/sys.rs"]
mod sys;
#[path = "runner/wire.rs"]
mod wire;

use std::fs;
use std::io::{self, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use reset::Baseline;
use step::Crew;
use wire::{frame, Request};

const SANDBOX_DIR: &str = "/sandbox";
const CODE_DIR: &str = "/sandbox/code";
const SCRATCH_DIR: &str = "/tmp";
/// The most entries `--warm` looks up in all.
const MAX_WARM_ENTRIES: usize = 20_000;

fn main() {
    sys::set_non_dumpable();
    let mut out = io::stdout();
    if frame(&mut out, b'R', &[]).is_err() {
        return;
    }
    if std::env::args().skip(1).any(|arg| arg == "--live") {
        return live::serve(&mut out);
    }
    if std::env::args().skip(1).any(|arg| arg == "--once") {
        return once(&mut out);
    }
    let baseline = Baseline::now();
    let stop_warming = warm_caches();
    let mut input = BufReader::new(io::stdin());
    loop {
        let request = wire::read_request(&mut input);
        stop_warming.store(true, Ordering::Relaxed);
        let request = match request {
            Ok(request) => request,
            // The engine closed stdin: this sandbox is retired.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return,
            Err(error) => return fault(&mut out, &format!("bad request: {error}")),
        };
        let mut crew = Crew::new();
        let served = match request.judging {
            Some((first_test, stop_on_failure)) => {
                judging::serve(&mut out, request, first_test, stop_on_failure, &mut crew)
            }
            None => serve(&mut out, request, &mut crew),
        };
        if let Err(error) = served {
            return fault(&mut out, &error);
        }
        match reset::reset(crew, &baseline) {
            Ok(()) => {
                if frame(&mut out, b'C', &[]).is_err() {
                    return;
                }
            }
            Err(found) => {
                let _ = frame(&mut out, b'D', found.as_bytes());
                return;
            }
        }
    }
}

/// `--once`: one request, whose code is already in place, then exit.
fn once(out: &mut io::Stdout) {
    let request = match wire::read_request(&mut BufReader::new(io::stdin())) {
        Ok(request) => request,
        Err(error) => return fault(out, &format!("bad request: {error}")),
    };
    if !request.files.is_empty() {
        return fault(out, "a fresh sandbox's code is on its volume, not in the request");
    }
    if request.judging.is_some() {
        return fault(out, "a fresh sandbox runs one step, not a judged submission");
    }
    let mut crew = Crew::new();
    for step in request.steps {
        match step::run(out, step, &mut crew) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return fault(out, &error),
        }
    }
}

/// Writes the request's code and runs its steps, each while the previous
/// one succeeded.
fn serve(out: &mut io::Stdout, request: Request, crew: &mut Crew) -> Result<(), String> {
    write_files(&request.files).map_err(|error| format!("cannot write the code: {error}"))?;
    if request.steps.is_empty() {
        return Err("no step to run".into());
    }
    let last = request.steps.len() - 1;
    for (index, step) in request.steps.into_iter().enumerate() {
        if index == last {
            prepare_last_step().map_err(|error| format!("cannot seal the code: {error}"))?;
        }
        if !step::run(out, step, crew)? {
            break;
        }
    }
    Ok(())
}

/// `--warm DIR`, repeated: look up every entry under DIR while waiting. A
/// fresh container's overlay filesystem has cold lookup caches; warming
/// them while the sandbox waits in its pool takes them off the program's
/// time (about half of python's start). It stops when a request comes.
fn warm_caches() -> Arc<AtomicBool> {
    let dirs: Vec<String> = std::env::args()
        .skip(1)
        .collect::<Vec<_>>()
        .chunks(2)
        .filter(|pair| pair.len() == 2 && pair[0] == "--warm")
        .map(|pair| pair[1].clone())
        .collect();
    let stop_warming = Arc::new(AtomicBool::new(false));
    if !dirs.is_empty() {
        let stop = stop_warming.clone();
        // Without the thread the caches stay cold: nothing else is lost.
        let _ = thread::Builder::new().spawn(move || {
            let mut budget = MAX_WARM_ENTRIES;
            for dir in dirs {
                warm(Path::new(&dir), &mut budget, &stop);
            }
        });
    }
    stop_warming
}

/// Looks up every entry under `dir` (metadata only), within the budget,
/// until told to stop.
fn warm(dir: &Path, budget: &mut usize, stop: &AtomicBool) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) => return,
    };
    for entry in entries.flatten() {
        if *budget == 0 || stop.load(Ordering::Relaxed) {
            return;
        }
        *budget -= 1;
        let path = entry.path();
        if let Ok(metadata) = fs::symlink_metadata(&path) {
            if metadata.is_dir() {
                warm(&path, budget, stop);
            }
        }
    }
}

fn fault(out: &mut io::Stdout, message: &str) {
    let _ = frame(out, b'F', message.as_bytes());
}

/// Writes the files under the code folder; names were checked by the engine
/// and are checked again: relative, no `..`.
fn write_files(files: &[(String, Vec<u8>)]) -> io::Result<()> {
    fs::create_dir_all(CODE_DIR)?;
    for (name, content) in files {
        let relative = Path::new(name);
        let plain = relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
        if name.is_empty() || !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad file name {name:?}"),
            ));
        }
        let path: PathBuf = Path::new(CODE_DIR).join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, content)?;
    }
    Ok(())
}

/// Before the last step (the run): what a compile step left in the scratch
/// area goes, as a fresh sandbox's run starts with an empty one, and the
/// code becomes read-only.
fn prepare_last_step() -> io::Result<()> {
    reset::empty(Path::new(SCRATCH_DIR))?;
    seal(Path::new(CODE_DIR))?;
    fs::set_permissions(SANDBOX_DIR, fs::Permissions::from_mode(0o555))
}

/// Makes the code read-only: files 0444 (0555 if executable: a compiled
/// program), folders 0555. The program is their owner and could undo it;
/// this keeps a warm sandbox's behaviour that of a fresh one (whose code
/// volume is mounted read-only) for every program that does not try. A
/// compile step may have made the tree deep: the walk keeps its own stack
/// on the heap, and fails (a fault) where a path outgrows PATH_MAX.
fn seal(root: &Path) -> io::Result<()> {
    let mut folders = vec![root.to_path_buf()];
    let mut sealed = Vec::new();
    while let Some(dir) = folders.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            let metadata = fs::symlink_metadata(&path)?;
            if metadata.is_dir() {
                folders.push(path);
            } else if metadata.is_file() {
                let mode = if metadata.permissions().mode() & 0o111 != 0 {
                    0o555
                } else {
                    0o444
                };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
            }
        }
        sealed.push(dir);
    }
    // Folders last, deepest first: a sealed folder can no longer be read.
    for dir in sealed.iter().rev() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o555))?;
    }
    Ok(())
}
