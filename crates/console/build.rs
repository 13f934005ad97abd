//! Embeds every `locales/*.ftl` file: a new locale is one file, nothing else to edit.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("locales");
    println!("cargo::rerun-if-changed=locales");
    let mut locales: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_suffix(".ftl").map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    locales.sort();
    let mut code = String::from(
        "/// (language tag, Fluent source) of every locale file.\npub(crate) const LOCALES: &[(&str, &str)] = &[\n",
    );
    for tag in &locales {
        let path = std::fs::canonicalize(dir.join(format!("{tag}.ftl")))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let _ = writeln!(code, "    ({tag:?}, include_str!({path:?})),");
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_string());
    if let Err(e) = std::fs::write(Path::new(&out).join("locales.rs"), code) {
        panic!("writing the locale table: {e}");
    }
}
