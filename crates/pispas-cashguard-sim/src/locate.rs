//! Finding the built cdylib from a test, so tests load the real `.so`/`.dll` through the C ABI
//! the way the engine loads cglogics.dll.
//!
//! Cargo puts test executables in `target/<triple?>/<profile>/deps/` and this crate's cdylib in
//! `target/<triple?>/<profile>/` (when this crate is the one being tested) or in `…/deps/`
//! (when it is a dependency, e.g. of the engine's tests). Both are searched, next to the running
//! executable; `CGSIM_LIBRARY` overrides the search.

use std::path::{Path, PathBuf};

/// Environment variable naming the library file explicitly.
pub const LIBRARY_ENV: &str = "CGSIM_LIBRARY";

/// `libpispas_cashguard_sim.so` on Linux, `pispas_cashguard_sim.dll` on Windows,
/// `libpispas_cashguard_sim.dylib` on macOS.
pub fn library_file_name() -> String {
    format!(
        "{}pispas_cashguard_sim{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The simulator library to load: `$CGSIM_LIBRARY` if set, else the first existing of
/// `<exe dir>/..` (when the exe is in `deps/`), `<exe dir>`, `<exe dir>/deps`.
///
/// Fails (`NotFound`, listing the places searched) when it has not been built: build it with
/// `cargo build -p pispas-cashguard-sim` (same profile and target as the tests), or depend on
/// the crate, which makes cargo build it into `deps/`.
pub fn library_path() -> std::io::Result<PathBuf> {
    if let Some(p) = std::env::var_os(LIBRARY_ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{LIBRARY_ENV}={} is not a file", p.display()),
            ))
        };
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = candidates(dir);
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let list = candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} not found in: {list}", library_file_name()),
            )
        })
}

fn candidates(exe_dir: &Path) -> Vec<PathBuf> {
    let name = library_file_name();
    let mut dirs = Vec::new();
    if exe_dir.file_name().is_some_and(|n| n == "deps") {
        if let Some(profile_dir) = exe_dir.parent() {
            dirs.push(profile_dir.to_path_buf());
        }
    }
    dirs.push(exe_dir.to_path_buf());
    dirs.push(exe_dir.join("deps"));
    dirs.into_iter().map(|d| d.join(&name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_in_deps_looks_in_the_profile_dir_first_then_deps() {
        let c = candidates(Path::new("/t/debug/deps"));
        let name = library_file_name();
        assert_eq!(c[0], Path::new("/t/debug").join(&name));
        assert_eq!(c[1], Path::new("/t/debug/deps").join(&name));
    }
}
