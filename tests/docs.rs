//! The reference in `docs/` against the code: one table per fact, checked both ways. Every gate
//! setting the config parser knows has a row in `docs/gate.md` and every row there is a real
//! setting; every error code has a row in `docs/policy.md`'s error table and every row is a real
//! code; every policy member has a row in its field table and every row is a real member.
#![cfg(not(target_arch = "wasm32"))]

use jwtgate::Code;
use std::collections::BTreeSet;

fn doc(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first cells (`` | `name` | ``) of the rows of the table under `heading` in `text`.
fn first_cells(text: &str, heading: &str) -> BTreeSet<String> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let mut cells = BTreeSet::new();
    let mut in_table = false;
    for line in text[start..].lines().skip(1) {
        if line.starts_with('|') {
            in_table = true;
            if let Some(name) = line
                .strip_prefix("| `")
                .and_then(|rest| rest.split_once("` |"))
                .map(|(name, _)| name)
            {
                cells.insert(name.to_owned());
            }
        } else if in_table {
            break; // the first table under the heading only
        }
    }
    cells
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

#[test]
fn gate_settings_are_documented_exactly() {
    let documented = first_cells(&doc("gate.md"), "## Settings");
    let known = set(jwtgate::gate::config::SETTINGS);
    assert_eq!(
        documented, known,
        "docs/gate.md settings table vs config::SETTINGS"
    );
}

#[test]
fn error_codes_are_documented_exactly() {
    let documented = first_cells(&doc("policy.md"), "## Error codes");
    let known = set(Code::ALL.iter().map(|c| c.as_str()));
    assert_eq!(documented, known, "docs/policy.md error table vs Code::ALL");
}

#[test]
fn policy_fields_are_documented_exactly() {
    let documented = first_cells(&doc("policy.md"), "## Fields and key rules");
    let known = set(jwtgate::policy::FIELDS);
    assert_eq!(
        documented, known,
        "docs/policy.md field table vs policy::FIELDS"
    );
}

#[test]
fn the_readme_links_only_to_pages_that_exist() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut linked = 0;
    for part in readme.split("](docs/").skip(1) {
        let page = part.split([')', '#']).next().unwrap();
        doc(page);
        linked += 1;
    }
    assert!(linked >= 6, "{linked}");
}

#[test]
fn the_typescript_algorithm_union_names_every_algorithm() {
    // js/types.d.ts's `export type Algorithm = "HS256" | ...;` is written by hand (the package's
    // own types, appended to wasm-bindgen's declarations): it must list exactly the core's
    // algorithms.
    let js =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/js/types.d.ts")).unwrap();
    let line = js
        .lines()
        .find(|l| l.starts_with("export type Algorithm = "))
        .expect("js/types.d.ts declares the TypeScript type Algorithm");
    let names: BTreeSet<String> = line
        .trim_start_matches("export type Algorithm = ")
        .trim_end_matches(';')
        .split('|')
        .map(|n| n.trim().trim_matches('"').to_owned())
        .collect();
    assert_eq!(
        names,
        set(jwtgate::Algorithm::ALL.iter().map(|a| a.name())),
        "the TypeScript Algorithm union and Algorithm::ALL differ"
    );
}

#[test]
fn every_unavailable_reason_is_in_the_answers_table() {
    // The 503 row of docs/gate.md's answers table lists every reason the gate can give.
    let gate = doc("gate.md");
    let row = gate
        .lines()
        .find(|l| l.contains("temporarily_unavailable"))
        .expect("docs/gate.md has the 503 row");
    let listed: BTreeSet<String> = row
        .split('"')
        .filter(|s| {
            (s.ends_with("_unavailable") || *s == "no_keys") && *s != "temporarily_unavailable"
        })
        .map(str::to_owned)
        .collect();
    let known = set(jwtgate::gate::request::Unavailable::ALL.map(|u| u.as_str()));
    assert_eq!(
        listed, known,
        "docs/gate.md 503 row vs gate::request::Unavailable"
    );
}
