//! The deployment files (`deploy/`) agree with the server they deploy:
//! every flag the Deployment passes exists and parses (the server starts
//! with them), the probes it names answer, and the ports and the grace
//! period line up. No cluster is reachable here, so this is what can be
//! checked.

mod common;

use common::{codejury, served_url};
use std::path::PathBuf;
use std::process::Stdio;

fn deploy_file(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value after `key:` on the first line that has it (trimmed).
fn field<'a>(yaml: &'a str, key: &str) -> &'a str {
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(|v| v.trim())
        .unwrap_or_else(|| panic!("no {key} in the manifest"))
}

/// The `path:` of the probe named `probe`.
fn probe_path(yaml: &str, probe: &str) -> String {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != format!("{probe}:"));
    lines
        .find_map(|l| l.trim().strip_prefix("path:").map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no {probe} path"))
}

#[test]
fn the_deployment_passes_only_flags_the_server_takes_and_its_probes_answer() {
    let deployment = deploy_file("k8s/deployment.yaml");
    let args: Vec<(String, String)> = deployment
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- --"))
        .map(|a| {
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(args.len() >= 5, "{args:?}");

    // Ports and the grace period.
    let addr = &args.iter().find(|(k, _)| k == "addr").expect("--addr").1;
    let port = addr.rsplit(':').next().unwrap();
    assert_eq!(field(&deployment, "containerPort:"), port);
    assert!(deploy_file("Dockerfile").contains(&format!("EXPOSE {port}")));
    assert!(deploy_file("Dockerfile").contains(&format!("0.0.0.0:{port}")));
    assert_eq!(
        field(&deploy_file("k8s/service.yaml"), "targetPort:"),
        "http"
    );
    let grace: u64 = field(&deployment, "terminationGracePeriodSeconds:")
        .parse()
        .unwrap();
    let max_ms: u64 = args
        .iter()
        .find(|(k, _)| k == "max-timeout-ms")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(60_000);
    assert!(
        grace * 1000 > max_ms,
        "the grace period ({grace} s) must outlast the longest pair ({max_ms} ms)"
    );

    // The server starts with exactly these flags (the address and the
    // store moved to this test's own), which proves each exists and parses.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = codejury();
    cmd.arg("serve");
    for (k, v) in &args {
        let v = match k.as_str() {
            "addr" => "127.0.0.1:0".to_string(),
            "store" => dir.path().join("store.sqlite").display().to_string(),
            _ => v.clone(),
        };
        cmd.arg(format!("--{k}={v}"));
    }
    let mut child = cmd
        .env("CODEJURY_TOKEN", "t0ken")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let Some(url) = served_url(&mut child) else {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the server did not start with the manifest's flags: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for probe in ["readinessProbe", "livenessProbe"] {
        let path = probe_path(&deployment, probe);
        let status = reqwest::blocking::get(format!("{url}{path}"))
            .unwrap()
            .status();
        assert_eq!(status, 200, "{probe} {path}");
    }
    let _ = child.kill();
    let _ = child.wait();
}
