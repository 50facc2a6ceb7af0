//! Finding the programs and libraries rendering needs: a Chromium-family browser (CHROME_PATH,
//! else Edge, Chrome or Chromium in their usual places) and pdfium (PDFIUM_PATH, else beside the
//! executable or in its resources, else the system's search path).
//!
//! It only looks; it starts and loads nothing.

use std::path::{Path, PathBuf};

/// The browsers looked for, in order, on this platform.
fn browser_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    #[cfg(windows)]
    {
        for var in ["ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"] {
            if let Some(base) = std::env::var_os(var) {
                let base = PathBuf::from(base);
                out.push(base.join(r"Microsoft\Edge\Application\msedge.exe"));
                out.push(base.join(r"Google\Chrome\Application\chrome.exe"));
                out.push(base.join(r"Chromium\Application\chrome.exe"));
            }
        }
    }
    #[cfg(target_os = "macos")]
    {
        for app in [
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        ] {
            out.push(PathBuf::from(app));
        }
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let names = [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
            "microsoft-edge",
            "microsoft-edge-stable",
        ];
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                for n in names {
                    out.push(dir.join(n));
                }
            }
        }
        for n in names {
            out.push(Path::new("/usr/bin").join(n));
        }
        out.push(PathBuf::from("/snap/bin/chromium"));
    }
    out
}

/// The browser to use: `configured` (CHROME_PATH) when set, else the first one found.
///
/// Fails with a sentence naming what to install when there is none.
pub fn find_browser(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = configured {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("CHROME_PATH {} does not exist", p.display()))
        };
    }
    browser_candidates()
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            if cfg!(windows) {
                "no Microsoft Edge or Google Chrome found: install Edge (or Chrome), or set CHROME_PATH".to_string()
            } else if cfg!(target_os = "macos") {
                "no Google Chrome, Chromium or Edge found in /Applications: install Chrome, or set CHROME_PATH".to_string()
            } else {
                "no Chromium or Chrome found: install it (Debian/Ubuntu: apt install chromium), or set CHROME_PATH".to_string()
            }
        })
}

/// Where to look for pdfium.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfiumSearch {
    /// Files to try, most specific first.
    pub paths: Vec<PathBuf>,
    /// Whether the system's library path is tried after them.
    pub system: bool,
}

/// Where pdfium may be: PDFIUM_PATH (a file or a folder) and nothing else when it is set, so a
/// configured library that cannot load is reported rather than silently replaced; otherwise
/// beside the executable and in its resources folder (the installers bundle it there),
/// /usr/local/lib, then the system's library path.
pub fn pdfium_candidates(configured: Option<&Path>) -> PdfiumSearch {
    let name = library_name();
    let mut out = Vec::new();
    if let Some(p) = configured {
        if p.is_dir() {
            out.push(p.join(name));
        } else {
            out.push(p.to_path_buf());
        }
        return PdfiumSearch {
            paths: out,
            system: false,
        };
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(dir.join(name));
        out.push(dir.join("resources").join(name));
        out.push(dir.join("../Resources").join(name));
        // The .deb: /usr/bin/pispas, resources in /usr/lib/<productName>/.
        out.push(dir.join("../lib/Pispas").join(name));
        out.push(dir.join("../lib/pispas").join(name));
    }
    // scripts/setup/print.sh links pypdfium2's library here on Linux.
    out.push(PathBuf::from("/usr/local/lib").join(name));
    PdfiumSearch {
        paths: out,
        system: true,
    }
}

fn library_name() -> &'static str {
    if cfg!(windows) {
        "pdfium.dll"
    } else if cfg!(target_os = "macos") {
        "libpdfium.dylib"
    } else {
        "libpdfium.so"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_browser_that_does_not_exist_is_named_in_the_error() {
        let e = find_browser(Some(Path::new("/nope/chrome"))).unwrap_err();
        assert!(e.contains("CHROME_PATH /nope/chrome"), "{e}");
    }

    #[test]
    fn pdfium_path_may_name_a_folder() {
        let dir = std::env::temp_dir();
        assert_eq!(
            pdfium_candidates(Some(&dir)),
            PdfiumSearch {
                paths: vec![dir.join(library_name())],
                system: false
            }
        );
        assert!(pdfium_candidates(None).system);
    }
}
