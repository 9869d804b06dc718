//! The eight process languages as [`Toolchain`]s: which tools each needs,
//! how a pair's program is built and run, and the harness that does it.
//!
//! Every language runs through one harness (`exec_harness.py`, started by
//! the Python interpreter codejury already needs) with a *recipe*: the
//! program's file name, the build steps and the run command, with
//! `{dir}` (the pair's directory) and `{src}` (its source file) filled in
//! per pair. Tools are found once, outside the sandbox, and named by
//! absolute path; a missing one is an error that says what to install.

use codejury_core::{Hint, Lang};
use codejury_python::PythonToolchain;
use codejury_sandbox::{Launch, MemoryFallback, MemoryPolicy, Toolchain};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The harness every process language runs in. Embedded so the binary is
/// self-contained.
pub const EXEC_HARNESS: &str = include_str!("exec_harness.py");

/// The pinned npm packages JavaScript and TypeScript programs need
/// (MBXP's tests `require("lodash")`; some TypeScript prompts import
/// `mathjs` and `heap-js`), and the compiler mxeval's TypeScript runs
/// through. `npm install --prefix DIR` of these gives `DIR/node_modules`.
pub const NPM_PACKAGES: [&str; 4] = [
    "typescript@5.9.3",
    "lodash@4.17.21",
    "mathjs@13.2.0",
    "heap-js@2.5.0",
];

/// CPU time a build may take (mxeval allows a compile 100 s of wall time).
const BUILD_CPU_MS: u64 = 60_000;
/// Wall-clock time a build may take.
const BUILD_WALL_MS: u64 = 100_000;
/// Diagnostics a build may write before it is stopped (a gigabyte of
/// template errors is a build failure, not a memory problem).
const BUILD_OUTPUT_BYTES: u64 = 1 << 20;

/// The JVM flags for `java` and (with `-J`) `javac`: one GC thread, the
/// quick JIT only and no shared-memory performance file cut a short
/// program's CPU time by half, and `/tmp` is read-only in the sandbox.
const JVM_FLAGS: [&str; 3] = [
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
];

/// Why a language's toolchain cannot be used on this machine.
#[derive(Debug, thiserror::Error)]
#[error("cannot run {lang} programs: {what}")]
pub struct MissingTool {
    /// The language.
    pub lang: Lang,
    /// What is missing or broken.
    pub what: String,
    /// How to install it.
    pub install: String,
}

impl Hint for MissingTool {
    fn hint(&self) -> Option<String> {
        Some(self.install.clone())
    }
}

/// What building and running one program costs the bare way
/// ([`ExecToolchain::bare`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BareTiming {
    /// Wall seconds of the build (0 for languages that build nothing).
    pub build_seconds: f64,
    /// Mean wall seconds of one run.
    pub run_seconds: f64,
}

/// A resolved toolchain for one process language.
#[derive(Debug, Clone)]
pub struct ExecToolchain {
    lang: Lang,
    python: PathBuf,
    recipe: serde_json::Value,
    versions: Vec<String>,
    fingerprint: String,
}

/// A tool found on `PATH`, by absolute path.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}

/// The first line a tool prints for `args` (stdout, else stderr).
fn version_of(tool: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(tool).args(args).output().ok()?;
    let text = if out.stdout.trim_ascii().is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    let line = String::from_utf8_lossy(&text)
        .lines()
        .next()?
        .trim()
        .to_string();
    (!line.is_empty()).then_some(line)
}

/// Where the pinned npm packages live: `CODEJURY_NODE_MODULES`, else
/// `CACHE/node/node_modules`.
pub fn node_modules(cache: &Path) -> PathBuf {
    match std::env::var_os("CODEJURY_NODE_MODULES") {
        Some(d) => PathBuf::from(d),
        None => cache.join("node").join("node_modules"),
    }
}

impl ExecToolchain {
    /// Finds the tools `lang` needs, checks that they run, and prepares
    /// what makes builds fast (C++'s precompiled `<bits/stdc++.h>`, kept in
    /// `cache`). Python is not a process language: use `PythonToolchain`.
    pub fn resolve(lang: Lang, cache: &Path) -> Result<ExecToolchain, MissingTool> {
        let missing = |what: String, install: &str| MissingTool {
            lang,
            what,
            install: install.to_string(),
        };
        let python = PythonToolchain::resolve().map_err(|e| {
            missing(
                format!("the harness needs Python: {e}"),
                "install Python 3.8+ or point CODEJURY_PYTHON at one",
            )
        })?;
        let tool = |name: &str, install: &str| {
            which(name).ok_or_else(|| missing(format!("`{name}` is not on PATH"), install))
        };
        let mut versions = Vec::new();
        let mut version = |tool: &Path, args: &[&str], install: &str| {
            let v = version_of(tool, args)
                .ok_or_else(|| missing(format!("`{}` does not run", tool.display()), install))?;
            versions.push(v);
            Ok::<_, MissingTool>(())
        };
        let npm_hint = format!(
            "npm install --prefix {} {} (or point CODEJURY_NODE_MODULES at a node_modules holding them)",
            cache.join("node").display(),
            NPM_PACKAGES.join(" ")
        );
        let modules = node_modules(cache);
        let npm_package = |name: &str| -> Result<String, MissingTool> {
            let manifest = modules.join(name).join("package.json");
            let text = std::fs::read_to_string(&manifest).map_err(|_| {
                missing(
                    format!("the npm package {name} is not in {}", modules.display()),
                    &npm_hint,
                )
            })?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| missing(format!("{}: {e}", manifest.display()), &npm_hint))?;
            Ok(format!("{name}@{}", v["version"].as_str().unwrap_or("?")))
        };
        let p = |p: &Path| p.to_string_lossy().into_owned();
        let recipe = match lang {
            Lang::Python => {
                return Err(missing(
                    "Python runs in its own harness".into(),
                    "use codejury_python::PythonToolchain",
                ))
            }
            Lang::Cpp => {
                let gxx = tool("g++", "apt install g++")?;
                version(&gxx, &["--version"], "apt install g++")?;
                let mut argv = vec![p(&gxx)];
                if let Some(dir) = precompiled_header(&gxx, cache, &versions[0]) {
                    argv.extend(["-I".to_string(), p(&dir)]);
                }
                argv.extend(["-o", "{dir}/a.out", "{src}"].map(String::from));
                json!({"source": "main.cpp", "build": [{"argv": argv}], "run": ["{dir}/a.out"], "env": {}, "build_once": true})
            }
            Lang::Go => {
                let go = tool("go", "apt install golang-go")?;
                version(&go, &["version"], "apt install golang-go")?;
                json!({
                    "source": "main.go",
                    "build": [{"argv": [p(&go), "build", "-o", "{dir}/a.out", "{src}"]}],
                    "run": ["{dir}/a.out"],
                    "env": {"GOCACHE": "{dir}/.gocache", "GOPATH": "{dir}/.gopath",
                            "GO111MODULE": "off", "CGO_ENABLED": "0"},
                    "build_once": true,
                })
            }
            Lang::Java => {
                let hint = "apt install default-jdk-headless";
                let javac = tool("javac", hint)?;
                let java = tool("java", hint)?;
                version(&javac, &["-version"], hint)?;
                version(&java, &["-version"], hint)?;
                let mut build = vec![p(&javac)];
                build.extend(JVM_FLAGS.iter().map(|f| format!("-J{f}")));
                build.extend(["-d", "{dir}", "{src}"].map(String::from));
                let mut run = vec![p(&java)];
                run.extend(JVM_FLAGS.iter().map(|f| f.to_string()));
                run.extend(["-cp", "{dir}", "CjEntry"].map(String::from));
                json!({"source": "Main.java", "build": [{"argv": build}], "run": run, "env": {}, "build_once": true})
            }
            Lang::JavaScript | Lang::TypeScript => {
                let node = tool("node", "apt install nodejs")?;
                version(&node, &["--version"], "apt install nodejs")?;
                versions.push(npm_package("lodash")?);
                let env = json!({"NODE_PATH": p(&modules)});
                if lang == Lang::JavaScript {
                    json!({"source": "main.js", "build": [], "run": [p(&node), "{src}"], "env": env})
                } else {
                    versions.push(npm_package("typescript")?);
                    let tsc = modules.join("typescript").join("bin").join("tsc");
                    // mxeval's command, without the type checker: tsc
                    // writes the JavaScript whatever the checker says (and
                    // exits 2 when it complains: every MBXP test's `import *
                    // as assert` is a type error without @types/node), so
                    // the checker decides no verdict; only syntax errors do.
                    // `--noCheck --noLib` emits byte for byte the same
                    // JavaScript for all 1,935 MBTSP samples and canonical
                    // solutions, in 0.26 s instead of 0.62 s a program.
                    json!({
                        "source": "main.ts",
                        "build": [{"argv": [p(&node), p(&tsc), "--target", "es5", "--lib", "es2016", "--noCheck", "--noLib", "{src}"],
                                   "ok": [0, 2], "produces": ["{dir}/main.js"]}],
                        "run": [p(&node), "{dir}/main.js"],
                        "env": env,
                        "build_once": true,
                        // TS1xxx are syntax errors: tsc still emits, but
                        // the emitted file does not parse at all.
                        "whole_program_error": "error TS1",
                    })
                }
            }
            Lang::Php => {
                let php = tool("php", "apt install php-cli")?;
                version(&php, &["--version"], "apt install php-cli")?;
                json!({"source": "main.php", "build": [], "run": [p(&php), "{src}"], "env": {}})
            }
            Lang::Ruby => {
                let ruby = tool("ruby", "apt install ruby")?;
                version(&ruby, &["--version"], "apt install ruby")?;
                json!({"source": "main.rb", "build": [], "run": [p(&ruby), "{src}"], "env": {}})
            }
            Lang::Perl => {
                let perl = tool("perl", "apt install perl")?;
                let hint = "apt install libdata-compare-perl (MBXP's Perl tests use Data::Compare)";
                version(
                    &perl,
                    &[
                        "-MData::Compare",
                        "-e",
                        "print qq(Data::Compare $Data::Compare::VERSION)",
                    ],
                    hint,
                )?;
                version(&perl, &["-e", "print qq(perl $^V)"], "apt install perl")?;
                json!({"source": "main.pl", "build": [], "run": [p(&perl), "{src}"], "env": {}})
            }
        };
        let mut recipe = recipe;
        recipe["lang"] = json!(lang.as_str());
        recipe["build_limits"] = json!({
            "cpu_ms": BUILD_CPU_MS, "wall_ms": BUILD_WALL_MS, "output_bytes": BUILD_OUTPUT_BYTES,
        });
        // The recipe's flags decide verdicts too (tsc's target, the JVM's
        // options); its absolute paths differ between machines and do not.
        let shape = without_paths(&recipe).to_string();
        let mut h = Sha256::new();
        for part in [lang.as_str(), EXEC_HARNESS, python.version(), &shape]
            .into_iter()
            .chain(versions.iter().map(String::as_str))
        {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        Ok(ExecToolchain {
            lang,
            python: python.python().to_path_buf(),
            recipe,
            fingerprint: format!("{}:{}", lang.as_str(), hex::encode(h.finalize())),
            versions,
        })
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The same toolchain building and running one program per (candidate,
    /// test) pair, as mxeval or a per-request service does: the baseline
    /// `bench exec --lang` measures building once against. Verdicts are
    /// the same; the fingerprint differs, so neither borrows the other's.
    pub fn per_pair(mut self) -> ExecToolchain {
        self.recipe["build_once"] = json!(false);
        self.fingerprint.push_str(":per-pair");
        self
    }

    /// Fast mode for the script languages (Ruby, Perl, PHP): the
    /// interpreter starts once per worker and forks a child per pair, which
    /// runs the pair's file as the interpreter would (`load`, `do`,
    /// `include` at the top level) — still one process per pair, without
    /// paying the interpreter's start each time. Other languages are
    /// unchanged. The fingerprint differs, so verdicts are not shared with
    /// the cold way; `bench exec --lang` measures their agreement.
    pub fn warm(mut self) -> ExecToolchain {
        if self.can_warm() {
            self.recipe["warm"] = json!(true);
            self.fingerprint.push_str(":warm");
        }
        self
    }

    /// Whether the language has a warm way ([`ExecToolchain::warm`]).
    pub fn can_warm(&self) -> bool {
        matches!(self.lang, Lang::Ruby | Lang::Perl | Lang::Php)
    }

    /// Whether a candidate is built once with all of its tests (C++, Go,
    /// Java, TypeScript) rather than once per pair.
    pub fn builds_once(&self) -> bool {
        self.recipe["build_once"].as_bool().unwrap_or(false)
    }

    /// Builds `program` and runs it `runs` times the bare way — plain
    /// processes outside the sandbox, the recipe's commands, no harness —
    /// as the floor a sandboxed build and run are measured against.
    pub fn bare(&self, program: &str, runs: usize) -> Result<BareTiming, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path().to_string_lossy().into_owned();
        let src_name = self.recipe["source"].as_str().unwrap_or("main.txt");
        let src = dir.path().join(src_name).to_string_lossy().into_owned();
        std::fs::write(&src, program).map_err(|e| format!("{src}: {e}"))?;
        let fill = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .map(|a| a.replace("{dir}", &d).replace("{src}", &src))
                .collect()
        };
        let env: Vec<(String, String)> = self.recipe["env"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.replace("{dir}", &d))))
            .collect();
        let command = |argv: &[String]| {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..])
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("HOME", dir.path())
                .env("TMPDIR", dir.path())
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c
        };
        let started = std::time::Instant::now();
        for step in self.recipe["build"].as_array().into_iter().flatten() {
            let argv = fill(&step["argv"]);
            let ok: Vec<i64> = step["ok"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
                .unwrap_or_else(|| vec![0]);
            let status = command(&argv)
                .status()
                .map_err(|e| format!("{}: {e}", argv[0]))?;
            if !status.code().is_some_and(|c| ok.contains(&i64::from(c))) {
                return Err(format!("{} exited {status}", argv[0]));
            }
        }
        let build_seconds = started.elapsed().as_secs_f64();
        let argv = fill(&self.recipe["run"]);
        let started = std::time::Instant::now();
        for _ in 0..runs {
            command(&argv)
                .status()
                .map_err(|e| format!("{}: {e}", argv[0]))?;
        }
        Ok(BareTiming {
            build_seconds,
            run_seconds: started.elapsed().as_secs_f64() / runs.max(1) as f64,
        })
    }

    /// The tools' versions, as they print them (what the fingerprint keys).
    pub fn versions(&self) -> &[String] {
        &self.versions
    }
}

/// The recipe with every absolute path cut to its file name: what a cache
/// key may hold of it (two machines with the same tools share results).
fn without_paths(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if s.starts_with('/') => {
            serde_json::Value::String(s.rsplit('/').next().unwrap_or_default().to_string())
        }
        serde_json::Value::Array(a) => a.iter().map(without_paths).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), without_paths(x)))
            .collect(),
        other => other.clone(),
    }
}

/// A precompiled `<bits/stdc++.h>` for `g++` (every MBXP C++ prompt starts
/// with it; parsing it is 2.5 s of a 3 s compile), built once outside the
/// sandbox from the system's own header into `cache`, in a directory to
/// put first on the include path. `None` (and a warning) when it cannot be
/// built: programs then compile without it, only slower.
fn precompiled_header(gxx: &Path, cache: &Path, version: &str) -> Option<PathBuf> {
    let key = hex::encode(&Sha256::digest(version.as_bytes())[..8]);
    let dir = cache.join("toolchains").join(format!("cpp-pch-{key}"));
    let gch = dir.join("bits").join("stdc++.h.gch");
    if gch.is_file() {
        return Some(dir);
    }
    let header = Command::new(gxx)
        .args(["-x", "c++", "-E", "-H", "-o", "/dev/null", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(b"#include <bits/stdc++.h>\n")?;
            }
            child.wait_with_output()
        })
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stderr).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix(". ").map(|s| PathBuf::from(s.trim())))
        })?;
    let built = (|| -> std::io::Result<bool> {
        std::fs::create_dir_all(gch.parent().unwrap_or(&dir))?;
        let tmp = tempfile::NamedTempFile::new_in(gch.parent().unwrap_or(&dir))?;
        let ok = Command::new(gxx)
            .args(["-x", "c++-header", "-o"])
            .arg(tmp.path())
            .arg(&header)
            .status()?
            .success();
        if ok {
            tmp.persist(&gch).map_err(|e| e.error)?;
        }
        Ok(ok)
    })();
    match built {
        Ok(true) => Some(dir),
        other => {
            tracing::warn!(
                ?other,
                "could not precompile <bits/stdc++.h>; C++ builds will be slower"
            );
            None
        }
    }
}

impl Toolchain for ExecToolchain {
    fn language(&self) -> &str {
        self.lang.as_str()
    }

    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn launch(&self) -> Launch {
        let recipe = self.recipe.to_string();
        Launch {
            program: self.python.clone(),
            args: ["-S", "-s", "-B", "-c", EXEC_HARNESS, recipe.as_str()]
                .into_iter()
                .map(OsString::from)
                .collect(),
            env: Vec::new(),
        }
    }

    /// Builds run in the worker's cgroup beside the runs, so the group
    /// holds a compiler (or a JVM, or V8) on top of the pair's limit.
    /// Runtimes that reserve far more address space than they use (JVM,
    /// V8, Go) cannot be held by `RLIMIT_AS`; without cgroups their memory
    /// limit is degraded, and the engine says so.
    fn memory(&self) -> MemoryPolicy {
        let (worker_bytes, fallback) = match self.lang {
            Lang::Java => (768 << 20, MemoryFallback::None),
            Lang::JavaScript | Lang::TypeScript | Lang::Go => (512 << 20, MemoryFallback::None),
            Lang::Cpp => (
                512 << 20,
                MemoryFallback::AddressSpace {
                    headroom_bytes: 1 << 30,
                },
            ),
            _ => (
                64 << 20,
                MemoryFallback::AddressSpace {
                    headroom_bytes: 256 << 20,
                },
            ),
        };
        MemoryPolicy {
            worker_bytes,
            fallback,
        }
    }

    fn build_allowance_ms(&self) -> u64 {
        match self.lang {
            Lang::Cpp | Lang::Go | Lang::Java | Lang::TypeScript => BUILD_WALL_MS,
            _ => 0,
        }
    }
}
