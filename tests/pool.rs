//! Warm sandboxes against the real Docker engine: single use, bounded, sized
//! from the demand, the sandbox's guarantees in pooled mode, what the
//! in-sandbox runner measures, and nothing left after a worker's shutdown
//! or crash, or a pool's stop while recycled sandboxes reset.

mod common;

use std::time::{Duration, Instant};

use braindrill::sandbox::{
    CpuSet, PoolSizing, PooledSandbox, ReuseMode, ReusePolicy, Sandbox, Status, TimeoutKind, engine,
};
use common::test_pool::{TestPool, wait_for_warm};
use common::{Node, client, free_port, language, submit, wait_for_nodes};

/// Waits until the pool holds `count` warm sandboxes in all.
async fn wait_for_total(pool: &PooledSandbox, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.warm_count() < count {
        assert!(
            Instant::now() < deadline,
            "the pool never held {count} warm sandboxes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const RECYCLE: ReusePolicy = ReusePolicy {
    mode: ReuseMode::Recycle,
    max_runs: 50,
    max_age: Duration::from_secs(300),
};

/// Waits until the pool holds exactly `count` warm sandboxes for python.
async fn wait_for_python_shelf(pool: &TestPool, count: usize, why: &str) {
    let python = language("python");
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.warm_count_for(&python) != count {
        assert!(
            Instant::now() < deadline,
            "python's shelf held {} warm sandboxes, not {count} ({why})",
            pool.warm_count_for(&python)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Containers labelled with `node`, running or not.
async fn containers_of(node: &str) -> usize {
    container_names_of(node).await.len()
}

/// The names of the containers labelled with `node`, running or not.
async fn container_names_of(node: &str) -> Vec<String> {
    let docker = engine::connect("/var/run/docker.sock", 30).expect("docker socket");
    engine::list_objects(
        &docker,
        engine::with_labels(vec![format!("{}={node}", engine::NODE_LABEL)]),
    )
    .await
    .expect("the engine lists containers")
    .containers
    .into_iter()
    .flat_map(|container| container.names.unwrap_or_default())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_sandbox_serves_one_execution_only() {
    let pool = TestPool::start(1, 1);
    let python = language("python");

    wait_for_warm(&pool, "python", 1).await;
    let first = pool
        .execute(submit(
            &python,
            "import os\nopen('/tmp/secret-of-the-first', 'w').write('x')\nprint(sorted(os.listdir('/tmp')))",
        ))
        .await;
    assert_eq!(first.status, Status::Ok, "{first:?}");
    assert!(
        first
            .run
            .as_ref()
            .expect("run")
            .stdout
            .contains("secret-of-the-first")
    );
    assert_eq!(
        pool.served_warm(),
        1,
        "the first execution did not run warm"
    );

    wait_for_warm(&pool, "python", 1).await;
    let second = pool
        .execute(submit(
            &python,
            "import os\nprint(sorted(os.listdir('/tmp')))",
        ))
        .await;
    assert_eq!(second.status, Status::Ok, "{second:?}");
    assert_eq!(
        pool.served_warm(),
        2,
        "the second execution did not run warm"
    );
    let listing = &second.run.as_ref().expect("run").stdout;
    assert!(
        !listing.contains("secret"),
        "the second execution saw the first's file: {listing}"
    );
}

/// A node's `sandbox.cpuset` pins its warm sandboxes and those it starts on
/// demand: the program runs on those CPUs only (CPU 1 of this machine's
/// two or more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_warm_sandboxes_run_on_their_cpus_only() {
    let python = language("python");
    let pool = TestPool::start_pinned(
        std::slice::from_ref(&python),
        CpuSet::parse("1").expect("a CPU list"),
    );
    wait_for_warm(&pool, "python", 1).await;
    let code = "import os\nprint(sorted(os.sched_getaffinity(0)))";
    // Two at once: one finds the warm sandbox, the other starts its own.
    let (warm, on_demand) = tokio::join!(
        pool.execute(submit(&python, code)),
        pool.execute(submit(&python, code))
    );
    for outcome in [warm, on_demand] {
        assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
        assert_eq!(outcome.run.as_ref().expect("run").stdout, "[1]\n");
    }
    assert!(pool.served_warm() >= 1, "none ran warm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_never_exceeds_its_bound() {
    // Six keys want two each; the bound is three.
    let pool = TestPool::start(2, 3);
    wait_for_total(&pool, 3).await;
    let python = language("python");
    for round in 0..6 {
        let outcome = pool
            .execute(submit(&python, &format!("print({round})")))
            .await;
        assert_eq!(outcome.status, Status::Ok);
        assert!(
            pool.warm_count() <= 3,
            "{} warm sandboxes",
            pool.warm_count()
        );
    }
    // Let the refill catch up, then count what exists on the engine: the
    // warm ones plus at most the used ones still being removed.
    wait_for_total(&pool, 3).await;
    assert!(pool.warm_count() <= 3);
    let deadline = Instant::now() + Duration::from_secs(20);
    while containers_of(&pool.node).await > 3 {
        assert!(
            Instant::now() < deadline,
            "more than 3 containers stay on the engine"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_in_pooled_mode() {
    let pool = TestPool::start(2, 2);
    let python = language("python");
    let cases = [
        ("x = bytearray(300 * 1024 * 1024)", Status::MemoryLimit),
        ("while True: pass", Status::Timeout),
        ("print('z' * 1000000)", Status::OutputLimit),
        ("import sys; sys.exit(4)", Status::RuntimeError),
        (
            "import os\nassert os.getuid() == 65534\nassert os.listdir('/sys/class/net') == ['lo']\ntry:\n    open('/etc/x', 'w')\nexcept OSError:\n    print('read-only')",
            Status::Ok,
        ),
    ];
    for (code, expected) in cases {
        wait_for_warm(&pool, "python", 1).await;
        let served = pool.served_warm();
        let started = Instant::now();
        let outcome = pool.execute(submit(&python, code)).await;
        assert_eq!(outcome.status, expected, "{code}: {outcome:?}");
        assert_eq!(pool.served_warm(), served + 1, "{code} did not run warm");
        if expected == Status::Timeout {
            let run = outcome.run.as_ref().expect("run");
            // A busy loop reaches its CPU time first, but on a machine so
            // loaded that it gets under a third of a CPU (the wall clock is
            // about 3 times the CPU time) the wall clock comes first: which
            // one, the result says.
            match run.timeout_kind {
                Some(TimeoutKind::Cpu) => {
                    let cpu = run.cpu_time_ms.expect("a warm sandbox measures CPU time");
                    assert!(
                        cpu >= python.limits.cpu_time.as_millis() as u64,
                        "{outcome:?}"
                    );
                }
                kind => assert_eq!(kind, Some(TimeoutKind::Wall), "{outcome:?}"),
            }
            assert!(
                run.wall_time_ms
                    <= (python.limits.timeout + Duration::from_secs(1)).as_millis() as u64,
                "killed after {} ms",
                run.wall_time_ms
            );
            assert!(started.elapsed() <= python.limits.timeout + Duration::from_secs(10));
        }
        if expected == Status::Ok {
            assert_eq!(outcome.run.as_ref().expect("run").stdout, "read-only\n");
        }
    }
    let mut with_input = submit(&python, "import sys\nprint(sys.argv[1:], sys.stdin.read())");
    with_input.stdin = "typed".into();
    with_input.args = vec!["a".into()];
    wait_for_warm(&pool, "python", 1).await;
    let outcome = pool.execute(with_input).await;
    assert_eq!(outcome.run.as_ref().expect("run").stdout, "['a'] typed\n");
}

/// A standalone node with the warm pool on, once it holds warm sandboxes;
/// with the names of the containers it has then.
async fn pooled_node() -> (Node, Vec<String>) {
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[("BRAINDRILL__SANDBOX__POOL__ENABLED", "true")],
    );
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let names = container_names_of(&node.name()).await;
        if !names.is_empty() {
            return (node, names);
        }
        assert!(
            Instant::now() < deadline,
            "the node started no warm sandbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_warm_sandbox_survives_a_worker_shutdown() {
    let (mut node, _) = pooled_node().await;
    let name = node.name();
    let status = node.terminate();
    assert!(status.success(), "the node did not stop cleanly: {status}");
    assert_eq!(
        containers_of(&name).await,
        0,
        "warm sandboxes outlived their worker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_reports_exact_endings_and_what_the_sandbox_used() {
    let pool = TestPool::start(2, 2);
    let python = language("python");
    // (code, status, exit code, signal)
    let cases = [
        ("print('hi')", Status::Ok, 0, None),
        // Exiting with 137 is not being killed: only the runner's waitpid
        // can tell the two apart.
        ("import sys; sys.exit(137)", Status::RuntimeError, 137, None),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
            Status::RuntimeError,
            139,
            Some(11),
        ),
    ];
    for (code, status, exit_code, signal) in cases {
        wait_for_warm(&pool, "python", 1).await;
        let served = pool.served_warm();
        let outcome = pool.execute(submit(&python, code)).await;
        assert_eq!(pool.served_warm(), served + 1, "{code} did not run warm");
        assert_eq!(outcome.status, status, "{code}: {outcome:?}");
        let run = outcome.run.expect("run");
        assert_eq!(
            (run.exit_code, run.signal),
            (Some(exit_code), signal),
            "{code}"
        );
        let cpu = run.cpu_time_ms.expect("a warm sandbox measures CPU time");
        assert!(cpu <= run.wall_time_ms + 50, "{code}: cpu {cpu} ms");
        let peak = run
            .memory_peak_bytes
            .expect("a warm sandbox measures memory");
        assert!(
            (1 << 20..=python.limits.memory_bytes).contains(&peak),
            "{code}: peak {peak} bytes"
        );
    }

    // The time limit and the output cap travel with the request: a request
    // that asks for its own still finds a warm sandbox, and they hold.
    wait_for_warm(&pool, "python", 1).await;
    let served = pool.served_warm();
    let mut short = submit(
        &python,
        "import time\nprint('start', flush=True)\ntime.sleep(5)",
    );
    short.limits.timeout = Duration::from_millis(700);
    let started = Instant::now();
    let outcome = pool.execute(short).await;
    assert_eq!(
        pool.served_warm(),
        served + 1,
        "the short request did not run warm"
    );
    assert_eq!(outcome.status, Status::Timeout, "{outcome:?}");
    // Killed at its own 700 ms, not at python's 3 s (by the runner's clock;
    // the whole call is only checked against a hang).
    assert!(started.elapsed() < Duration::from_secs(10));
    let run = outcome.run.expect("run");
    assert_eq!(run.stdout, "start\n");
    // A sleeping program reaches the wall clock.
    assert_eq!(run.timeout_kind, Some(TimeoutKind::Wall), "{run:?}");
    assert!(
        (700..1700).contains(&run.wall_time_ms),
        "{} ms",
        run.wall_time_ms
    );

    // The code is where a fresh sandbox has it, and read-only the same way.
    wait_for_warm(&pool, "python", 1).await;
    let outcome = pool
        .execute(submit(
            &python,
            "import os\nprint(os.getcwd())\ntry:\n    open('out.txt', 'w')\nexcept OSError as e:\n    print('read-only', e.errno)",
        ))
        .await;
    assert_eq!(
        outcome.run.expect("run").stdout,
        "/sandbox/code\nread-only 13\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_removes_the_warm_sandboxes_of_its_crashed_run() {
    let (mut node, before) = pooled_node().await;
    let name = node.name();
    // A crash leaves its warm sandboxes behind...
    node.kill();
    assert!(
        !container_names_of(&name).await.is_empty(),
        "nothing was left to sweep"
    );
    // ...and the same node, started again, removes them.
    node.restart();
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = container_names_of(&name).await;
        let stale: Vec<&String> = before.iter().filter(|old| now.contains(old)).collect();
        if stale.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted node left its earlier run's sandboxes: {stale:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = node.terminate();
    assert!(status.success(), "the node did not stop cleanly: {status}");
    assert_eq!(containers_of(&name).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compiled_language_compiles_and_runs_in_one_warm_sandbox() {
    // One of each key: C's is one of them.
    let pool = TestPool::start(1, 6);
    let c = language("c");
    // The run finds its code read-only (as a fresh sandbox's) but its
    // binary executable, and the scratch area emptied of the compile's files.
    let program = r#"
#include <dirent.h>
#include <stdio.h>
int main(int argc, char **argv) {
    char line[64] = "";
    fgets(line, sizeof line, stdin);
    FILE *file = fopen("planted.txt", "w");
    DIR *scratch = opendir("/tmp");
    int entries = 0;
    for (struct dirent *entry; (entry = readdir(scratch)) != NULL;) entries++;
    printf("%s %s %s %d\n", argc > 1 ? argv[1] : "-", line, file ? "writable" : "read-only", entries - 2);
    return 0;
}
"#;
    wait_for_warm(&pool, "c", 1).await;
    let served = pool.served_warm();
    let mut submission = submit(&c, program);
    submission.stdin = "typed".into();
    submission.args = vec!["arg".into()];
    let outcome = pool.execute(submission).await;
    assert_eq!(
        pool.served_warm(),
        served + 1,
        "the C program did not run warm"
    );
    assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    let compile = outcome.compile.as_ref().expect("a compile step");
    assert_eq!(compile.status, Status::Ok, "{compile:?}");
    assert!(compile.cpu_time_ms.is_some() && compile.memory_peak_bytes.is_some());
    let run = outcome.run.as_ref().expect("a run step");
    assert_eq!(run.stdout, "arg typed read-only 0\n", "{run:?}");
    assert!(run.cpu_time_ms.is_some());

    wait_for_warm(&pool, "c", 1).await;
    let outcome = pool.execute(submit(&c, "int main( { return 0; }")).await;
    assert_eq!(outcome.status, Status::CompileError, "{outcome:?}");
    assert!(outcome.run.is_none());
    let compile = outcome.compile.expect("a compile step");
    assert!(compile.stderr.contains("error"), "{compile:?}");

    wait_for_warm(&pool, "c", 1).await;
    let outcome = pool
        .execute(submit(&c, "int main(void) { return 3; }"))
        .await;
    assert_eq!(outcome.status, Status::RuntimeError, "{outcome:?}");
    assert_eq!(outcome.run.expect("a run step").exit_code, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_keeps_one_recycled_sandbox_per_run_at_once_and_shrinks_when_quiet() {
    const BURST: usize = 3;
    let python = language("python");
    let pool = TestPool::start_sized(
        std::slice::from_ref(&python),
        PoolSizing {
            min_per_key: 1,
            // Room for one more than the burst: the burst, not the bound,
            // sizes the shelf.
            max_per_key: BURST + 1,
            max_total: BURST + 2,
            demand_window: Duration::from_secs(5),
        },
        RECYCLE,
    );
    wait_for_python_shelf(&pool, 1, "the floor at rest").await;

    // Three at once: one finds the warm sandbox, two start their own.
    let burst = (0..BURST)
        .map(|_| pool.execute(submit(&python, "import time\ntime.sleep(1)\nprint('done')")));
    for outcome in futures_util::future::join_all(burst).await {
        assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    }
    // All three come back: the shelf holds one per run that ran at once,
    // and the engine no more than that.
    wait_for_python_shelf(&pool, BURST, "after a burst of three").await;
    assert!(containers_of(&pool.node).await <= BURST);

    // Sequential runs reuse what is there: no start, no growth.
    for _ in 0..3 {
        let served = pool.served_warm();
        let outcome = pool.execute(submit(&python, "print(1)")).await;
        assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
        assert_eq!(pool.served_warm(), served + 1, "a sequential run ran cold");
    }

    // Five to ten seconds without a burst: back to the floor.
    wait_for_python_shelf(&pool, 1, "once the burst was forgotten").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_stopped_while_a_recycled_sandbox_resets_leaves_nothing() {
    let python = language("python");
    let mut pool = TestPool::start_for(std::slice::from_ref(&python), 1, 1, RECYCLE);
    wait_for_warm(&pool, "python", 1).await;
    // Thousands of files to remove: the reset takes a while after the
    // answer.
    let outcome = pool
        .execute(submit(
            &python,
            "for i in range(3000):\n    open(f'/tmp/f{i}', 'w').close()\nprint('left')",
        ))
        .await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    assert_eq!(pool.served_warm(), 1);
    // Stopped at once, the reset's verdict still to come: the pool waits
    // for it and removes the container instead of shelving it.
    pool.stop().await;
    assert_eq!(
        container_names_of(&pool.node).await,
        Vec::<String>::new(),
        "a container outlived the pool's stop"
    );
}
