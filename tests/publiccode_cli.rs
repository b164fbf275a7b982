//! `mediana validate publiccode` as an author or a CI pipeline runs it: no cluster needed.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/publiccode").join(path)
}

fn validate(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mediana"))
        .args(["validate", "publiccode"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mediana validate publiccode");
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text).expect("write standard input");
    }
    child.wait_with_output().expect("mediana finishes")
}

#[test]
fn a_file_with_warnings_passes_and_shows_its_summary() {
    let file = fixture("valid_with_warnings/valid_with_legal_repoOwner.yml");
    let out = validate(&[file.to_str().expect("UTF-8 path")], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("warning  legal.repoOwner: This key is DEPRECATED"), "{text}");
    assert!(text.contains("0 error(s), 1 warning(s)") && text.contains("name                Medusa"), "{text}");
}

#[test]
fn errors_from_standard_input_fail_with_their_key_paths() {
    let text = std::fs::read(fixture("invalid/mostly_empty.yml")).expect("fixture");
    let out = validate(&["-"], Some(&text));
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("error    description.en-US.shortDescription: shortDescription is a required field"),
        "{report}"
    );
    assert!(report.contains("12 error(s), 0 warning(s)"), "{report}");
}

#[test]
fn the_shipped_ipa_list_is_the_default_and_a_newer_one_replaces_it() {
    let file = fixture("invalid/it_riuso_codiceIPA_invalid.yml");
    let file = file.to_str().expect("UTF-8 path");
    let out = validate(&[file], None);
    assert_eq!(out.status.code(), Some(1), "NO_SUCH_IPA_CODE is not in the shipped list");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error    IT.riuso.codiceIPA: codiceIPA must be a valid"));
    let newer = std::env::temp_dir().join(format!("mediana-ipa-codes-{}.txt", std::process::id()));
    std::fs::write(&newer, "pcm\nNO_SUCH_IPA_CODE\n").expect("write a code list");
    let out = validate(&["--ipa-codes", newer.to_str().expect("UTF-8 path"), file], None);
    let _ = std::fs::remove_file(&newer);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn files_are_checked_in_the_directory_of_the_file_unless_told_not_to() {
    let file = fixture("repository/files_refused.yml");
    let file = file.to_str().expect("UTF-8 path");
    let out = validate(&[file], None);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("error    logo: invalid image size of 100 (min 120px of width): /"), "{report}");
    assert!(report.contains("5 error(s)"), "{report}");
    let out = validate(&["--no-external-checks", file], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(validate(&[fixture("repository/publiccode.yml").to_str().expect("UTF-8 path")], None).status.success());
}
