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
fn the_ipa_code_list_turns_unknown_codes_into_errors() {
    let file = fixture("invalid/it_riuso_codiceIPA_invalid.yml");
    let file = file.to_str().expect("UTF-8 path");
    assert!(validate(&[file], None).status.success(), "without the list only the shape is checked");
    let list = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ipa/ipa_codes.txt");
    let out = validate(&["--ipa-codes", list.to_str().expect("UTF-8 path"), file], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error    IT.riuso.codiceIPA: codiceIPA must be a valid"));
}
