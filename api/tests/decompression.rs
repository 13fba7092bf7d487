//! Decompression bombs against the real `readiness` binary: eight bodies sent at once (six
//! gzip streams of ~0.5 MB that inflate to 500 MiB, two zlib streams of 100 MiB) are refused
//! with `413` while the server's peak resident memory rises by less than
//! [`PEAK_RSS_RISE_BOUND_MIB`]. A body in a coding the server does not decode is refused with
//! `415`.
//!
//! The server runs as a child process, so its peak memory (`VmHWM`) is its own and not that
//! of the test harness.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::{Scratch, Server, key, request};

/// The bound on how much the server's peak RSS may rise while it refuses the bombs: each of
/// the eight requests may hold its route's limit (4 MiB for a batch) of decoded bytes, in a
/// buffer that grows by doubling, so 32–64 MiB, with room for the allocator and the
/// connections' buffers. Measured with a debug build: a rise of 48–73 MiB (from about 90 MiB).
/// Before bodies were decoded under the limit the same bombs raised it by about 1.5 GiB.
const PEAK_RSS_RISE_BOUND_MIB: u64 = 128;

const BOMBS: usize = 8;

/// A server on a fresh SQLite file, and a collector key for it.
fn start() -> (Server, String, Scratch) {
    let scratch = Scratch::new();
    let url = scratch.sqlite_url();
    let key = key(&url, "collector");
    (Server::start(&url, &["--workers", "4"]), key, scratch)
}

fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

/// One gzip stream of 500 MiB of spaces: about half a megabyte, as in the reported attack.
fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..500 {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

/// One zlib stream of 100 MiB of spaces.
fn deflate_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..100 {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

#[test]
fn bombs_in_parallel_are_refused_within_bounded_memory() {
    let (server, key, _scratch) = start();
    let auth = format!("Bearer {key}");
    let path = "/api/v1/surveys/ai-readiness/responses/batch";
    let gzip = gzip_bomb();
    let deflate = deflate_bomb();
    assert!(gzip.len() < 600_000, "{}", gzip.len());
    let before = peak_rss_mib(server.child.id());

    let replies: Vec<(u16, String, String)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..BOMBS)
            .map(|at| {
                let (coding, body) = if at % 4 == 3 {
                    ("deflate", &deflate)
                } else {
                    ("gzip", &gzip)
                };
                let auth = auth.as_str();
                scope.spawn(move || {
                    request(
                        server.port,
                        "POST",
                        path,
                        &[
                            ("Authorization", auth),
                            ("Content-Type", "application/json"),
                            ("Content-Encoding", coding),
                        ],
                        body,
                    )
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for (status, _, body) in &replies {
        assert_eq!(*status, 413, "{body}");
        assert!(body.contains(r#""code":"payload_too_large""#), "{body}");
    }
    let peak = peak_rss_mib(server.child.id());
    eprintln!("peak RSS: {before} MiB before the bombs, {peak} MiB after");
    assert!(
        peak.saturating_sub(before) < PEAK_RSS_RISE_BOUND_MIB,
        "peak RSS {peak} MiB (before the bombs: {before} MiB)"
    );

    // The server is still there, and a small compressed body is read as usual.
    let honest = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(br#"{"responses": 1}"#).unwrap();
        encoder.finish().unwrap()
    };
    let (status, _, body) = request(
        server.port,
        "POST",
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &honest,
    );
    // The body is decoded and refused for what it says, not for how it was sent.
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("/responses"), "{body}");

    // Codings the server does not decode are refused, not read as plain JSON.
    for coding in ["br", "zstd", "gzip, gzip", "compress"] {
        let (status, _, body) = request(
            server.port,
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                ("Content-Encoding", coding),
            ],
            br#"{"responses": []}"#,
        );
        assert_eq!(status, 415, "{coding}: {body}");
        assert!(
            body.contains(r#""code":"unsupported_content_encoding""#),
            "{coding}: {body}"
        );
    }
}
