//! A database that cannot be written, against the real `readiness` binary on a small tmpfs
//! the test mounts. On a full filesystem writes answer `503 storage_unavailable` with
//! `Retry-After` (never `500`), `/readyz` says `503` while writes fail and `200` once they
//! work again; on a read-only filesystem the server does not start, and says why in one line.
//! (A filesystem with open files cannot be remounted read-only under a running server, and
//! root ignores file modes, so a read-only database at run time is covered by the fault texts
//! in `store::storage`'s unit test.)
//!
//! Mounting needs root (as in CI); elsewhere the test says so and does nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, key, readiness, request};

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(size: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("readiness-storage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Self(dir))
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A request with the collector's key and a JSON content type.
fn send(port: u16, method: &str, path: &str, key: &str, body: &[u8]) -> (u16, String, String) {
    let auth = format!("Bearer {key}");
    request(
        port,
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body,
    )
}

fn item(firm: usize) -> String {
    format!(
        r#"{{"firm":{{"ref":"firm-{firm:06}-{pad}","industry":"C","size_band":"small","country":"DE"}},"answers":{{"business_age":"gt_5y","revenue_trend":"growing","task_definition":"test_cases","workflow_integration":"integrated_with_review","prior_attempts":"prompts_and_knowledge_base","vendor_result":"format_or_consistency","monthly_ai_spend":"100_1k","data_restrictions":"none","training_examples":"100_499","knowledge_organisation":"structured_owned","inhouse_skill":"scripts_api","customisation_budget":"10k_50k","ai_ownership":"named_owner","staff_ai_usage":"most"}}}}"#,
        pad = "x".repeat(100)
    )
}

const SINGLE: &str = "/api/v1/surveys/ai-readiness/responses";
const BATCH: &str = "/api/v1/surveys/ai-readiness/responses/batch";

fn batch(from: usize) -> Vec<u8> {
    let items: Vec<String> = (from..from + 1000).map(item).collect();
    format!(r#"{{"responses":[{}]}}"#, items.join(",")).into_bytes()
}

fn assert_storage_problem(status: u16, head: &str, body: &str) {
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""code":"storage_unavailable""#), "{body}");
    assert!(head.contains("retry-after: 30"), "{head}");
}

fn wait_ready(port: u16, key: &str, want: u16) {
    let started = Instant::now();
    loop {
        let (status, _, _) = send(port, "GET", "/readyz", key, b"");
        if status == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "/readyz stayed {status}, not {want}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    filler
}

#[test]
fn full_and_read_only_storage_answer_503_and_make_the_server_unready() {
    let Some(mount) = Mount::tmpfs("24m") else {
        eprintln!("notice: mounting a tmpfs needs root; the storage test did not run");
        return;
    };
    let url = format!("sqlite://{}?mode=rwc", mount.0.join("r.db").display());
    let key = key(&url, "collector");
    let server = Server::start(&url, &[]);
    let port = server.port;
    wait_ready(port, &key, 200);
    assert_eq!(send(port, "POST", SINGLE, &key, item(0).as_bytes()).0, 201);

    // The filesystem fills up: batches are refused as unavailable, never as a server error.
    let filler = fill(&mount.0);
    let mut refused = None;
    for at in 0..30 {
        let (status, head, body) = send(port, "POST", BATCH, &key, &batch(1 + at * 1000));
        assert!(status == 200 || status == 503, "{status}: {body}");
        if status == 503 {
            refused = Some((status, head, body));
            break;
        }
    }
    let (status, head, body) = refused.expect("a full filesystem refused no batch");
    assert_storage_problem(status, &head, &body);
    let (status, head, body) = send(port, "GET", "/readyz", &key, b"");
    assert_storage_problem(status, &head, &body);

    // Space again: the next write succeeds and the server is ready.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(
        send(port, "POST", SINGLE, &key, item(900_000).as_bytes()).0,
        201
    );
    wait_ready(port, &key, 200);
    // A clean stop, so SQLite removes its `-wal` and `-shm` files and must create them again.
    server.stop();

    // A server does not start on a database it cannot write, and says why in one line.
    mount.remount("ro");
    let started = Instant::now();
    let output = readiness(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--log-format",
        "json",
    ]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: the database is not writable"),
        "{stderr}"
    );
    // Log lines (JSON) may come before it; the error is the one plain line.
    assert_eq!(
        stderr.lines().filter(|line| !line.starts_with('{')).count(),
        1,
        "{stderr}"
    );
    mount.remount("rw");
}
