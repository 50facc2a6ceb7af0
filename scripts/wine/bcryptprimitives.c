/*
 * Minimal stand-in for Windows' bcryptprimitives.dll, for running Rust test
 * binaries under Wine 8 (Debian 12), which does not ship this DLL.
 *
 * Rust's std (1.78+) on Windows gets its randomness (HashMap keys, etc.) from
 * ProcessPrng in bcryptprimitives.dll; without it every Rust .exe dies at load
 * time with STATUS_DLL_NOT_FOUND (c0000135). This stub exports ProcessPrng and
 * forwards to advapi32's SystemFunction036 (a.k.a. RtlGenRandom), which Wine
 * implements.
 *
 * Test/dev use only: it is installed into a private WINEPREFIX by
 * scripts/windows-check.sh and never shipped. Real Windows (10+) has its own.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll \
 *          bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

/* Declared in <ntsecapi.h> as RtlGenRandom; declared here directly to avoid
 * the header's macro games. Exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData); documented to always
 * return TRUE. SystemFunction036 takes a ULONG length, so fill in chunks. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
