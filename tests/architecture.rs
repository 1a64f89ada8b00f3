//! The crate's layering: no import cycle between top-level modules of
//! `src/` (`input`, `rules`, `output`, …). A module is the first component
//! of a file's path under `src/`; it uses another when one of its files
//! names `crate::other` (in a `use` or inline, tests included, comments not).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules each file names after `crate::`, with `crate::{a, b}` groups.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let group = rest.strip_prefix('{').map(|g| g.split('}').next().unwrap_or(""));
            for part in group.map_or(vec![rest], |g| g.split(',').collect()) {
                let name: String = part
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

/// Module → (module it uses → files that make the edge).
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for used in named_modules(&text) {
            if used != module {
                edges
                    .entry(module.clone())
                    .or_default()
                    .entry(used)
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    edges
}

/// A path of modules from `from` back to `to`, if there is one.
fn path_between(
    edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    from: &str,
    to: &str,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if from == to {
        return Some(vec![to.to_string()]);
    }
    if !seen.insert(from.to_string()) {
        return None;
    }
    for next in edges.get(from).into_iter().flat_map(|m| m.keys()) {
        if let Some(mut rest) = path_between(edges, next, to, seen) {
            rest.insert(0, from.to_string());
            return Some(rest);
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_in_one_direction_only() {
    let edges = graph();
    let mut cycles = Vec::new();
    for (module, uses) in &edges {
        for (used, files) in uses {
            if let Some(back) = path_between(&edges, used, module, &mut BTreeSet::new()) {
                cycles.push(format!(
                    "{module} -> {} (edge {module} -> {used} from {})",
                    back.join(" -> "),
                    files.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_scan_sees_the_known_layering() {
    // Guards the scanner itself: these edges exist and must be found.
    let edges = graph();
    let uses = |a: &str, b: &str| edges.get(a).is_some_and(|m| m.contains_key(b));
    assert!(uses("rules", "input"), "rules reads files through input");
    assert!(uses("run", "rules"), "a run loads its rules");
    assert!(uses("output", "matching"), "outputs render matches");
    assert!(!uses("input", "rules"), "the reader knows nothing of rule files");
    assert_eq!(
        named_modules("use crate::{input::plan, rules::Plan}; // crate::audit"),
        BTreeSet::from(["input".to_string(), "rules".to_string()])
    );
}
