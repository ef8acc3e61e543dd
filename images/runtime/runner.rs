//! braindrill-runner: PID 1 of a warm sandbox.
//!
//! A warm container starts this runner, attached, long before any request.
//! It announces itself with one `R` byte on stdout and waits on stdin. When
//! an execution arrives it writes the files into /sandbox/code and runs its
//! steps there one after the other (a compile step, then the run), each
//! while the previous one succeeded. Before the last step it makes the code
//! and its folders read-only, as a fresh sandbox's code is, and empties the
//! scratch area /tmp of what an earlier step left. For each step it forwards
//! the program's stdout and stderr as frames and ends with a result frame:
//! how the program ended, its CPU time, the sandbox's memory peak and the
//! OOM kills seen by the memory cgroup. Then it exits, and the engine
//! removes the container: one container, one execution. A request thus pays
//! neither a container start nor an exec.
//!
//! The engine keeps its own timer and output cap; this runner's limits make
//! the common case exact and cheap, they are not the last line of defence.
//!
//! Why the program cannot disturb it, though it runs as the same user: the
//! kernel delivers no signal to a PID namespace's init from inside it unless
//! init handles that signal (and SIGKILL never), `kill(-1, ..)` skips init,
//! and the runner marks itself non-dumpable, so it cannot be ptraced nor its
//! /proc/1/{mem,fd} opened.
//!
//! The wire (all integers big-endian) is mirrored by the engine in
//! src/sandbox/runner_protocol.rs:
//! - request: `BDR2`, file count u32 and each file (u32 length + name, u32
//!   length + content), step count u32 and each step: timeout_ms u64,
//!   output_cap u64, argc u32 and each argument (u32 length + bytes), stdin
//!   (u32 length + bytes).
//! - frames: `R`; then per step `1`/`2` + u32 length + bytes (stdout/stderr)
//!   and `X` + kind u8 (0 exited, 1 killed by a signal) + code or signal i32
//!   + flags u8 (1 timed out, 2 output cap reached, 4 stdout cut, 8 stderr
//!   cut) + wall_us u64 + cpu_us u64 + memory_peak u64 + oom_kills u64, where
//!   u64::MAX means unknown (the memory peak of a later step is known only
//!   where it passed the earlier steps'); `F` + u32 length + message ends it
//!   all when the runner cannot run a step.
//!
//! Only std: this file is compiled with Debian's rustc inside the image.

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const SANDBOX_DIR: &str = "/sandbox";
const CODE_DIR: &str = "/sandbox/code";
const SCRATCH_DIR: &str = "/tmp";
const MAGIC: &[u8; 4] = b"BDR2";
const UNKNOWN: u64 = u64::MAX;
const CHUNK: usize = 32 * 1024;
/// Events that may wait for the engine to read them: a flood that the engine
/// reads slowly then blocks the program's writes instead of growing the
/// runner (PID 1, inside the memory limit) towards an OOM kill. 64 chunks
/// are 2 MiB at most.
const QUEUED_EVENTS: usize = 64;
/// Bounds on a request, so a corrupt one fails fast instead of allocating.
const MAX_ITEMS: u32 = 10_000;
const MAX_ITEM_BYTES: u32 = 64 * 1024 * 1024;
/// The most entries `--warm` looks up in all.
const MAX_WARM_ENTRIES: usize = 20_000;
/// How long leftovers may take to die and release the output pipes once
/// the program has ended.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long the output may still take once every process has been reaped:
/// only as long as the forwarders wait for the CPU.
const REAPED_DRAIN: Duration = Duration::from_secs(60);

const PR_SET_DUMPABLE: i32 = 4;
const SIGKILL: i32 = 9;
const ECHILD: i32 = 10;

extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}

struct Request {
    files: Vec<(String, Vec<u8>)>,
    steps: Vec<Step>,
}

/// One program to run to its end: a compile step or the run.
struct Step {
    timeout: Duration,
    output_cap: u64,
    argv: Vec<String>,
    stdin: Vec<u8>,
}

enum Event {
    Output(u8, Vec<u8>),
    Closed,
    /// The program's wait status.
    Exited(i32),
    /// No process is left in the sandbox but this runner.
    AllReaped,
}

fn main() {
    // SAFETY: prctl with integer arguments only changes this process's flag.
    unsafe {
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let mut out = io::stdout();
    if frame(&mut out, b'R', &[]).is_err() {
        return;
    }
    // `--warm DIR`, repeated: look up every entry under DIR while waiting.
    // A fresh container's overlay filesystem has cold lookup caches; warming
    // them while the sandbox waits in its pool takes them off the program's
    // time (about half of python's start). It stops when a request comes.
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
        let _ = start_thread(move || {
            let mut budget = MAX_WARM_ENTRIES;
            for dir in dirs {
                warm(Path::new(&dir), &mut budget, &stop);
            }
        });
    }
    let request = read_request(&mut BufReader::new(io::stdin()));
    stop_warming.store(true, Ordering::Relaxed);
    let request = match request {
        Ok(request) => request,
        // The engine closed stdin: this warm sandbox is retired unused.
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return,
        Err(error) => return fault(&mut out, &format!("bad request: {error}")),
    };
    if let Err(error) = write_files(&request.files) {
        return fault(&mut out, &format!("cannot write the code: {error}"));
    }
    if request.steps.is_empty() {
        return fault(&mut out, "no step to run");
    }
    let last = request.steps.len() - 1;
    let mut peak_so_far = None;
    for (index, step) in request.steps.into_iter().enumerate() {
        if index == last {
            if let Err(error) = prepare_last_step() {
                return fault(&mut out, &format!("cannot seal the code: {error}"));
            }
        }
        match run(&mut out, step, &mut peak_so_far) {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => return fault(&mut out, &error),
        }
    }
}

/// Runs one step to its end and sends its result; whether it succeeded
/// (exited 0 within its limits), so that the next one may run.
fn run(out: &mut io::Stdout, step: Step, peak_so_far: &mut Option<u64>) -> Result<bool, String> {
    let (program, args) = match step.argv.split_first() {
        Some(split) => split,
        None => return Err("no command to run".into()),
    };
    // Every thread exists before the program does: a program that takes
    // every pid of the sandbox at once (a fork bomb) must not keep the runner
    // from starting one.
    let (events, inbox) = mpsc::sync_channel(QUEUED_EVENTS);
    let stdin_slot = feeder(step.stdin)?;
    let stdout_slot = forwarder(b'1', events.clone())?;
    let stderr_slot = forwarder(b'2', events.clone())?;
    let reaper_slot = reaper(events)?;
    let cpu_before = cpu_usage_us();
    let oom_before = oom_kills();
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(CODE_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {program}: {error}"))?;
    let pid = child.id() as i32;
    // A thread whose handle cannot be delivered has ended, which cannot
    // happen before this: the sends are infallible in practice.
    let _ = reaper_slot.send(pid);
    if let Some(stdin) = child.stdin.take() {
        let _ = stdin_slot.send(stdin);
    }
    if let Some(stdout) = child.stdout.take() {
        let _ = stdout_slot.send(stdout);
    }
    if let Some(stderr) = child.stderr.take() {
        let _ = stderr_slot.send(stderr);
    }

    let deadline = started + step.timeout;
    let mut status = None;
    let mut wall = Duration::ZERO;
    let mut open_streams = 2;
    let mut all_reaped = false;
    let mut forwarded: u64 = 0;
    let (mut timed_out, mut capped) = (false, false);
    // The stream whose chunk crossed the cap: 4 stdout, 8 stderr.
    let mut cut = 0u8;
    let mut drain_deadline: Option<Instant> = None;
    while !(status.is_some() && open_streams == 0 && all_reaped) {
        let until = drain_deadline.unwrap_or(deadline);
        let event = match inbox.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) if drain_deadline.is_some() => break,
            Err(RecvTimeoutError::Timeout) => {
                timed_out = true;
                kill_all();
                drain_deadline = Some(Instant::now() + DRAIN_GRACE);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match event {
            Event::Output(stream, bytes) => {
                if capped {
                    continue;
                }
                let room = step.output_cap.saturating_sub(forwarded);
                let keep = (bytes.len() as u64).min(room) as usize;
                if keep > 0 {
                    frame(out, stream, &bytes[..keep]).map_err(|error| error.to_string())?;
                    forwarded += keep as u64;
                }
                if keep < bytes.len() {
                    capped = true;
                    cut = if stream == b'1' { 4 } else { 8 };
                    kill_all();
                    drain_deadline.get_or_insert(Instant::now() + DRAIN_GRACE);
                }
            }
            Event::Closed => open_streams -= 1,
            Event::Exited(wait_status) => {
                wall = started.elapsed();
                status = Some(wait_status);
                // Whatever the program left behind would hold the output
                // open and outlive it: the sandbox ends with the program.
                kill_all();
                drain_deadline.get_or_insert(Instant::now() + DRAIN_GRACE);
            }
            // Sent by the reaper only after the program's own status.
            Event::AllReaped => {
                all_reaped = true;
                // No process is left to hold the pipes: what is in them
                // comes, then their ends, however starved of CPU the
                // forwarders are (a 2 s grace once lost a hello world's
                // output on a loaded machine). The engine's timer bounds it.
                drain_deadline = Some(Instant::now() + REAPED_DRAIN);
            }
        }
        if drain_deadline.is_some() && !all_reaped {
            kill_all();
        }
    }
    let wait_status = match status {
        Some(wait_status) => wait_status,
        None => return Err("the program's end was not seen".into()),
    };
    let (kind, value) = if wait_status & 0x7f == 0 {
        (0u8, (wait_status >> 8) & 0xff)
    } else {
        (1u8, wait_status & 0x7f)
    };
    let flags = u8::from(timed_out) | (u8::from(capped) << 1) | cut;
    let succeeded = kind == 0 && value == 0 && !timed_out && !capped;
    // The cgroup's peak is the container's: a later step's own peak is
    // known only where it went past the earlier steps'.
    let peak = memory_peak();
    let step_peak = match (peak, *peak_so_far) {
        (Some(now), Some(before)) if now <= before => UNKNOWN,
        (Some(now), _) => now,
        (None, _) => UNKNOWN,
    };
    *peak_so_far = peak;
    let cpu = match (cpu_before, cpu_usage_us()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => UNKNOWN,
    };
    let ooms = match (oom_before, oom_kills()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => UNKNOWN,
    };
    let mut result = vec![kind];
    result.extend_from_slice(&value.to_be_bytes());
    result.push(flags);
    for figure in [wall.as_micros() as u64, cpu, step_peak, ooms] {
        result.extend_from_slice(&figure.to_be_bytes());
    }
    frame(out, b'X', &result).map_err(|error| error.to_string())?;
    Ok(succeeded)
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

fn start_thread(body: impl FnOnce() + Send + 'static) -> Result<(), String> {
    thread::Builder::new()
        .spawn(body)
        .map(|_| ())
        .map_err(|error| format!("cannot start a runner thread: {error}"))
}

/// A thread that writes the program's stdin, once it gets the pipe.
fn feeder(bytes: Vec<u8>) -> Result<Sender<ChildStdin>, String> {
    let (slot, pipe) = mpsc::channel::<ChildStdin>();
    start_thread(move || {
        if let Ok(mut stdin) = pipe.recv() {
            // A program that does not read its stdin makes this fail: fine.
            let _ = stdin.write_all(&bytes);
        }
    })?;
    Ok(slot)
}

/// A thread that reads one stream of the program into events, once it gets
/// the pipe, until it closes.
fn forwarder<R: Read + Send + 'static>(
    tag: u8,
    events: SyncSender<Event>,
) -> Result<Sender<R>, String> {
    let (slot, pipe) = mpsc::channel::<R>();
    start_thread(move || {
        let mut stream = match pipe.recv() {
            Ok(stream) => stream,
            Err(_) => return,
        };
        let mut buffer = vec![0u8; CHUNK];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if events
                        .send(Event::Output(tag, buffer[..read].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = events.send(Event::Closed);
    })?;
    Ok(slot)
}

/// As init, every orphan of the sandbox becomes this runner's child: once it
/// gets the program's pid, reap them all, report the program's own status,
/// and say when none is left.
fn reaper(events: SyncSender<Event>) -> Result<Sender<i32>, String> {
    let (slot, pid) = mpsc::channel::<i32>();
    start_thread(move || {
        let program = match pid.recv() {
            Ok(program) => program,
            Err(_) => return,
        };
        reap(program, events);
    })?;
    Ok(slot)
}

fn reap(program: i32, events: SyncSender<Event>) {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`.
        let pid = unsafe { waitpid(-1, &mut status, 0) };
        if pid == program {
            let _ = events.send(Event::Exited(status));
        } else if pid < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(ECHILD) {
                let _ = events.send(Event::AllReaped);
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// SIGKILL to every process of the sandbox but this one.
fn kill_all() {
    // SAFETY: plain syscall; -1 never includes the caller (nor init).
    unsafe {
        kill(-1, SIGKILL);
    }
}

fn frame(out: &mut io::Stdout, tag: u8, body: &[u8]) -> io::Result<()> {
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

fn fault(out: &mut io::Stdout, message: &str) {
    let _ = frame(out, b'F', message.as_bytes());
}

fn read_request(input: &mut impl Read) -> io::Result<Request> {
    let mut magic = [0u8; 4];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a BDR2 request",
        ));
    }
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
        let output_cap = read_u64(input)?;
        let argc = read_count(input)?;
        let mut argv = Vec::new();
        for _ in 0..argc {
            argv.push(read_string(input)?);
        }
        let stdin = read_bytes(input)?;
        steps.push(Step {
            timeout,
            output_cap,
            argv,
            stdin,
        });
    }
    Ok(Request { files, steps })
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
    // Best effort: what cannot be removed is the program's own, made by its
    // own compile step, and only takes its room.
    for entry in fs::read_dir(SCRATCH_DIR)?.flatten() {
        let path = entry.path();
        let _ = match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
    seal(Path::new(CODE_DIR))?;
    fs::set_permissions(SANDBOX_DIR, fs::Permissions::from_mode(0o555))
}

/// Makes the code read-only: files 0444 (0555 if executable: a compiled
/// program), folders 0555. The program is their owner and could undo it;
/// this keeps a warm sandbox's behaviour that of a fresh one (whose code
/// volume is mounted read-only) for every program that does not try.
fn seal(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = fs::symlink_metadata(entry.path())?;
        if metadata.is_dir() {
            seal(&entry.path())?;
        } else if metadata.is_file() {
            let mode = if metadata.permissions().mode() & 0o111 != 0 {
                0o555
            } else {
                0o444
            };
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode))?;
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555))
}

/// CPU time used by the sandbox's cgroup so far (cgroup v1 or v2).
fn cpu_usage_us() -> Option<u64> {
    if let Ok(text) = fs::read_to_string("/sys/fs/cgroup/cpuacct/cpuacct.usage") {
        return text.trim().parse::<u64>().ok().map(|ns| ns / 1000);
    }
    field("/sys/fs/cgroup/cpu.stat", "usage_usec")
}

/// The most memory the sandbox's cgroup held (cgroup v1 or v2).
fn memory_peak() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
        "/sys/fs/cgroup/memory.peak",
    ]
    .iter()
    .find_map(|path| fs::read_to_string(path).ok()?.trim().parse().ok())
}

/// OOM kills counted by the sandbox's memory cgroup (cgroup v1 or v2).
fn oom_kills() -> Option<u64> {
    field("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")
        .or_else(|| field("/sys/fs/cgroup/memory.events", "oom_kill"))
}

fn field(path: &str, name: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}
