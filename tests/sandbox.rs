//! The sandbox against the real Docker engine, no mocks: every configured
//! language runs; outcomes are classified from facts (exit code, the
//! sandbox's timer, the kernel's OOM kill, the output cap); hostile programs
//! (infinite loops, memory and fork bombs, output floods) are contained; the
//! hardening holds as seen from inside the container (user, capabilities,
//! read-only root, capped scratch, no network, no Docker socket, no view of
//! another execution); and nothing an execution created is left behind.
//!
//! Needs the Docker engine at /var/run/docker.sock and the image
//! braindrill/runtime:bookworm (built by images/build.sh).

mod common;

use common::{assert_nothing_left, language, submit};

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::MountType;
use braindrill::configuration::Settings;
use braindrill::sandbox::container_spec::{
    CODE_DIR, ContainerSpec, SANDBOX_USER, SCRATCH_DIR, WORK_DIR,
};
use braindrill::sandbox::engine::{self, ENGINE_LABEL, ENGINE_NAME, EXECUTION_LABEL, NODE_LABEL};
use braindrill::sandbox::{
    CpuSet, DockerSandbox, Language, Outcome, Placement, RuntimeVolumes, Sandbox, Status,
    StepOutcome, Submission, TimeoutKind, runtime_volume, sweeper,
};

const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const DOCKER_TIMEOUT_S: u64 = 30;

/// The node every sandbox of this file runs as: its label marks all that
/// these tests create.
static NODE: LazyLock<String> = LazyLock::new(|| format!("sandbox-test-{}", uuid::Uuid::new_v4()));

/// A guard against a hung execution: far above any limit, so it only turns
/// a hang into a failure instead of a stuck test run.
const HANG_GUARD: Duration = Duration::from_secs(120);

fn sandbox_for(node: &str) -> DockerSandbox {
    let docker = engine::connect(DOCKER_SOCKET, DOCKER_TIMEOUT_S).expect("the Docker socket");
    DockerSandbox::new(docker, node)
}

fn sandbox() -> DockerSandbox {
    sandbox_for(&NODE)
}

/// Executes a submission; the outcome must name it.
async fn execute(sandbox: &DockerSandbox, submission: Submission) -> Outcome {
    let id = submission.execution_id.clone();
    let outcome = tokio::time::timeout(HANG_GUARD, sandbox.execute(submission))
        .await
        .unwrap_or_else(|_| panic!("execution {id} hung for {HANG_GUARD:?}"));
    assert_eq!(
        outcome.execution_id, id,
        "the outcome names another execution"
    );
    outcome
}

/// The run step of an outcome (every language here runs without compiling).
fn ran(outcome: &Outcome) -> &StepOutcome {
    assert!(
        outcome.compile.is_none(),
        "unexpected compile step: {outcome:#?}"
    );
    outcome
        .run
        .as_ref()
        .unwrap_or_else(|| panic!("the outcome has no run step: {outcome:#?}"))
}

/// Runs a python program with arguments and expects it to exit with 0.
async fn run_python_ok(sandbox: &DockerSandbox, code: &str, args: &[String]) -> String {
    let mut submission = submit(&language("python"), code);
    submission.args = args.to_vec();
    let id = submission.execution_id.clone();
    let outcome = execute(sandbox, submission).await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    assert_nothing_left(sandbox.docker(), &id).await;
    let run = ran(&outcome);
    assert!(
        run.cpu_time_ms.is_some() && run.memory_peak_bytes.is_some(),
        "a fresh run reports its CPU time and memory peak: {run:#?}"
    );
    // Shown when the test fails: the programs explain themselves there.
    if !run.stderr.is_empty() {
        eprintln!("stderr of {id}: {}", run.stderr);
    }
    run.stdout.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_world_runs_in_every_language() {
    let sandbox = sandbox();
    let programs = [
        ("python", "print('hi')\n"),
        ("ruby", "puts 'hi'\n"),
        ("perl", "print \"hi\\n\";\n"),
        ("javascript", "console.log('hi');\n"),
        ("php", "<?php\necho \"hi\\n\";\n"),
        (
            "java",
            "public class Main {\n    public static void main(String[] args) {\n        System.out.println(\"hi\");\n    }\n}\n",
        ),
    ];
    let configured: Vec<String> = Settings::load(None, std::iter::empty())
        .expect("the default settings load")
        .languages()
        .expect("the default languages resolve")
        .into_iter()
        .map(|language| language.name)
        .collect();
    // The six languages of the original must stay; more may be configured
    // (tests/conformance.rs covers every one).
    for (name, _) in programs {
        assert!(
            configured.iter().any(|configured| configured == name),
            "the language {name} is not configured; languages: {configured:?}"
        );
    }

    let mut failures = Vec::new();
    for (name, code) in programs {
        let submission = submit(&language(name), code);
        let id = submission.execution_id.clone();
        let outcome = execute(&sandbox, submission).await;
        let run = ran(&outcome);
        if outcome.status != Status::Ok
            || run.stdout != "hi\n"
            || run.exit_code != Some(0)
            || run.signal.is_some()
        {
            failures.push(format!("{name}: {outcome:#?}"));
        }
        assert_nothing_left(sandbox.docker(), &id).await;
    }
    assert!(
        failures.is_empty(),
        "hello world failed in:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_are_kept_apart() {
    let sandbox = sandbox();
    let code = r#"import sys
print("to out 1")
print("to err 1", file=sys.stderr)
sys.stdout.flush()
print("to out 2")
print("to err 2", file=sys.stderr)
"#;
    let submission = submit(&language("python"), code);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    assert_eq!(run.stdout, "to out 1\nto out 2\n");
    assert_eq!(run.stderr, "to err 1\nto err 2\n");
    assert!(!run.stdout_truncated && !run.stderr_truncated);
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_zero_exit_is_a_runtime_error_with_its_code() {
    let sandbox = sandbox();
    let code = "import sys\nprint('before exit')\nsys.exit(3)\n";
    let submission = submit(&language("python"), code);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::RuntimeError, "{outcome:#?}");
    assert_eq!(run.exit_code, Some(3));
    assert_eq!(run.signal, None);
    assert_eq!(run.stdout, "before exit\n");
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out_on_its_cpu_time() {
    let sandbox = sandbox();
    let python = language("python");
    let code = "print('looping', flush=True)\nwhile True:\n    pass\n";
    let mut submission = submit(&python, code);
    // A wall clock 60 times the CPU time: the loop reaches its CPU time
    // first even on a machine loaded by other tests.
    let cpu_limit = Duration::from_millis(500);
    submission.limits.cpu_time = cpu_limit;
    submission.limits.timeout = Duration::from_secs(30);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;

    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::Timeout, "{outcome:#?}");
    assert_eq!(run.timeout_kind, Some(TimeoutKind::Cpu), "{outcome:#?}");
    // Killed once its CPU time passed the limit (read every 50 ms at
    // most), whatever the machine's load did to its wall time.
    let cpu = run.cpu_time_ms.expect("a fresh sandbox measures CPU time");
    let limit = cpu_limit.as_millis() as u64;
    assert!(
        (limit..=limit + 1000).contains(&cpu),
        "killed after {cpu} ms of CPU time, the limit being {limit} ms"
    );
    assert_eq!(run.signal, Some(9), "{outcome:#?}");
    assert_eq!(run.stdout, "looping\n", "output before the kill is kept");
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeping_program_times_out_on_the_wall_clock() {
    let sandbox = sandbox();
    let python = language("python");
    let code = "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n";
    let mut submission = submit(&python, code);
    submission.limits.timeout = Duration::from_millis(1500);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;

    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::Timeout, "{outcome:#?}");
    assert_eq!(run.timeout_kind, Some(TimeoutKind::Wall), "{outcome:#?}");
    assert!(run.wall_time_ms >= 1500, "{outcome:#?}");
    let cpu = run.cpu_time_ms.expect("a fresh sandbox measures CPU time");
    assert!(
        cpu < python.limits.cpu_time.as_millis() as u64,
        "{outcome:#?}"
    );
    assert_eq!(run.stdout, "sleeping\n");
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpu_time_of_several_processes_is_limited_by_their_sum() {
    let sandbox = sandbox();
    let python = language("python");
    // Four processes burning CPU: limited one by one, they would use four
    // times the limit before the last one stopped.
    let code = r#"import os
for _ in range(4):
    if os.fork() == 0:
        while True:
            pass
print('burning', flush=True)
os.wait()
"#;
    let mut submission = submit(&python, code);
    submission.limits.cpu_time = Duration::from_millis(1000);
    submission.limits.timeout = Duration::from_secs(30);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;

    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::Timeout, "{outcome:#?}");
    assert_eq!(run.timeout_kind, Some(TimeoutKind::Cpu), "{outcome:#?}");
    let cpu = run.cpu_time_ms.expect("a fresh sandbox measures CPU time");
    assert!(
        (1000..2000).contains(&cpu),
        "four processes used {cpu} ms of CPU time under a 1000 ms limit"
    );
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_memory_limit() {
    let sandbox = sandbox();
    let code = r#"chunks = []
while True:
    chunks.append(b"x" * (1 << 20))
"#;
    let submission = submit(&language("python"), code);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    let run = ran(&outcome);
    assert_eq!(outcome.status, Status::MemoryLimit, "{outcome:#?}");
    assert_eq!(
        run.signal,
        Some(9),
        "the OOM killer sends SIGKILL: {outcome:#?}"
    );
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_flood_hits_the_output_limit() {
    let sandbox = sandbox();
    let python = language("python");
    let cap = python.limits.output_bytes;
    let code = "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n";
    let submission = submit(&python, code);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    let run = ran(&outcome);
    assert_eq!(
        outcome.status,
        Status::OutputLimit,
        "status {:?}",
        outcome.status
    );
    assert!(
        run.stdout.len() <= cap,
        "{} bytes kept over a cap of {cap}",
        run.stdout.len()
    );
    assert!(!run.stdout.is_empty(), "the output up to the cap is kept");
    assert!(
        run.stdout.bytes().all(|byte| byte == b'x'),
        "the output is garbled"
    );
    assert!(run.stdout_truncated);
    assert!(!run.stderr_truncated);
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_bomb_is_contained_and_the_next_run_works() {
    let sandbox = sandbox();
    let python = language("python");
    let bomb = r#"import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"#;
    let submission = submit(&python, bomb);
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    assert!(
        matches!(outcome.status, Status::Timeout | Status::RuntimeError),
        "{outcome:#?}"
    );
    assert!(outcome.run.is_some(), "{outcome:#?}");
    assert_nothing_left(sandbox.docker(), &id).await;

    let next = submit(&python, "print('hi')\n");
    let next_id = next.execution_id.clone();
    let outcome = execute(&sandbox, next).await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    assert_eq!(ran(&outcome).stdout, "hi\n");
    assert_nothing_left(sandbox.docker(), &next_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_scratch_area_is_writable() {
    let sandbox = sandbox();
    let code = format!(
        r#"def attempt(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "written"
    except OSError:
        return "refused"
for path in ["/etc/x", "/x", "/usr/x", "{CODE_DIR}/x", "{WORK_DIR}/x", "{WORK_DIR}/main.py", "{SCRATCH_DIR}/x"]:
    print(path, attempt(path))
"#
    );
    let stdout = run_python_ok(&sandbox, &code, &[]).await;
    assert_eq!(
        stdout,
        format!(
            "/etc/x refused\n/x refused\n/usr/x refused\n{CODE_DIR}/x refused\n\
             {WORK_DIR}/x refused\n{WORK_DIR}/main.py refused\n{SCRATCH_DIR}/x written\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_is_unreachable() {
    let sandbox = sandbox();
    // No traffic can leave: the container has no interface but loopback, so
    // both attempts fail at once inside it.
    let code = r#"import socket, sys
try:
    socket.create_connection(("10.0.0.1", 80), timeout=2).close()
    print("connect: open")
except OSError as error:
    print("connect: blocked")
    print("connect:", error, file=sys.stderr)
try:
    socket.getaddrinfo("example.com", 80)
    print("dns: resolved")
except OSError as error:
    print("dns: blocked")
    print("dns:", error, file=sys.stderr)
"#;
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(stdout, "connect: blocked\ndns: blocked\n");
}

/// Looks for its own marker (from its source) and the other execution's
/// (from stdin) in every plausible place, for long enough that the two
/// executions overlap; prints what it found.
const SNOOP: &str = r#"import os, sys, time
OWN = "@OWN@"
other_marker, other_id = sys.stdin.read().split()
with open("/tmp/marker.txt", "w") as f:
    f.write(OWN)
ROOTS = ["/sandbox", "/tmp", "/var/lib/docker", "/var/run", "/run", "/mnt", "/media",
         "/srv", "/opt", "/home", "/root", "/dev/shm"]
def search(marker):
    needle = marker.encode()
    hits = set()
    for root in ROOTS:
        for folder, _, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as f:
                        if needle in f.read(1 << 20):
                            hits.add(path)
                except OSError:
                    pass
    for pid in [pid for pid in os.listdir("/proc") if pid.isdigit()]:
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as f:
                    if needle in f.read():
                        hits.add(f"/proc/{pid}/{part}")
            except OSError:
                pass
    return hits
started = time.time()
own, other = set(), set()
while time.time() < started + 1.5:
    own |= search(OWN)
    other |= search(other_marker)
print("own:", " ".join(sorted(own)))
print("other:", " ".join(sorted(other)) or "none")
print("processes:", len([pid for pid in os.listdir("/proc") if pid.isdigit()]))
print("other volume:", any(other_id in name for root in ["/var/lib/docker", "/sandbox"]
                           for name in (os.listdir(root) if os.path.isdir(root) else [])))
print(started, time.time(), file=sys.stderr)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_executions_cannot_see_each_other() {
    let sandbox = sandbox();
    let python = language("python");
    let marker_a = format!("marker-{}", uuid::Uuid::new_v4());
    let marker_b = format!("marker-{}", uuid::Uuid::new_v4());
    let mut a = submit(&python, &SNOOP.replace("@OWN@", &marker_a));
    let mut b = submit(&python, &SNOOP.replace("@OWN@", &marker_b));
    a.stdin = format!("{marker_b} {}", b.execution_id);
    b.stdin = format!("{marker_a} {}", a.execution_id);
    let (id_a, id_b) = (a.execution_id.clone(), b.execution_id.clone());

    let (outcome_a, outcome_b) = tokio::join!(execute(&sandbox, a), execute(&sandbox, b));

    let mut spans = Vec::new();
    for outcome in [&outcome_a, &outcome_b] {
        assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
        let run = ran(outcome);
        assert_eq!(
            run.stdout,
            "own: /sandbox/code/main.py /tmp/marker.txt\n\
             other: none\nprocesses: 2\nother volume: False\n",
            "{outcome:#?}"
        );
        let span: Vec<f64> = run
            .stderr
            .split_whitespace()
            .map(|time| time.parse().expect("the program prints two times"))
            .collect();
        spans.push(span);
    }
    // Meaningful only if the two really ran at the same time.
    assert!(
        spans[0][0] < spans[1][1] && spans[1][0] < spans[0][1],
        "the executions did not overlap: {spans:?}"
    );
    assert_nothing_left(sandbox.docker(), &id_a).await;
    assert_nothing_left(sandbox.docker(), &id_b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_socket_is_invisible() {
    let sandbox = sandbox();
    let code = r#"import os, stat
print(os.path.exists("/var/run/docker.sock"), os.path.exists("/run/docker.sock"))
sockets = []
for root in ["/run", "/var/run", "/var/lib", "/tmp", "/sandbox", "/dev"]:
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    sockets.append(path)
            except OSError:
                pass
print("sockets:", sockets)
"#;
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(stdout, "False False\nsockets: []\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_runs_as_nobody_without_capabilities_or_new_privileges() {
    let sandbox = sandbox();
    let code = r#"import os
print("uid", os.getuid(), os.geteuid())
print("gid", os.getgid(), os.getegid())
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"]:
    print(key, status[key].strip())
"#;
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(
        stdout,
        "uid 65534 65534\ngid 65534 65534\n\
         CapInh 0000000000000000\nCapPrm 0000000000000000\nCapEff 0000000000000000\n\
         CapBnd 0000000000000000\nCapAmb 0000000000000000\nNoNewPrivs 1\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_is_read_only_and_the_scratch_is_a_capped_tmpfs() {
    let sandbox = sandbox();
    let limits = language("python").limits;
    // Files of 2 MiB stay under the file size limit: only the tmpfs's size
    // can stop the filling.
    let code = r#"import errno, os, sys
scratch = int(sys.argv[1])
print("root read-only:", bool(os.statvfs("/").f_flag & os.ST_RDONLY))
mounts = {}
for line in open("/proc/self/mountinfo"):
    left, right = line.split(" - ")
    fields = left.split()
    mounts[fields[4]] = (right.split()[0], fields[5].split(","))
kind, options = mounts["/tmp"]
print("tmp:", kind, "nosuid" in options, "nodev" in options)
fs = os.statvfs("/tmp")
print("tmp size matches:", fs.f_blocks * fs.f_frsize == scratch)
chunk = b"x" * (1 << 20)
written, error, n = 0, None, 0
try:
    while written <= scratch:
        fd = os.open(f"/tmp/fill{n}", os.O_WRONLY | os.O_CREAT, 0o600)
        n += 1
        try:
            for _ in range(2):
                written += os.write(fd, chunk)
        finally:
            os.close(fd)
except OSError as e:
    error = errno.errorcode[e.errno]
print("fill:", error, scratch - (1 << 20) < written <= scratch)
print("written:", written, file=sys.stderr)
"#;
    let stdout = run_python_ok(&sandbox, code, &[limits.scratch_bytes.to_string()]).await;
    assert_eq!(
        stdout,
        "root read-only: True\ntmp: tmpfs True True\ntmp size matches: True\nfill: ENOSPC True\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_size_limit_cannot_be_written() {
    let sandbox = sandbox();
    let limits = language("python").limits;
    assert!(
        limits.file_size_bytes < limits.scratch_bytes,
        "setup: the file size limit must bind before the scratch area is full"
    );
    let code = r#"import errno, os, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
fd = os.open("/tmp/big", os.O_WRONLY | os.O_CREAT, 0o600)
written = 0
try:
    while written <= limit:
        written += os.write(fd, b"x" * (1 << 20))
    print("unlimited", written)
except OSError as e:
    print(errno.errorcode[e.errno], written == limit)
print("written:", written, file=sys.stderr)
"#;
    let stdout = run_python_ok(&sandbox, code, &[limits.file_size_bytes.to_string()]).await;
    assert_eq!(stdout, "EFBIG True\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_and_processes_beyond_the_pids_limit_are_refused() {
    let sandbox = sandbox();
    let limits = language("python").limits;
    // Processes first: a reaped child frees its pid at once, while a joined
    // thread may still hold its own for a moment.
    let code = r#"import os, sys, threading
limit = int(sys.argv[1])
read_end, write_end = os.pipe()
children = []
try:
    for _ in range(limit + 16):
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            os.read(read_end, 1)
            os._exit(0)
        children.append(pid)
    print("processes: unlimited")
except OSError:
    print("processes: refused", 0 < len(children) < limit)
print("processes started:", len(children), file=sys.stderr)
os.close(write_end)
for pid in children:
    os.waitpid(pid, 0)
stop = threading.Event()
threads = []
try:
    for _ in range(limit + 16):
        thread = threading.Thread(target=stop.wait)
        thread.start()
        threads.append(thread)
    print("threads: unlimited")
except RuntimeError:
    print("threads: refused", 0 < len(threads) < limit)
print("threads started:", len(threads), file=sys.stderr)
stop.set()
for thread in threads:
    thread.join()
"#;
    let stdout = run_python_ok(&sandbox, code, &[limits.pids.to_string()]).await;
    assert_eq!(stdout, "processes: refused True\nthreads: refused True\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_loopback_interface_exists() {
    let sandbox = sandbox();
    let code = "import os\nprint(sorted(os.listdir('/sys/class/net')))\n";
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(stdout, "['lo']\n");
}

/// The runner is PID 1 of a fresh container too (it reaps, measures and
/// enforces the CPU-time limit), and the program its child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pid_1_is_the_runner() {
    let sandbox = sandbox();
    let code = r#"import os
command = open("/proc/1/cmdline", "rb").read().split(b"\0")
print(os.path.basename(command[0].decode()), os.getppid())
"#;
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(stdout, "braindrill-runner 1\n");
}

/// The program, and what it starts, are the OOM killer's first choice: a
/// program that exhausts the sandbox's memory is killed, not the runner
/// (PID 1, in the same memory cgroup), which then reports the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_not_the_runner_is_the_oom_killers_choice() {
    let sandbox = sandbox();
    let code = r#"import subprocess
own = open("/proc/self/oom_score_adj").read().strip()
child = subprocess.run(["cat", "/proc/self/oom_score_adj"], capture_output=True, text=True).stdout.strip()
print(own, child)
"#;
    let stdout = run_python_ok(&sandbox, code, &[]).await;
    assert_eq!(stdout, "1000 1000\n");
}

/// A node's `sandbox.cpuset` pins its containers: the program runs on
/// those CPUs only (this machine has at least two; CPU 1 is not the default
/// set of all of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_sandbox_runs_on_its_cpus_only() {
    let cpuset = CpuSet::parse("1").expect("a CPU list");
    let limits = language("python").limits;
    let spec = ContainerSpec {
        image: "braindrill/runtime:bookworm",
        command: &[],
        volume: None,
        code_read_only: false,
        limits: &limits,
        placement: &Placement {
            cpuset: Some(cpuset.clone()),
            ..Placement::default()
        },
        labels: HashMap::new(),
    };
    let host = spec.to_create_body().host_config.expect("a host config");
    assert_eq!(host.cpuset_cpus.as_deref(), Some("1"));

    let pinned = sandbox().with_cpuset(Some(cpuset));
    let code = "import os\nprint(sorted(os.sched_getaffinity(0)))\n";
    assert_eq!(run_python_ok(&pinned, code, &[]).await, "[1]\n");
}

/// The `/usr` line of the program's mount table, if `/usr` is a mount of
/// its own.
const USR_MOUNT: &str = r#"
import json
line = next((l for l in open("/proc/self/mountinfo") if l.split()[4] == "/usr"), None)
try:
    open("/usr/lib/left-by-a-program", "w")
    wrote = "yes"
except OSError as error:
    wrote = error.strerror
print(json.dumps({"mount": line and line.split()[3], "options": line and line.split()[5], "wrote": wrote}))
"#;

/// With the runtime image's volume ready (images/build.sh makes it), a
/// sandbox reads `/usr` from that volume, read-only, and the programs run
/// as before; without runtime volumes `/usr` is the image's own. An image
/// whose volume has no marker (a copy cut short) gets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_mounts_usr_from_its_images_runtime_volume_when_ready() {
    let docker = engine::connect(DOCKER_SOCKET, DOCKER_TIMEOUT_S).expect("the Docker socket");
    let image = language("python").image;
    let volumes = RuntimeVolumes::discover(&docker, std::slice::from_ref(&image)).await;
    let runtime = volumes
        .of(&image)
        .unwrap_or_else(|| panic!("no runtime volume is ready for {image}: run images/build.sh"))
        .clone();
    let image_id = docker
        .inspect_image(&image)
        .await
        .expect("the runtime image")
        .id
        .expect("an image ID");
    assert_eq!(runtime.image_id, image_id);
    assert_eq!(runtime.volume, runtime_volume::volume_name(&image_id));

    let mounted = sandbox().with_runtime_volumes(volumes);
    let seen: serde_json::Value =
        serde_json::from_str(&run_python_ok(&mounted, USR_MOUNT, &[]).await).expect("JSON");
    assert_eq!(
        seen["mount"],
        format!("/var/lib/docker/volumes/{}/_data", runtime.volume),
        "{seen}"
    );
    assert!(
        seen["options"]
            .as_str()
            .is_some_and(|options| options.starts_with("ro")),
        "{seen}"
    );
    assert_eq!(seen["wrote"], "Read-only file system", "{seen}");

    let unmounted: serde_json::Value =
        serde_json::from_str(&run_python_ok(&sandbox(), USR_MOUNT, &[]).await).expect("JSON");
    assert_eq!(unmounted["mount"], serde_json::Value::Null, "{unmounted}");
    assert_eq!(unmounted["wrote"], "Read-only file system", "{unmounted}");

    // An image of its own (a label on the runtime image) with a volume
    // named and labelled as its runtime volume, but no marker: not used.
    let tag = format!(
        "braindrill-test/no-marker:{}",
        uuid::Uuid::new_v4().simple()
    );
    let built = std::process::Command::new("docker")
        .args(["build", "--quiet", "--network", "none", "-t", &tag, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                writeln!(stdin, "FROM {image}\nLABEL braindrill.test={tag}")?;
            }
            child.wait()
        })
        .expect("docker build");
    assert!(built.success(), "cannot build {tag}");
    let other_id = docker
        .inspect_image(&tag)
        .await
        .expect("the built image")
        .id
        .expect("an image ID");
    let unmarked = runtime_volume::volume_name(&other_id);
    docker
        .create_volume(bollard::models::VolumeCreateRequest {
            name: Some(unmarked.clone()),
            labels: Some(HashMap::from([(
                runtime_volume::RUNTIME_IMAGE_LABEL.to_string(),
                other_id.clone(),
            )])),
            ..Default::default()
        })
        .await
        .expect("a volume");
    let found = RuntimeVolumes::discover(&docker, std::slice::from_ref(&tag)).await;
    let _ = engine::remove_volume(&docker, &unmarked).await;
    let _ = std::process::Command::new("docker")
        .args(["rmi", &tag])
        .output();
    assert_eq!(
        found.of(&tag),
        None,
        "a volume without its marker is not used"
    );
}

#[test]
fn the_container_spec_is_hardened() {
    let limits = language("python").limits;
    let command = vec!["python3".to_string(), "main.py".to_string()];
    let labels = engine::labels("spec-node", "spec-execution");
    for code_read_only in [false, true] {
        let spec = ContainerSpec {
            image: "braindrill/runtime:bookworm",
            command: &command,
            volume: Some("braindrill-spec-execution"),
            code_read_only,
            limits: &limits,
            placement: &Placement::default(),
            labels: labels.clone(),
        };
        let body = spec.to_create_body();
        assert_eq!(body.image.as_deref(), Some("braindrill/runtime:bookworm"));
        assert_eq!(body.cmd.as_ref(), Some(&command));
        assert_eq!(body.user.as_deref(), Some(SANDBOX_USER));
        assert_eq!(SANDBOX_USER, "65534:65534");
        assert_eq!(body.working_dir.as_deref(), Some(WORK_DIR));
        assert_eq!(body.network_disabled, Some(true));
        assert_eq!(body.tty, Some(false));
        let body_labels = body.labels.as_ref().expect("labels");
        assert_eq!(
            body_labels.get(ENGINE_LABEL).map(String::as_str),
            Some(ENGINE_NAME)
        );
        assert_eq!(
            body_labels.get(NODE_LABEL).map(String::as_str),
            Some("spec-node")
        );
        assert_eq!(
            body_labels.get(EXECUTION_LABEL).map(String::as_str),
            Some("spec-execution")
        );

        let host = body.host_config.as_ref().expect("a host config");
        assert_eq!(host.network_mode.as_deref(), Some("none"));
        assert_eq!(host.readonly_rootfs, Some(true));
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
        assert!(host.cap_add.as_ref().is_none_or(Vec::is_empty));
        assert!(!host.privileged.unwrap_or(false));
        assert!(
            host.security_opt
                .as_ref()
                .is_some_and(|options| options.iter().any(|o| o == "no-new-privileges")),
            "{:?}",
            host.security_opt
        );
        let memory = i64::try_from(limits.memory_bytes).expect("memory fits");
        assert_eq!(host.memory, Some(memory));
        assert_eq!(host.memory_swap, Some(memory), "no swap");
        assert_eq!(host.nano_cpus, Some((limits.cpus * 1e9) as i64));
        assert_eq!(host.cpuset_cpus, None, "any CPU unless pinned");
        assert_eq!(host.pids_limit, Some(limits.pids));
        let ulimits: HashMap<String, (Option<i64>, Option<i64>)> = host
            .ulimits
            .as_ref()
            .expect("ulimits")
            .iter()
            .map(|u| (u.name.clone().unwrap_or_default(), (u.soft, u.hard)))
            .collect();
        assert_eq!(
            ulimits.get("nofile"),
            Some(&(Some(limits.nofile), Some(limits.nofile)))
        );
        let file_size = i64::try_from(limits.file_size_bytes).expect("file size fits");
        assert_eq!(
            ulimits.get("fsize"),
            Some(&(Some(file_size), Some(file_size)))
        );
        let tmpfs = host.tmpfs.as_ref().expect("a tmpfs");
        let scratch_options: Vec<&str> = tmpfs
            .get(SCRATCH_DIR)
            .expect("the scratch tmpfs")
            .split(',')
            .collect();
        let size = format!("size={}", limits.scratch_bytes);
        for option in [size.as_str(), "nosuid", "nodev"] {
            assert!(
                scratch_options.contains(&option),
                "{option} in {scratch_options:?}"
            );
        }
        assert_eq!(host.init, Some(true));
        assert_eq!(host.ipc_mode.as_deref(), Some("none"));
        assert_eq!(
            host.log_config.as_ref().and_then(|log| log.typ.as_deref()),
            Some("none")
        );
        assert!(
            host.binds.as_ref().is_none_or(Vec::is_empty),
            "no bind mounts"
        );
        assert!(
            host.devices.as_ref().is_none_or(Vec::is_empty),
            "no devices"
        );
        let mounts = host.mounts.as_ref().expect("mounts");
        assert_eq!(mounts.len(), 1, "{mounts:?}");
        let mount = &mounts[0];
        assert_eq!(mount.typ, Some(MountType::VOLUME));
        assert_eq!(mount.target.as_deref(), Some(CODE_DIR));
        assert_eq!(mount.source.as_deref(), Some("braindrill-spec-execution"));
        assert_eq!(mount.read_only, Some(code_read_only));
        let volume_labels = mount
            .volume_options
            .as_ref()
            .and_then(|options| options.labels.as_ref())
            .expect("the volume is labelled");
        assert_eq!(volume_labels, &labels);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_is_passed_and_closed() {
    let sandbox = sandbox();
    let mut submission = submit(
        &language("python"),
        "import sys\nprint(repr(sys.stdin.read()))\n",
    );
    submission.stdin = "hello".to_string();
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    assert_eq!(ran(&outcome).stdout, "'hello'\n");
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_are_appended_to_the_run_command() {
    let sandbox = sandbox();
    let stdout = run_python_ok(
        &sandbox,
        "import sys\nprint(sys.argv[1:])\n",
        &["one".to_string(), "two words".to_string()],
    )
    .await;
    assert_eq!(stdout, "['one', 'two words']\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_after_executions_finds_nothing() {
    // A node of its own, so that the sweep cannot touch the other tests.
    let node = format!("sandbox-test-sweep-{}", uuid::Uuid::new_v4());
    let sandbox = sandbox_for(&node);
    let python = language("python");
    for code in [
        "print('hi')\n",
        "while True:\n    pass\n",
        "import sys\nsys.exit(1)\n",
    ] {
        let submission = submit(&python, code);
        let id = submission.execution_id.clone();
        let outcome = execute(&sandbox, submission).await;
        assert_ne!(outcome.status, Status::InternalError, "{outcome:#?}");
        assert_nothing_left(sandbox.docker(), &id).await;
    }
    let swept = sweeper::sweep(sandbox.docker(), Some(&node))
        .await
        .expect("the sweep lists the engine's objects");
    assert_eq!(
        swept,
        sweeper::Swept::default(),
        "the executions left these behind"
    );
}

/// Java compiled by javac in its own step, then run from the read-only code
/// folder: the path of every language with a `compile` command.
fn compiled_java() -> Language {
    let mut java = language("java");
    java.name = "java-compiled".into();
    java.compile = Some(vec![
        "javac".into(),
        "-J-Xss512k".into(),
        "Main.java".into(),
    ]);
    java.run = vec![
        "java".into(),
        "-XX:+UseSerialGC".into(),
        "-cp".into(),
        ".".into(),
        "Main".into(),
    ];
    java
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compile_step_runs_first_and_its_output_is_used() {
    let sandbox = sandbox();
    let java = compiled_java();
    let submission = submit(
        &java,
        "public class Main { public static void main(String[] a) { System.out.println(\"compiled \" + a.length); } }",
    );
    let id = submission.execution_id.clone();
    let mut submission = submission;
    submission.args = vec!["x".into(), "y".into()];
    let outcome = execute(&sandbox, submission).await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    let compile = outcome.compile.as_ref().expect("a compile step");
    assert_eq!(compile.status, Status::Ok);
    let run = outcome.run.as_ref().expect("a run step");
    assert_eq!(run.stdout, "compiled 2\n");
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compile_error_is_reported_with_the_compilers_message() {
    let sandbox = sandbox();
    let submission = submit(&compiled_java(), "public class Main { oops }");
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    assert_eq!(outcome.status, Status::CompileError, "{outcome:#?}");
    assert!(
        outcome.run.is_none(),
        "the program ran after a failed compile"
    );
    let compile = outcome.compile.as_ref().expect("a compile step");
    assert_eq!(compile.status, Status::RuntimeError);
    assert!(
        compile.stderr.contains("Main.java:1: error"),
        "{}",
        compile.stderr
    );
    assert_nothing_left(sandbox.docker(), &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compiled_program_cannot_change_its_code_folder() {
    let sandbox = sandbox();
    let submission = submit(
        &compiled_java(),
        r#"public class Main { public static void main(String[] a) {
            try { new java.io.FileOutputStream("Main.class").write(1); System.out.println("wrote"); }
            catch (Exception e) { System.out.println("refused"); } } }"#,
    );
    let id = submission.execution_id.clone();
    let outcome = execute(&sandbox, submission).await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:#?}");
    assert_eq!(outcome.run.as_ref().expect("run").stdout, "refused\n");
    assert_nothing_left(sandbox.docker(), &id).await;
}

/// Containers and volumes that carry the execution's label.
async fn labelled_objects(docker: &Docker, execution_id: &str) -> usize {
    let found = engine::list_objects(
        docker,
        engine::with_labels(vec![format!("{EXECUTION_LABEL}={execution_id}")]),
    )
    .await
    .expect("the engine lists containers and volumes");
    found.containers.len() + found.volumes.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_execution_still_removes_its_container_and_volume() {
    let sandbox = sandbox();
    let submission = submit(&language("python"), "while True: pass");
    let id = submission.execution_id.clone();
    let running = tokio::spawn({
        let sandbox = sandbox.clone();
        async move { sandbox.execute(submission).await }
    });
    // Wait until the container exists, then cancel the execution (as a
    // dropped request would).
    let deadline = Instant::now() + Duration::from_secs(30);
    while labelled_objects(sandbox.docker(), &id).await == 0 {
        assert!(Instant::now() < deadline, "the container never appeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
    assert!(running.await.is_err_and(|error| error.is_cancelled()));
    // The removal runs on the runtime after the drop: wait for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while labelled_objects(sandbox.docker(), &id).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the cancelled execution left its container or volume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
