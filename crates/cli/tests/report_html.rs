//! `report.html` opened in a real headless Chromium: the page loads with
//! no console message, a screenshot is taken, and the numbers its script
//! rendered into the DOM equal `report.json` and `selections.jsonl`.

mod common;
use common::on_five_model_pool;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The headless browser: `$CODEJURY_CHROMIUM`, else Debian's
/// `chromium-headless-shell` or `chromium` on the PATH.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CODEJURY_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium-headless-shell", "chromium"] {
        if let Some(p) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return p;
        }
    }
    panic!(
        "no headless Chromium: `apt-get install chromium-headless-shell` (as .ci/run does) \
         or set CODEJURY_CHROMIUM"
    );
}

/// Runs the browser on `page` with `args`; returns (stdout, the console
/// lines it logged).
fn browse(page: &Path, profile: &Path, args: &[&str]) -> (String, Vec<String>) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

/// The text of the first element carrying `attr` (e.g. `data-metric="mbr"`).
fn text_of<'a>(dom: &'a str, attr: &str) -> &'a str {
    let at = dom
        .find(attr)
        .unwrap_or_else(|| panic!("no element with {attr}"));
    let start = at + dom[at..].find('>').unwrap() + 1;
    let end = start + dom[start..].find('<').unwrap();
    &dom[start..end]
}

/// The value of attribute `name` on the element that carries `marker`.
fn attr_of<'a>(dom: &'a str, marker: &str, name: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no element with {marker}"));
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..at + dom[at..].find('>').unwrap()];
    let key = format!("{name}=\"");
    let v = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    &tag[v..v + tag[v..].find('"').unwrap()]
}

#[test]
fn report_html_renders_report_json_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let s = on_five_model_pool("eval", &["--repeats", "3"], dir.path(), &report);
    let page = report.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        no_fetches(&html),
        "the page must not load anything over the network"
    );

    let profile = dir.path().join("profile");
    let (dom, console) = browse(&page, &profile, &["--dump-dom"]);
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );
    assert!(
        dom.contains("data-rendered=\"yes\""),
        "the script did not finish"
    );

    // The headline: every number as report.json has it.
    for key in [
        "vanilla",
        "oracle",
        "coderm",
        "codet",
        "codet-paper",
        "mbr",
        "passcount",
        "random",
    ] {
        let want = format!("{:.2}%", 100.0 * s[key].as_f64().unwrap());
        assert_eq!(
            text_of(&dom, &format!("data-metric=\"{key}\"")),
            want,
            "{key}"
        );
    }

    // One row per task, and their picks average to the headline.
    let tasks = s["tasks"].as_u64().unwrap() as usize;
    assert_eq!(dom.matches("<tr data-index=").count(), tasks);
    let expected: Vec<f64> = dom
        .split("<td data-expected=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    assert_eq!(expected.len(), tasks);
    let mean = expected.iter().sum::<f64>() / tasks as f64;
    assert!(
        (mean - s["coderm"].as_f64().unwrap()).abs() < 1e-9,
        "{mean} vs {}",
        s["coderm"]
    );

    // The difficulty table: a cell per band, rule and k, as report.json.
    let bands = s["difficulty"].as_array().unwrap();
    let cells: usize = bands
        .iter()
        .flat_map(|b| b["curves"].as_array().unwrap())
        .map(|c| c[1].as_array().unwrap().len())
        .sum();
    assert_eq!(dom.matches("data-band=").count(), cells);
    let first = &bands[0]["curves"][0][1][0]["gain"];
    let cell = text_of(&dom, "data-band=\"1\"");
    assert!(
        cell.starts_with(&format!(
            "{:+.1} [",
            100.0 * first["mean"].as_f64().unwrap()
        )),
        "{cell} vs {first}"
    );

    // The first problem's detail: the pick is selections.jsonl's, and the
    // heatmap has a row per candidate.
    let selections = std::fs::read_to_string(report.join("selections.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(selections.lines().next().unwrap()).unwrap();
    let tied: Vec<u64> = serde_json::from_str(
        &attr_of(&dom, "id=\"detail-counts\"", "data-tied").replace("&quot;", "\""),
    )
    .unwrap();
    let want: Vec<u64> = line["coderm"]["tied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(tied, want);
    assert_eq!(attr_of(&dom, "id=\"heatmap\"", "data-rows"), "5");
    assert!(text_of(&dom, "id=\"detail-title\"").starts_with(line["task_id"].as_str().unwrap()));

    // A screenshot of the rendered page.
    let shot = dir.path().join("report.png");
    let (_, console) = browse(
        &page,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2400",
        ],
    );
    assert!(console.is_empty(), "{}", console.join("\n"));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a blank screenshot ({} bytes)",
        png.len()
    );
}

/// True when every `http(s)://` in the page is an SVG namespace or text
/// inside a program, not something the page loads: no `src=`, `href=` or
/// `url(` points at the network.
fn no_fetches(html: &str) -> bool {
    ["src=\"http", "href=\"http", "url(http", "@import"]
        .iter()
        .all(|p| !html.contains(p))
}
