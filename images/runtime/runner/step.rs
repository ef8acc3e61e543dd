//! Running one step: the program with its stdin fed, its stdout and stderr
//! forwarded as frames within the output cap, its two time limits (the
//! CPU time of the sandbox's processes together, read from the container's
//! cgroup while the step runs, and the wall clock), the reaping of every
//! process it leaves, and the result frame with the step's own figures.

use std::io::{self, Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::figures::{cpu_usage_us, memory_peak, memory_usage, oom_kills};
use crate::sys::{self, kill_all};
use crate::wire::{frame, Step};
use crate::CODE_DIR;

const UNKNOWN: u64 = u64::MAX;
const CHUNK: usize = 32 * 1024;
/// Events that may wait for the engine to read them: a flood that the engine
/// reads slowly then blocks the program's writes instead of growing the
/// runner (PID 1, inside the memory limit) towards an OOM kill. 64 chunks
/// are 2 MiB at most.
const QUEUED_EVENTS: usize = 64;
/// How long leftovers may take to die and release the output pipes once
/// the program has ended.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long the output may still take once every process has been reaped:
/// only as long as the forwarders wait for the CPU.
const REAPED_DRAIN: Duration = Duration::from_secs(60);
const ECHILD: i32 = 10;
/// Bounds of the pause between two readings of the CPU time: the CPU time
/// can grow by at most the host's cores times the pause between readings,
/// so the pause shrinks as the limit nears (a quarter of what is left).
const CPU_CHECK_MIN: Duration = Duration::from_millis(2);
const CPU_CHECK_MAX: Duration = Duration::from_millis(50);
/// Result flags: which limit ended the step, which stream was cut.
const WALL_LIMIT: u8 = 1;
const OUTPUT_CAP: u8 = 2;
const CPU_LIMIT: u8 = 16;

enum Event {
    Output(u8, Vec<u8>),
    Closed,
    /// The program's wait status.
    Exited(i32),
    /// No process is left in the sandbox but this runner.
    AllReaped,
}

/// The runner's threads of the current request. The reset waits for every
/// one to end: a reaper left waiting in `wait4(-1)` would take the next
/// program's status (and a forwarder its output).
pub struct Crew {
    ended: Receiver<()>,
    end: Sender<()>,
    running: usize,
}

impl Crew {
    pub fn new() -> Crew {
        let (end, ended) = mpsc::channel();
        Crew {
            ended,
            end,
            running: 0,
        }
    }

    pub fn start(&mut self, body: impl FnOnce() + Send + 'static) -> Result<(), String> {
        let end = self.end.clone();
        thread::Builder::new()
            .spawn(move || {
                body();
                let _ = end.send(());
            })
            .map_err(|error| format!("cannot start a runner thread: {error}"))?;
        self.running += 1;
        Ok(())
    }

    /// Whether every thread ended before the deadline.
    pub fn join(mut self, deadline: Instant) -> bool {
        while self.running > 0 {
            match self
                .ended
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(()) => self.running -= 1,
                Err(_) => return false,
            }
        }
        true
    }
}

/// Runs one step to its end and sends its result; whether it succeeded
/// (exited 0 within its limits), so that the next one may run.
pub fn run(out: &mut io::Stdout, step: Step, crew: &mut Crew) -> Result<bool, String> {
    let (program, args) = match step.argv.split_first() {
        Some(split) => split,
        None => return Err("no command to run".into()),
    };
    // Every thread exists before the program does: a program that takes
    // every pid of the sandbox at once (a fork bomb) must not keep the runner
    // from starting one.
    let (events, inbox) = mpsc::sync_channel(QUEUED_EVENTS);
    let max_rss = Arc::new(AtomicU64::new(0));
    let stdin_slot = feeder(crew, step.stdin)?;
    let stdout_slot = forwarder(crew, b'1', events.clone())?;
    let stderr_slot = forwarder(crew, b'2', events.clone())?;
    let reaper_slot = reaper(crew, events, max_rss.clone())?;
    let cpu_before = cpu_usage_us();
    let oom_before = oom_kills();
    let (usage_before, peak_before) = (memory_usage(), memory_peak());
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(CODE_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    sys::prefer_for_oom_kill(&mut command);
    let mut child = command
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
    let mut cpu_watch = CpuWatch::new(cpu_before, step.cpu_limit, started);
    let mut status = None;
    let mut wall = Duration::ZERO;
    let mut open_streams = 2;
    let mut all_reaped = false;
    let mut forwarded: u64 = 0;
    // Which limit ended the step (WALL_LIMIT, CPU_LIMIT, OUTPUT_CAP), and
    // the stream whose chunk crossed the cap: 4 stdout, 8 stderr.
    let mut ended_by = 0u8;
    let mut cut = 0u8;
    let mut drain_deadline: Option<Instant> = None;
    while !(status.is_some() && open_streams == 0 && all_reaped) {
        // The limits are looked at before every wait, so that a program
        // flooding its output (events without a pause) meets them too.
        if drain_deadline.is_none() {
            let now = Instant::now();
            let hit = if now >= deadline {
                WALL_LIMIT
            } else if cpu_watch.passed(now) {
                CPU_LIMIT
            } else {
                0
            };
            if hit != 0 {
                ended_by = hit;
                kill_all();
                drain_deadline = Some(now + DRAIN_GRACE);
            }
        }
        let until = drain_deadline.unwrap_or_else(|| deadline.min(cpu_watch.next_check()));
        let event = match inbox.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) if drain_deadline.is_some() => break,
            // A limit to look at again, above.
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match event {
            Event::Output(stream, bytes) => {
                if cut != 0 {
                    continue;
                }
                let room = step.output_cap.saturating_sub(forwarded);
                let keep = (bytes.len() as u64).min(room) as usize;
                if keep > 0 {
                    frame(out, stream, &bytes[..keep]).map_err(|error| error.to_string())?;
                    forwarded += keep as u64;
                }
                if keep < bytes.len() {
                    // A time limit that ended the step first stays its end.
                    if ended_by == 0 {
                        ended_by = OUTPUT_CAP;
                    }
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
    let flags = ended_by | cut;
    let succeeded = kind == 0 && value == 0 && ended_by == 0;
    let cpu = match (cpu_before, cpu_usage_us()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => UNKNOWN,
    };
    let ooms = match (oom_before, oom_kills()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => UNKNOWN,
    };
    let peak = match step_peak(max_rss.load(Ordering::Relaxed), usage_before, peak_before) {
        0 => UNKNOWN,
        bytes => bytes,
    };
    let mut result = vec![kind];
    result.extend_from_slice(&value.to_be_bytes());
    result.push(flags);
    for figure in [wall.as_micros() as u64, cpu, peak, ooms] {
        result.extend_from_slice(&figure.to_be_bytes());
    }
    frame(out, b'X', &result).map_err(|error| error.to_string())?;
    Ok(succeeded)
}

/// Watches the CPU time the sandbox's processes used during the step
/// (the container's cgroup counts them all, children and orphans included,
/// and the runner's small share of forwarding their output) against the
/// step's CPU-time limit. Without a limit, or where the cgroup cannot be
/// read, only the wall clock limits the step.
struct CpuWatch {
    /// The cgroup's CPU time when the step began, and the limit (µs).
    limit: Option<(u64, u64)>,
    next: Instant,
}

impl CpuWatch {
    fn new(before: Option<u64>, limit: Duration, now: Instant) -> CpuWatch {
        let limit_us = limit.as_micros() as u64;
        CpuWatch {
            limit: before.filter(|_| limit_us > 0).map(|before| (before, limit_us)),
            next: now,
        }
    }

    /// When the CPU time is to be read next (far away without a limit).
    fn next_check(&self) -> Instant {
        match self.limit {
            Some(_) => self.next,
            None => self.next + Duration::from_secs(3600),
        }
    }

    /// Whether the step has used up its CPU time, reading it when due.
    fn passed(&mut self, now: Instant) -> bool {
        let (before, limit) = match self.limit {
            Some(limit) if now >= self.next => limit,
            _ => return false,
        };
        let used = match cpu_usage_us() {
            Some(now_us) => now_us.saturating_sub(before),
            None => {
                self.limit = None;
                return false;
            }
        };
        if used >= limit {
            return true;
        }
        let pause = Duration::from_micros((limit - used) / 4);
        self.next = now + pause.max(CPU_CHECK_MIN).min(CPU_CHECK_MAX);
        false
    }
}

/// The step's memory peak. The cgroup's peak is the container's since its
/// start and cannot be reset from inside (the cgroup filesystem is
/// read-only), so it is the largest of: the largest peak resident set of a
/// process of the step (exact for one process, short of the sum for
/// processes that ran together), and, where the container's peak rose
/// during the step, that peak less what the container held when the step
/// began (which sees processes together, and the page cache and /tmp files
/// the step added).
fn step_peak(max_rss: u64, usage_before: Option<u64>, peak_before: Option<u64>) -> u64 {
    let cgroup = match (usage_before, peak_before, memory_peak()) {
        (Some(usage), Some(before), Some(after)) if after > before => after.saturating_sub(usage),
        _ => 0,
    };
    max_rss.max(cgroup)
}

/// A thread that writes the program's stdin, once it gets the pipe.
fn feeder(crew: &mut Crew, bytes: Vec<u8>) -> Result<Sender<ChildStdin>, String> {
    let (slot, pipe) = mpsc::channel::<ChildStdin>();
    crew.start(move || {
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
    crew: &mut Crew,
    tag: u8,
    events: SyncSender<Event>,
) -> Result<Sender<R>, String> {
    let (slot, pipe) = mpsc::channel::<R>();
    crew.start(move || {
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
/// gets the program's pid, reap them all, keeping the largest peak resident
/// set, report the program's own status, and say when none is left.
fn reaper(
    crew: &mut Crew,
    events: SyncSender<Event>,
    max_rss: Arc<AtomicU64>,
) -> Result<Sender<i32>, String> {
    let (slot, pid) = mpsc::channel::<i32>();
    crew.start(move || {
        let program = match pid.recv() {
            Ok(program) => program,
            Err(_) => return,
        };
        reap(program, &events, &max_rss);
    })?;
    Ok(slot)
}

fn reap(program: i32, events: &SyncSender<Event>, max_rss: &AtomicU64) {
    loop {
        match sys::reap_one(false) {
            Ok(Some(reaped)) => {
                max_rss.fetch_max(reaped.max_rss, Ordering::Relaxed);
                if reaped.pid == program {
                    let _ = events.send(Event::Exited(reaped.status));
                }
            }
            Ok(None) => {}
            Err(error) if error.raw_os_error() == Some(ECHILD) => {
                let _ = events.send(Event::AllReaped);
                return;
            }
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
}
