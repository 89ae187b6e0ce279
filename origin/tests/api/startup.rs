//! What the `origin` binary refuses to start with: a deployment that forgot to say it is a development
//! machine must not run on the public development secrets.

use std::process::Command;

use rookery_origin::config::{DEV_EDGE_SECRET, DEV_TOKEN_SECRET};

/// Runs `origin serve` with only `vars` set; it must exit at once (configuration is checked before any
/// connection is made). Returns (success, stderr).
fn serve_with(vars: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_origin"))
        .arg("serve")
        .env_clear()
        .envs(vars.iter().copied())
        // A database name the origin refuses when it first uses it: a configuration that passes the checks
        // stops there, at once, instead of serving.
        .env("DATABASE_URL", "mysql://root@127.0.0.1:1/not-a-name!")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ADMIN_ADDR", "127.0.0.1:0")
        .output()
        .expect("origin runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn without_rookery_env_the_development_secrets_are_refused() {
    let (ok, stderr) = serve_with(&[]);
    assert!(!ok);
    assert!(stderr.contains("TOKEN_SECRETS (or TOKEN_SECRET) must be set"), "{stderr}");

    let (ok, stderr) = serve_with(&[("TOKEN_SECRET", DEV_TOKEN_SECRET), ("EDGE_SECRET", DEV_EDGE_SECRET)]);
    assert!(!ok);
    assert!(stderr.contains("public development secret"), "{stderr}");

    let (ok, stderr) =
        serve_with(&[("ROOKERY_ENV", "production"), ("TOKEN_SECRETS", "k1:short"), ("EDGE_SECRET", &"e".repeat(40))]);
    assert!(!ok);
    assert!(stderr.contains("shorter than 32 characters"), "{stderr}");

    let (ok, stderr) = serve_with(&[("TOKEN_SECRETS", "k1"), ("EDGE_SECRET", &"e".repeat(40))]);
    assert!(!ok);
    assert!(stderr.contains("TOKEN_SECRETS is not valid"), "{stderr}");
}

#[test]
fn development_mode_and_real_secrets_get_past_the_configuration() {
    // Both reach the database step (and stop there, at the database name).
    for vars in [
        vec![("ROOKERY_ENV", "development".to_owned())],
        vec![
            ("TOKEN_SECRETS", format!("k2:{},k1:{}", "n".repeat(40), "o".repeat(40))),
            ("EDGE_SECRET", "e".repeat(40)),
        ],
    ] {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ok, stderr) = serve_with(&vars);
        assert!(!ok);
        assert!(stderr.contains("database name"), "{vars:?}: {stderr}");
        assert!(!stderr.contains("must be set") && !stderr.contains("development secret"), "{vars:?}: {stderr}");
    }
}
