//! The faults, injected through `scripts/cluster.sh` (which owns the cluster nodes under `var/cluster`).

use std::process::Command;

use rookery_tests::repo_root;

/// Runs `scripts/cluster.sh <args>` and returns what it printed.
pub fn cluster_sh(args: &[&str]) -> String {
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/cluster.sh"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "scripts/cluster.sh {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// SIGKILLs one Redis master; returns its port.
pub fn kill_redis_master() -> String {
    let printed = cluster_sh(&["kill-redis-master"]);
    printed.split_whitespace().rev().find(|word| word.parse::<u16>().is_ok()).expect("the port killed").to_owned()
}

/// Brings a killed Redis node back; it rejoins as a replica of the master that replaced it.
pub fn restart_redis(port: &str) {
    cluster_sh(&["restart-redis", port]);
}

/// Kills RabbitMQ node `n` (1-3) at once.
pub fn kill_rabbit(n: u8) {
    cluster_sh(&["kill-rabbit", &n.to_string()]);
}

pub fn restart_rabbit(n: u8) {
    cluster_sh(&["restart-rabbit", &n.to_string()]);
}
