//! The API explorer in a real browser: Debian's Chromium, headless, loads `/docs/` from a running origin,
//! renders every operation of `/openapi.json`, and leaves a screenshot in the test output.
//!
//! Chromium is part of the machine set-up (`make browser`); without it this test fails rather than skip,
//! so a missing browser cannot pass for a working page.

use std::{
    fs::File,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use rookery_origin::testing::spawn_app;

/// Longest a Chromium run may take before it is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

/// `$CHROMIUM`, else `chromium` on the `PATH`.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Chromium is not installed, and this test drives the API explorer in it. Install Debian's \
                 `chromium` package (`make browser` does, as root) or point CHROMIUM at a Chromium binary."
            )
        })
}

/// Runs headless Chromium on `url` with `action` (`--dump-dom`, `--screenshot=...`) and returns stdout.
/// `work` holds its profile (new and empty each run) and its output.
fn run_chromium(binary: &Path, work: &Path, action: &str, url: &str) -> String {
    let profile = work.join("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("a profile directory");
    // Files, not pipes: a DOM larger than a pipe's buffer would block Chromium until it is read.
    let (stdout_path, stderr_path) = (work.join("chromium.stdout"), work.join("chromium.stderr"));
    let stdout = File::create(&stdout_path).expect("a stdout file");
    let stderr = File::create(&stderr_path).expect("a stderr file");
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--window-size=1280,2000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(action)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        // Its own process group, so a hung run is stopped with all of its helper processes.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium's status") {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            panic!("chromium {action} did not finish within {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = std::fs::remove_dir_all(&profile);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium {action} failed ({status}): {stderr}");
    std::fs::read_to_string(&stdout_path).expect("chromium's output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_renders_every_operation_in_chromium() {
    let binary = chromium();
    let app = spawn_app().await;
    let (status, document) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((method, path.clone()));
            }
        }
    }

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs_page");
    std::fs::create_dir_all(&out).expect("the test output directory");
    let url = format!("{}/docs/", app.address);
    let screenshot = out.join("docs.png");
    let _ = std::fs::remove_file(&screenshot);
    let dom = {
        let (out, screenshot) = (out.clone(), screenshot.clone());
        // Chromium blocks; the origin it talks to runs on this runtime's other thread.
        tokio::task::spawn_blocking(move || {
            let dom = run_chromium(&binary, &out, "--dump-dom", &url);
            run_chromium(&binary, &out, &format!("--screenshot={}", screenshot.display()), &url);
            dom
        })
        .await
        .expect("chromium runs")
    };
    std::fs::write(out.join("docs.html"), &dom).expect("the DOM is saved");

    assert!(dom.contains("Rookery API"), "the document's title is not on the page: {dom:.2000}");
    // Swagger UI renders each operation as an `opblock` carrying its path and method.
    for (method, path) in &operations {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "{} {path} is not rendered (the DOM is in {})",
            method.to_uppercase(),
            out.join("docs.html").display()
        );
    }
    let rendered = dom.matches("class=\"opblock opblock-").count();
    assert_eq!(rendered, operations.len(), "every operation renders once");
    assert!(dom.contains("/api/accounts/signup/"));
    assert!(dom.contains("Authorize"), "the Authorize button is missing");

    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "the screenshot looks empty");
    println!("screenshot of /docs/: {}", screenshot.display());
}
