//! Fetching a data file over real HTTP on loopback, checksum-verified.

use codejury_bench::fetch::{fetch_url, verify};
use codejury_bench::BenchError;
use codejury_core::Hint;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpListener;

/// Serves `body` to `n` requests on 127.0.0.1 and returns the URL.
fn serve(body: &'static [u8], n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(body).unwrap();
        }
    });
    format!("http://{addr}/HumanEvalPlus.jsonl.gz")
}

#[test]
fn a_fetched_file_is_kept_only_if_its_checksum_matches() {
    let body: &'static [u8] = b"{\"task_id\": \"x\"}\n";
    let sha = hex::encode(Sha256::digest(body));
    let url = serve(body, 2);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.jsonl");
    fetch_url(&url, &dest, &sha).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    verify(&dest, &sha).unwrap();

    let other = dir.path().join("g.jsonl");
    let err = fetch_url(&url, &other, &"0".repeat(64)).unwrap_err();
    assert!(matches!(err, BenchError::Checksum { .. }), "{err}");
    assert!(!other.exists(), "a file with the wrong checksum was kept");
    assert!(err.hint().unwrap().contains("delete the file"), "{err}");
}

#[test]
fn an_unreachable_source_is_a_fetch_error_with_a_hint() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_url(
        &format!("http://{addr}/x"),
        &dir.path().join("x"),
        &"0".repeat(64),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot fetch"), "{text}");
    assert!(err.hint().unwrap().contains("CODEJURY_DATA_DIR"), "{text}");
}
