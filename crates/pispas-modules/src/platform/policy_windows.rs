//! The Windows registry calls of the browser policy (`policy_registry.rs` has the logic). The
//! only `unsafe` of the platform module lives here: each call gets buffers we own, sized as the
//! API asked, and every key handle is closed by a guard.
#![allow(unsafe_code)]

use super::policy::Browser;
use super::policy_registry::{Hive, Registry as RegistryApi};
use std::io;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegCreateKeyExW, RegDeleteValueW, RegEnumValueW, RegOpenKeyExW, RegSetValueExW,
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ, KEY_WRITE, REG_OPTION_NON_VOLATILE,
    REG_SZ,
};

/// The real registry.
pub(crate) struct Registry;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn root(hive: Hive) -> HKEY {
    match hive {
        Hive::Machine => HKEY_LOCAL_MACHINE,
        Hive::User => HKEY_CURRENT_USER,
    }
}

fn error(code: u32) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

/// Closes the key when dropped.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegOpenKeyExW/RegCreateKeyExW and is closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

impl Registry {
    fn value_names_and_data(key: &Key) -> io::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for index in 0.. {
            let mut name = vec![0u16; 256];
            let mut name_len = name.len() as u32;
            let mut data = vec![0u8; 8192];
            let mut data_len = data.len() as u32;
            let mut kind = 0u32;
            // SAFETY: every pointer is to a buffer we own, with its length passed alongside.
            let rc = unsafe {
                RegEnumValueW(
                    key.0,
                    index,
                    name.as_mut_ptr(),
                    &raw mut name_len,
                    std::ptr::null(),
                    &raw mut kind,
                    data.as_mut_ptr(),
                    &raw mut data_len,
                )
            };
            if rc == ERROR_NO_MORE_ITEMS {
                break;
            }
            if rc != ERROR_SUCCESS {
                return Err(error(rc));
            }
            if kind != REG_SZ {
                continue;
            }
            let name = String::from_utf16_lossy(&name[..name_len as usize]);
            let units: Vec<u16> = data[..data_len as usize]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            out.push((name, String::from_utf16_lossy(&units)));
        }
        Ok(out)
    }
}

impl RegistryApi for Registry {
    fn values(&self, hive: Hive, key: &str) -> io::Result<Vec<(String, String)>> {
        let path = wide(key);
        let mut h: HKEY = std::ptr::null_mut();
        // SAFETY: `path` is NUL-terminated and outlives the call; `h` receives the handle.
        let rc = unsafe { RegOpenKeyExW(root(hive), path.as_ptr(), 0, KEY_READ, &raw mut h) };
        if rc == ERROR_FILE_NOT_FOUND {
            return Ok(Vec::new());
        }
        if rc != ERROR_SUCCESS {
            return Err(error(rc));
        }
        Registry::value_names_and_data(&Key(h))
    }

    fn replace(&self, hive: Hive, key: &str, values: &[(String, String)]) -> io::Result<()> {
        let path = wide(key);
        let mut h: HKEY = std::ptr::null_mut();
        // SAFETY: as above; the class and security pointers are null, which the API allows.
        let rc = unsafe {
            RegCreateKeyExW(
                root(hive),
                path.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_READ | KEY_WRITE,
                std::ptr::null(),
                &raw mut h,
                std::ptr::null_mut(),
            )
        };
        if rc != ERROR_SUCCESS {
            return Err(error(rc));
        }
        let key = Key(h);
        for (name, _) in Registry::value_names_and_data(&key)? {
            let n = wide(&name);
            // SAFETY: `n` is NUL-terminated and outlives the call.
            let rc = unsafe { RegDeleteValueW(key.0, n.as_ptr()) };
            if rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND {
                return Err(error(rc));
            }
        }
        for (name, data) in values {
            let n = wide(name);
            let d = wide(data);
            // SAFETY: `d` is a NUL-terminated UTF-16 string; its byte length includes the NUL.
            let rc = unsafe {
                RegSetValueExW(
                    key.0,
                    n.as_ptr(),
                    0,
                    REG_SZ,
                    d.as_ptr().cast(),
                    (d.len() * 2) as u32,
                )
            };
            if rc != ERROR_SUCCESS {
                return Err(error(rc));
            }
        }
        Ok(())
    }

    fn installed(&self, browser: Browser) -> bool {
        let exe = match browser {
            Browser::Chrome => "Google\\Chrome\\Application\\chrome.exe",
            Browser::Chromium => "Chromium\\Application\\chrome.exe",
            Browser::Edge => "Microsoft\\Edge\\Application\\msedge.exe",
        };
        ["ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"]
            .iter()
            .filter_map(std::env::var_os)
            .any(|dir| std::path::Path::new(&dir).join(exe).exists())
    }
}
