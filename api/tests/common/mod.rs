//! What the tests of the real `readiness` binary share: scratch directories, fresh
//! PostgreSQL databases, running the binary, a `serve` process whose standard error is
//! collected, and one raw HTTP/1.1 request (for bodies no client library would send).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

pub const BIN: &str = env!("CARGO_BIN_EXE_readiness");
pub const POSTGRES_ENV: &str = "READINESS_TEST_POSTGRES_URL";
pub const SHARE_SECRET: &str = "a share secret for the process tests, 32+ bytes";

/// A scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("readiness-process-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn sqlite_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.0.join("readiness.db").display()
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh PostgreSQL database, or `None` (with a notice) when none is configured.
pub async fn fresh_postgres() -> Option<String> {
    let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
        eprintln!("notice: {POSTGRES_ENV} is not set; skipping the PostgreSQL variant");
        return None;
    };
    let admin = Database::connect(&admin_url).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let name = format!("readiness_t_{now}_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let base = admin_url.split('?').next().unwrap();
    Some(format!("{}/{name}", &base[..base.rfind('/').unwrap()]))
}

pub fn readiness(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// A `readiness serve` process whose standard error is collected.
pub struct Server {
    pub child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(database_url: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .args(extra)
            .env("READINESS_SHARE_SECRET", SHARE_SECRET)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut server = Self {
            child,
            port: 0,
            log,
        };
        let listening = server.wait_for("readiness is listening");
        let digits = |from: usize| -> u16 {
            listening[from..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        };
        server.port = match (listening.find("port="), listening.find("\"port\":")) {
            (Some(at), _) => digits(at + 5),
            (None, Some(at)) => digits(at + 7),
            _ => panic!("no port in {listening}"),
        };
        server
    }

    /// The first log line containing `needle`, waiting up to 30 s for it.
    pub fn wait_for(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.log().lines().find(|l| l.contains(needle)) {
                return line.to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no log line with {needle:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new API key of `role`, made with `readiness keys create`.
pub fn key(database_url: &str, role: &str) -> String {
    let out = readiness(&[
        "keys",
        "create",
        "--role",
        role,
        "--name",
        role,
        "--database-url",
        database_url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

impl Server {
    /// Stops the server as an operator would (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 request with `Connection: close`; returns the status (0 if the connection
/// failed), the head in lower case and the body. The server may answer and close before the
/// whole body is sent.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new(), String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return (0, String::new(), String::new());
    }
    let _ = stream.write_all(body);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_default();
    (status, head.to_ascii_lowercase(), body.to_owned())
}
