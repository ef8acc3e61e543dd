//! The configuration's layers, checks and error messages, tested without
//! any file but the compiled-in defaults.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

#[test]
fn defaults_follow_the_original() {
    let settings = Settings::load(None, env(&[])).expect("defaults load");
    assert_eq!(settings.cluster.port, 1600);
    assert_eq!(settings.http.host, "0.0.0.0");
    assert_eq!(settings.http.port, 8080);
    assert_eq!(settings.worker.workers_per_node, 0, "one per CPU");
    assert!(settings.worker_slots().slots >= 1);
    assert_eq!(settings.master.load_balancers, 3);
    assert_eq!(settings.role(), Role::Standalone);
    let names: Vec<String> = settings
        .languages()
        .expect("languages resolve")
        .into_iter()
        .map(|language| language.name)
        .collect();
    for name in ["java", "javascript", "perl", "php", "python", "ruby"] {
        assert!(names.contains(&name.to_string()), "{name} missing");
    }
    let limits = &settings.sandbox.limits;
    assert_eq!(limits.cpu_time, Duration::from_secs(3));
    assert_eq!(limits.timeout, Duration::from_secs(10));
    assert_eq!(limits.output_bytes, 409_600);
    assert_eq!(limits.pids, 64);
    let reuse = settings.reuse();
    assert_eq!(reuse.mode, ReuseMode::Recycle);
    assert_eq!(reuse.max_runs, 500);
    assert_eq!(reuse.max_age, Duration::from_secs(300));
}

#[test]
fn the_reuse_policy_is_set_from_the_environment_and_bounded() {
    let settings = Settings::load(
        None,
        env(&[("BRAINDRILL__SANDBOX__REUSE__MODE", "single_use")]),
    )
    .expect("loads");
    assert_eq!(settings.reuse(), ReusePolicy::SINGLE_USE);
    let settings = Settings::load(
        None,
        env(&[
            ("BRAINDRILL__SANDBOX__REUSE__MODE", "recycle"),
            ("BRAINDRILL__SANDBOX__REUSE__MAX_RUNS", "0"),
            ("BRAINDRILL__SANDBOX__REUSE__MAX_AGE_S", "100000"),
        ]),
    )
    .expect("loads");
    let reuse = settings.reuse();
    assert_eq!(reuse.mode, ReuseMode::Recycle);
    assert_eq!(reuse.max_runs, 1);
    assert!(reuse.max_age < sweeper::MAX_WARM_AGE);
    assert!(Settings::load(None, env(&[("BRAINDRILL__SANDBOX__REUSE__MODE", "often")])).is_err());
}

#[test]
fn the_pool_is_sized_by_the_nodes_slots_within_its_bounds() {
    let settings = Settings::load(
        None,
        env(&[
            ("WORKERS_PER_NODE", "6"),
            ("BRAINDRILL__SANDBOX__POOL__MIN_PER_KEY", "2"),
            ("BRAINDRILL__SANDBOX__POOL__MAX_TOTAL", "10"),
            ("BRAINDRILL__SANDBOX__POOL__DEMAND_WINDOW_S", "30"),
        ]),
    )
    .expect("loads");
    let sizing = settings.pool().expect("the pool is on").sizing;
    // A key grows to one warm sandbox per slot, no further.
    assert_eq!(sizing.max_per_key, 6);
    assert_eq!(sizing.min_per_key, 2);
    assert_eq!(sizing.max_total, 10);
    assert_eq!(sizing.demand_window, Duration::from_secs(30));

    let defaults = Settings::load(None, env(&[])).expect("defaults load");
    let sizing = defaults.pool().expect("the pool is on by default").sizing;
    assert_eq!(sizing.max_per_key, defaults.worker_slots().slots);
    assert_eq!(
        (sizing.min_per_key, sizing.max_total, sizing.demand_window),
        (1, 24, Duration::from_secs(60))
    );

    let error = Settings::load(
        None,
        env(&[("BRAINDRILL__SANDBOX__POOL__DEMAND_WINDOW_S", "0")]),
    )
    .expect_err("a zero window is refused")
    .to_string();
    assert!(error.contains("sandbox.pool.demand_window_s"), "{error}");
    // The fixed size of earlier versions is gone, and said so.
    let error = Settings::load(None, env(&[("BRAINDRILL__SANDBOX__POOL__PER_KEY", "4")]))
        .expect_err("the old key is refused")
        .to_string();
    assert!(error.contains("per_key"), "{error}");
}

#[test]
fn a_cpuset_pins_the_sandboxes_and_sets_the_slots() {
    let defaults = Settings::load(None, env(&[])).expect("defaults load");
    assert_eq!(
        defaults.cpuset().expect("valid"),
        None,
        "any CPU by default"
    );

    // "0" alone reaches the setting as a number from the environment.
    for (text, cpus, docker) in [("0", 1, "0"), ("0-1", 2, "0-1"), ("1,3", 2, "1,3")] {
        let settings = Settings::load(None, env(&[("BRAINDRILL__SANDBOX__CPUSET", text)]))
            .unwrap_or_else(|error| panic!("{text}: {error:#}"));
        let cpuset = settings.cpuset().expect("valid").expect("set");
        assert_eq!(cpuset.as_str(), docker);
        let slots = settings.worker_slots();
        assert_eq!((slots.cpus, slots.slots), (cpus, cpus), "{text}");
        // The pool holds no more of a key than the node's slots.
        assert_eq!(settings.pool().expect("on").sizing.max_per_key, cpus);
    }

    let settings = Settings::load(
        None,
        env(&[
            ("BRAINDRILL__SANDBOX__CPUSET", "0"),
            ("WORKERS_PER_NODE", "4"),
        ]),
    )
    .expect("loads");
    assert_eq!(settings.worker_slots().slots, 4, "configured slots win");

    for (text, says) in [
        ("0-", "not a CPU number"),
        ("2-1", "first CPU is above its last"),
        ("cpu0", "not a CPU number"),
    ] {
        let error = Settings::load(None, env(&[("BRAINDRILL__SANDBOX__CPUSET", text)]))
            .expect_err(text)
            .to_string();
        assert!(
            error.contains("invalid configuration: sandbox.cpuset") && error.contains(says),
            "{text}: {error}"
        );
    }
}

#[test]
fn original_environment_variables_override_the_file() {
    let settings = Settings::load(
        None,
        env(&[
            ("CLUSTER_IP", "10.1.2.3"),
            ("CLUSTER_PORT", "1700"),
            ("CLUSTER_ROLE", "WORKER"),
            ("SEED_IP", "10.9.9.9"),
            ("SEED_PORT", "1800"),
            ("HTTP_HOST", "127.0.0.1"),
            ("HTTP_PORT", "9090"),
            ("CLUSTER_COOKIE", "s3cret"),
            ("WORKERS_PER_NODE", "4"),
            ("LOAD_BALANCERS", "5"),
            ("BRAINDRILL__SANDBOX__LIMITS__TIMEOUT_MS", "5000"),
            ("API_KEYS", "first-key-0123456789, second-key-0123456789"),
        ]),
    )
    .expect("loads");
    assert_eq!(settings.cluster.ip, "10.1.2.3");
    assert_eq!(settings.cluster.port, 1700);
    assert_eq!(settings.role(), Role::Worker);
    assert_eq!(settings.cluster.seed_ip, "10.9.9.9");
    assert_eq!(settings.cluster.seed_port, 1800);
    assert_eq!(settings.http.host, "127.0.0.1");
    assert_eq!(settings.http.port, 9090);
    assert_eq!(settings.cluster.cookie, "s3cret");
    assert_eq!(settings.worker.workers_per_node, 4);
    assert_eq!(settings.master.load_balancers, 5);
    assert_eq!(settings.sandbox.limits.timeout, Duration::from_secs(5));
    let name = settings.node_name();
    assert!(
        name.starts_with("worker-") && name.ends_with("-1700"),
        "{name}"
    );
}

#[test]
fn a_file_overrides_defaults_and_languages_inherit_limits() {
    let dir = std::env::temp_dir().join(format!("braindrill-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("custom.toml");
    std::fs::write(
        &path,
        r#"
[http]
port = 18080
[sandbox.limits]
memory_mb = 32
[languages.lua]
image = "example/lua:5.4"
file = "main.lua"
run = ["lua", "main.lua"]
limits = { timeout_ms = 1500 }
"#,
    )
    .expect("write file");
    let settings = Settings::load(Some(&path), env(&[("HTTP_PORT", "18081")])).expect("loads");
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(settings.http.port, 18081, "environment wins over the file");
    let lua = settings
        .languages()
        .expect("languages")
        .into_iter()
        .find(|language| language.name == "lua")
        .expect("lua configured");
    assert_eq!(lua.limits.timeout, Duration::from_millis(1500));
    assert_eq!(lua.limits.memory_bytes, 32 * 1024 * 1024);
    let java = settings
        .languages()
        .expect("languages")
        .into_iter()
        .find(|language| language.name == "java")
        .expect("java configured");
    assert_eq!(java.limits.pids, 128, "its own");
    assert_eq!(java.limits.nofile, 64, "inherited");
}

#[test]
fn invalid_values_name_the_key() {
    let error = Settings::load(None, env(&[("CLUSTER_PORT", "sixteen")]))
        .expect_err("must fail")
        .to_string();
    assert!(error.contains("cluster.port"), "{error}");

    let error = Settings::load(None, env(&[("WORKERS_PER_NODE", "-1")]))
        .expect_err("must fail")
        .to_string();
    assert!(error.contains("worker.workers_per_node"), "{error}");

    let error = Settings::load(None, env(&[("CLUSTER_ROLE", "boss")]))
        .expect_err("must fail")
        .to_string();
    assert!(error.contains("role"), "{error}");

    let error = Settings::load(
        None,
        env(&[("BRAINDRILL__SANDBOX__LIMITS__MEMORY_MB", "1")]),
    )
    .expect_err("must fail")
    .to_string();
    assert!(error.contains("memory"), "{error}");

    let error = Settings::load(
        None,
        env(&[("BRAINDRILL__LANGUAGES__JAVA__LIMITS__PIDS", "4")]),
    )
    .expect_err("must fail")
    .to_string();
    assert!(error.contains("languages.java.limits.pids"), "{error}");

    let error = Settings::load(
        None,
        env(&[("BRAINDRILL__LANGUAGES__JAVA__LIMITS__TIMEOUT_MS", "99999")]),
    )
    .expect_err("must fail")
    .to_string();
    assert!(
        error.contains("languages.java.limits.timeout_ms is above sandbox.max_limits"),
        "{error}"
    );

    let error = Settings::load(
        None,
        env(&[("BRAINDRILL__LANGUAGES__JAVA__LIMITS__COLOUR", "red")]),
    )
    .expect_err("must fail")
    .to_string();
    assert!(
        error.contains("languages.java.limits") && error.contains("colour"),
        "{error}"
    );

    let error = Settings::load(Some(Path::new("/nonexistent/braindrill.toml")), env(&[]))
        .expect_err("must fail")
        .to_string();
    assert!(error.contains("does not exist"), "{error}");
}

#[test]
fn the_cluster_link_settings_have_environment_variables() {
    let defaults = Settings::load(None, env(&[])).expect("defaults load");
    assert_eq!(defaults.cluster.cookie, BUILT_IN_COOKIE);
    assert!(!defaults.cluster.development);
    let settings = Settings::load(
        None,
        env(&[
            ("CLUSTER_DEVELOPMENT", "true"),
            ("CLUSTER_COOKIE_FILE", "/run/secrets/cookie"),
            ("CLUSTER_TLS_CA", "/tls/ca.pem"),
            ("CLUSTER_TLS_CERT", "/tls/node.pem"),
            ("CLUSTER_TLS_KEY", "/tls/node.key"),
        ]),
    )
    .expect("loads");
    assert!(settings.cluster.development);
    assert_eq!(settings.cluster.cookie_file, "/run/secrets/cookie");
    assert_eq!(settings.cluster.tls.ca, "/tls/ca.pem");
    assert_eq!(settings.cluster.tls.cert, "/tls/node.pem");
    assert_eq!(settings.cluster.tls.key, "/tls/node.key");
}
