//! The layering of `api/src`, checked: each layer uses only the layers below it, and the
//! layers below `http` know neither actix-web nor clap.
//!
//! ```text
//! cli                     (rank 6)
//! http, settings, telemetry (rank 5)
//! assess_page             (rank 4)
//! services                (rank 3)
//! report_page             (rank 2)
//! store                   (rank 1)
//! domain                  (rank 0)
//! ```
//!
//! A path into the crate (`crate::x`, `crate::{x, y}`, or `super::` climbing to the crate
//! root) may name a top-level module of the same rank or lower. Run it alone with
//! `cargo test -p readiness-api --test layers`.

use std::path::{Path, PathBuf};

/// Top-level modules and their rank; `main.rs` and `lib.rs` sit above all of them.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("store", 1),
    ("report_page", 2),
    ("services", 3),
    ("assess_page", 4),
    ("http", 5),
    ("settings", 5),
    ("telemetry", 5),
    ("cli", 6),
];

/// Layers up to this rank may not name these crates.
const TRANSPORT_FREE_UP_TO: u8 = 4;
const TRANSPORT_CRATES: &[&str] = &[
    "actix_web",
    "actix_http",
    "actix_rt",
    "actix_router",
    "utoipa_actix_web",
    "utoipa_swagger_ui",
    "clap",
];

fn rank(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, rank)| *rank)
}

/// The module path of a source file relative to `src/` (`services/reports/run.rs` →
/// `[services, reports, run]`, `services/mod.rs` → `[services]`).
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers at the start of `rest`: one (`x::…`) or each of a group (`{x, y::z}`).
fn leading_idents(rest: &str) -> Vec<String> {
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut end = group.len();
        for (index, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = index;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let inner = &group[..end];
        let mut idents = Vec::new();
        let mut depth = 0;
        let mut start_of_item = true;
        for (index, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => start_of_item = true,
                c if start_of_item && depth == 0 && is_ident_char(c) => {
                    let ident: String = inner[index..]
                        .chars()
                        .take_while(|c| is_ident_char(*c))
                        .collect();
                    idents.push(ident);
                    start_of_item = false;
                }
                _ => {}
            }
        }
        idents
    } else {
        let ident: String = rest.chars().take_while(|c| is_ident_char(*c)).collect();
        if ident.is_empty() {
            Vec::new()
        } else {
            vec![ident]
        }
    }
}

/// The top-level modules a line names through `crate::` or a `super::` chain that climbs to
/// the crate root.
fn named_modules(line: &str, module: &[String]) -> Vec<String> {
    let mut named = Vec::new();
    let mut from = 0;
    while let Some(found) = line[from..].find("crate::") {
        let at = from + found;
        let preceded_by_ident = line[..at].chars().last().is_some_and(is_ident_char);
        from = at + "crate::".len();
        if !preceded_by_ident {
            named.extend(leading_idents(&line[from..]));
        }
    }
    let mut from = 0;
    while let Some(found) = line[from..].find("super::") {
        let at = from + found;
        if line[..at].chars().last().is_some_and(is_ident_char) || line[..at].ends_with("::") {
            from = at + "super::".len();
            continue;
        }
        let mut climbs = 0;
        let mut rest = &line[at..];
        while let Some(after) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = after;
        }
        from = line.len() - rest.len();
        // `super` from a file module is its parent; from the crate root's children it is the root.
        if climbs >= module.len() {
            named.extend(leading_idents(rest));
        }
    }
    named
}

/// Every breach of the layering in these files (paths relative to `src/`).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (relative, text) in files {
        let module = module_path(relative);
        let Some(own_rank) = module.first().and_then(|top| rank(top)) else {
            continue;
        };
        let mut in_block_comment = false;
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if in_block_comment {
                in_block_comment = !trimmed.contains("*/");
                continue;
            }
            if trimmed.starts_with("/*") {
                in_block_comment = !trimmed.contains("*/");
                continue;
            }
            if trimmed.starts_with("//") {
                continue;
            }
            let code = trimmed.split("//").next().unwrap_or_default();
            let at = format!("{relative}:{}", number + 1);
            for named in named_modules(code, &module) {
                match rank(&named) {
                    Some(their_rank) if their_rank > own_rank => found.push(format!(
                        "{at}: `{}` (rank {own_rank}) uses `{named}` (rank {their_rank}), a layer above it",
                        module[0]
                    )),
                    _ => {}
                }
            }
            if own_rank <= TRANSPORT_FREE_UP_TO {
                for krate in TRANSPORT_CRATES {
                    let mut from = 0;
                    while let Some(found_at) = code[from..].find(krate) {
                        let at_index = from + found_at;
                        from = at_index + krate.len();
                        let before = code[..at_index].chars().last();
                        let after = code[from..].chars().next();
                        if before.is_some_and(is_ident_char) || after.is_some_and(is_ident_char) {
                            continue;
                        }
                        found.push(format!(
                            "{at}: `{}` names `{krate}`, which only `http` and `cli` may use",
                            module[0]
                        ));
                    }
                }
            }
        }
    }
    found
}

fn rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((relative, text));
        }
    }
}

#[test]
fn every_layer_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    assert!(
        files.len() > 50,
        "expected the whole source tree, found {} files",
        files.len()
    );
    for (top, _) in LAYERS {
        assert!(
            files
                .iter()
                .any(|(path, _)| module_path(path).first().is_some_and(|m| m == top)),
            "no module `{top}` in src/: update LAYERS"
        );
    }
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "layering violations:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_deliberate_violations() {
    let files = vec![
        (
            "services/reports/run.rs".to_owned(),
            "use actix_web::web;\nuse crate::http::state::AppState;\nuse crate::{domain, cli::Cli};\n// crate::http in a comment is fine\n".to_owned(),
        ),
        (
            "store/keys.rs".to_owned(),
            "use super::super::services::Services;\nuse super::entities::api_key;\nfn f() { let _ = crate::report_page::render; }\n".to_owned(),
        ),
        (
            "domain/params.rs".to_owned(),
            "#[derive(clap::ValueEnum)]\nenum Basis { Latest }\nuse crate::store::Backend;\n".to_owned(),
        ),
        (
            "report_page/page.rs".to_owned(),
            "use crate::services::Services;\nuse crate::domain::params::ReportParams;\n".to_owned(),
        ),
        (
            "http/routes/health.rs".to_owned(),
            "use actix_web::get;\nuse crate::services::Services;\nuse crate::cli::run;\n"
                .to_owned(),
        ),
        (
            "cli/serve.rs".to_owned(),
            "use crate::http::server::Application;\nuse clap::Args;\n".to_owned(),
        ),
    ];
    let found = violations(&files);
    let places: Vec<&str> = found
        .iter()
        .map(|v| v.split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        places,
        [
            "services/reports/run.rs:1",
            "services/reports/run.rs:2",
            "services/reports/run.rs:3",
            "store/keys.rs:1",
            "store/keys.rs:3",
            "domain/params.rs:1",
            "domain/params.rs:3",
            "report_page/page.rs:1",
            "http/routes/health.rs:3",
        ],
        "{found:#?}"
    );
}
