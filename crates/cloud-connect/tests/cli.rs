//! The `trestle-agent` command line: what an operator sees when something is missing.
//! (Its behaviour against a server is tested in the server's `cloud_connect` tests and the
//! Playwright spec, which run this binary.)

use std::process::Command;

fn agent(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trestle-agent"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("the agent binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_say_what_is_wrong_and_exit_2() {
    let (code, stderr) = agent(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--server is required"), "{stderr}");
    assert!(stderr.contains("Usage: trestle-agent"), "{stderr}");

    let (code, stderr) = agent(&["--server", "ftp://example.com"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an http(s) address"), "{stderr}");

    let (code, stderr) = agent(&["--server", "http://127.0.0.1:9", "--frobnicate"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown option --frobnicate"), "{stderr}");
}

#[test]
fn without_a_token_or_a_state_file_it_explains_how_to_enrol() {
    let state = std::env::temp_dir().join(format!("no-such-agent-{}.json", std::process::id()));
    let (code, stderr) = agent(&[
        "--server",
        "http://127.0.0.1:9",
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not enrolled"), "{stderr}");
    assert!(stderr.contains("--token"), "{stderr}");
}
