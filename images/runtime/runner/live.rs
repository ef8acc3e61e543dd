//! `--live`: PID 1 of a live sandbox, a runner container that serves one
//! interactive execution and exits. It reads one request as a warm runner
//! does (the files and the steps), runs the compile step as usual, and runs
//! the last step with its stdin fed from the engine while it runs: the
//! program's output already leaves as frames the moment it is read (see
//! step.rs), so only the input side differs.
//!
//! While the last step runs the runner keeps reading its own stdin, which
//! now carries frames from the engine (mirrored in
//! src/sandbox/runner_protocol.rs, `LiveInput`):
//! - `I` + u32 length + bytes: bytes for the program's stdin, in order;
//! - `E`: close the program's stdin (it reads EOF);
//! - `S` + u8 signal number: deliver that signal (SIGHUP, SIGINT, SIGQUIT,
//!   SIGKILL, SIGTERM only) to every process of the sandbox but the runner,
//!   as a terminal's Ctrl-C reaches the foreground job.
//!
//! Every limit of a step holds as in any other run (CPU time, wall clock,
//! output cap, memory); the engine keeps its idle limit and its own timer.
//! Input waits in a bounded queue: a program that does not read its stdin
//! blocks the reader here, then the engine's writes, and never grows the
//! runner (inside the sandbox's memory limit) without bound.

use std::io::{self, BufReader, Read, Stdin, Write};
use std::process::ChildStdin;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use crate::step::{self, Crew};
use crate::wire::{self, frame};

/// Largest input frame the engine sends.
const MAX_INPUT: usize = 1024 * 1024;
/// Input chunks that may wait for the program to read them (the engine
/// sends at most 64 KiB a chunk: 1 MiB in all).
const QUEUED_INPUT: usize = 16;
const SIGNALS: [u8; 5] = [1, 2, 3, 9, 15];

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Serves one request in live mode, then returns (the runner exits and the
/// engine removes the container).
pub fn serve(out: &mut io::Stdout) {
    let mut input = BufReader::new(io::stdin());
    let request = match wire::read_request(&mut input) {
        Ok(request) => request,
        Err(error) => return fault(out, &format!("bad request: {error}")),
    };
    if let Err(error) = run(out, request, input) {
        fault(out, &error);
    }
}

fn run(
    out: &mut io::Stdout,
    request: wire::Request,
    input: BufReader<Stdin>,
) -> Result<(), String> {
    crate::write_files(&request.files).map_err(|error| format!("cannot write the code: {error}"))?;
    if request.steps.is_empty() {
        return Err("no step to run".into());
    }
    let mut crew = Crew::new();
    let last = request.steps.len() - 1;
    let mut input = Some(input);
    for (index, step) in request.steps.into_iter().enumerate() {
        let succeeded = if index == last {
            crate::prepare_last_step().map_err(|error| format!("cannot seal the code: {error}"))?;
            let input = input.take().ok_or("the input was taken twice")?;
            let slot = feeders(&mut crew, input)?;
            step::run_fed(out, step, &mut crew, Some(slot))?
        } else {
            step::run(out, step, &mut crew)?
        };
        if !succeeded {
            break;
        }
    }
    Ok(())
}

/// Two threads, both started before the program: a reader of the engine's
/// frames (signals are delivered at once) and a writer of the program's
/// stdin (which may block on a program that does not read). Returns where
/// the program's stdin pipe goes.
fn feeders(crew: &mut Crew, mut input: BufReader<Stdin>) -> Result<Sender<ChildStdin>, String> {
    let (slot, pipe) = mpsc::channel::<ChildStdin>();
    let (chunks, queued) = mpsc::sync_channel::<Option<Vec<u8>>>(QUEUED_INPUT);
    crew.start(move || write_stdin(pipe, queued))?;
    crew.start(move || read_frames(&mut input, chunks))?;
    Ok(slot)
}

fn write_stdin(pipe: Receiver<ChildStdin>, queued: Receiver<Option<Vec<u8>>>) {
    let mut stdin = match pipe.recv() {
        Ok(stdin) => Some(stdin),
        Err(_) => return,
    };
    while let Ok(chunk) = queued.recv() {
        match (chunk, stdin.as_mut()) {
            (Some(bytes), Some(pipe)) => {
                // A program that closed its stdin or ended: what follows
                // has no reader.
                if pipe.write_all(&bytes).and_then(|()| pipe.flush()).is_err() {
                    stdin = None;
                }
            }
            (None, _) => stdin = None,
            (Some(_), None) => {}
        }
    }
}

/// Reads the engine's frames until its stdin closes (the engine is gone:
/// the container is being removed) or an unknown frame.
fn read_frames(input: &mut impl Read, chunks: SyncSender<Option<Vec<u8>>>) {
    loop {
        let mut tag = [0u8; 1];
        if input.read_exact(&mut tag).is_err() {
            let _ = chunks.send(None);
            return;
        }
        match tag[0] {
            b'I' => {
                let mut len = [0u8; 4];
                if input.read_exact(&mut len).is_err() {
                    return;
                }
                let len = u32::from_be_bytes(len) as usize;
                if len > MAX_INPUT {
                    return;
                }
                let mut bytes = vec![0u8; len];
                if input.read_exact(&mut bytes).is_err() || chunks.send(Some(bytes)).is_err() {
                    return;
                }
            }
            b'E' => {
                if chunks.send(None).is_err() {
                    return;
                }
            }
            b'S' => {
                let mut signal = [0u8; 1];
                if input.read_exact(&mut signal).is_err() {
                    return;
                }
                if SIGNALS.contains(&signal[0]) {
                    // SAFETY: plain syscall; -1 never includes the caller.
                    unsafe {
                        kill(-1, i32::from(signal[0]));
                    }
                }
            }
            _ => return,
        }
    }
}

fn fault(out: &mut io::Stdout, message: &str) {
    let _ = frame(out, b'F', message.as_bytes());
}
