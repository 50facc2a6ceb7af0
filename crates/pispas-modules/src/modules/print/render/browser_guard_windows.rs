//! Windows half of `browser_guard.rs`: the rendering browser is put into a job object that
//! kills every process in it when the job's last handle closes. The service holds that handle
//! for its whole life and never closes it, so the system closes it when the service dies, however
//! it dies, and the browser and its renderers go with it.
#![allow(unsafe_code)]

use std::sync::OnceLock;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, STILL_ACTIVE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
    SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SET_QUOTA,
    PROCESS_TERMINATE,
};

/// The job's handle as an integer (a `HANDLE` is a raw pointer, which a static cannot hold).
static JOB: OnceLock<Option<usize>> = OnceLock::new();

fn job() -> Option<HANDLE> {
    let handle = JOB.get_or_init(|| {
        // SAFETY: plain Win32 calls on a handle this function owns; the limit structure is
        // zeroed (all its fields are integers) and then given the one flag.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return None;
            }
            let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let ok = SetInformationJobObject(
                job,
                JobObjectExtendedLimitInformation,
                std::ptr::from_ref(&limits).cast(),
                u32::try_from(std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>())
                    .unwrap_or(0),
            );
            if ok == 0 {
                CloseHandle(job);
                return None;
            }
            Some(job as usize)
        }
    });
    handle.map(|h| h as HANDLE)
}

/// Puts the process `pid` (the browser just started) into the service's kill-on-close job.
/// Returns whether it worked; when not, the browser still runs and is killed on a clean stop.
pub(super) fn contain(pid: u32) -> bool {
    let Some(job) = job() else {
        return false;
    };
    // SAFETY: the process handle is opened, used once and closed here.
    unsafe {
        let process = OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, 0, pid);
        if process.is_null() {
            return false;
        }
        let ok = AssignProcessToJobObject(job, process) != 0;
        CloseHandle(process);
        ok
    }
}

/// Whether the process `pid` is still running.
pub(super) fn alive(pid: u32) -> bool {
    // SAFETY: the process handle is opened, queried once and closed here.
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if process.is_null() {
            return false;
        }
        let mut code = 0u32;
        let ok = GetExitCodeProcess(process, &raw mut code) != 0;
        CloseHandle(process);
        ok && i32::try_from(code) == Ok(STILL_ACTIVE)
    }
}
