#!/usr/bin/env bash
# Check, lint, build and test the workspace for Windows from a Debian 12 Linux box.
#
#   scripts/windows-check.sh [PHASE...] [--] [CARGO TEST ARGS...]
#
# Phases (default: all):
#   deps   install/verify toolchain only (apt-get; also done implicitly by every phase)
#   lint   x86_64-pc-windows-gnu: cargo check + cargo clippy -D warnings (--workspace --all-targets)
#   msvc   x86_64-pc-windows-msvc: cargo check only (cannot be linked here)
#   wine   create the Wine prefix and install the ProcessPrng stub DLL
#   test   x86_64-pc-windows-gnu: cargo test, test binaries run under wine64 (implies wine)
#   build  x86_64-pc-windows-gnu: cargo build --bin "$WIN_BIN", prints the .exe path
#   smoke  the Linux smoke tests (crates/pispas-modules/tests/smoke.rs) driving the Windows exe
#          under wine64: plain + TLS on one port, CHECK, PING, a bad message, a refused Origin,
#          Ctrl-C shutdown (implies build)
#   all    deps lint msvc wine test build smoke
#
# Any argument that is not a phase name (and everything after a literal "--") goes to
# `cargo test`, e.g.  scripts/windows-check.sh test -p pispas-modules -- --nocapture
# Without such arguments the test phase runs `cargo test --workspace`.
#
# Environment:
#   WORKSPACE_DIR   workspace root (default: the parent of this script's directory)
#   WIN_TARGET_DIR  cargo target dir (default: $WORKSPACE_DIR/target/win-gnu)
#   WIN_WINEPREFIX  wine prefix (default: ~/.cache/pispas-windows-check/wineprefix, ~700 MB);
#                   the ambient WINEPREFIX is ignored so a personal prefix is never touched
#   WIN_BIN         binary for the build phase (default: pispas-modules)
#   WIN_PROFILE     cargo profile for the build phase (default: dev)
#   CARGO_BUILD_JOBS  honoured by cargo as usual (e.g. 1 on a shared 2-core box)
#   WIN_NO_INSTALL=1  never run apt-get; fail if something is missing
#
# Toolchain facts this relies on (measured on Debian 12, 2 cores):
#   * Debian bookworm-security ships rustc-web/cargo-web/rust-web-src/rust-web-clippy at one
#     version (1.96 at the time of writing) as /usr/bin/{rustc,cargo,cargo-clippy,clippy-driver}
#     with std sources in /usr/src/rustc-<v>. Windows std is built from those with -Zbuild-std
#     (RUSTC_BOOTSTRAP=1). The rustup toolchain (~/.cargo/bin) is not used at all.
#   * Every cargo invocation below uses the SAME -Zbuild-std list, target dir, RUSTFLAGS and
#     linker settings; changing any of them between phases (or in a hand-run command) makes
#     cargo rebuild std and everything else. Hand-run equivalent of the lint check:
#       RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/win-gnu \
#         /usr/bin/cargo check --workspace --all-targets -Zbuild-std=std,panic_abort,test \
#         --target x86_64-pc-windows-gnu
#   * `cargo clippy` must not be used: cargo finds ~/.cargo/bin/cargo-clippy (rustup's, older
#     compiler) before /usr/bin/cargo-clippy; the script calls /usr/bin/cargo-clippy directly.
#   * Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Rust std imports; the wine phase
#     builds scripts/wine/bcryptprimitives.c with mingw and drops it into the prefix's system32.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORKSPACE_DIR="$(cd "${WORKSPACE_DIR:-$SCRIPT_DIR/..}" && pwd)"
WIN_TARGET_DIR="${WIN_TARGET_DIR:-$WORKSPACE_DIR/target/win-gnu}"
# ~700 MB once created; kept out of the target dir so CI caches of target/ stay small and
# every checkout/worktree shares one prefix.
WIN_WINEPREFIX="${WIN_WINEPREFIX:-${XDG_CACHE_HOME:-${HOME:-$WIN_TARGET_DIR}/.cache}/pispas-windows-check/wineprefix}"
WIN_BIN="${WIN_BIN:-pispas-modules}"
WIN_PROFILE="${WIN_PROFILE:-dev}"
STUB_SRC_DIR="$SCRIPT_DIR/wine"

GNU_TARGET=x86_64-pc-windows-gnu
MSVC_TARGET=x86_64-pc-windows-msvc
# Keep identical for check, clippy, test and build, or std is rebuilt.
BUILD_STD=("-Zbuild-std=std,panic_abort,test")

DEB_RUSTC=/usr/bin/rustc
DEB_RUSTDOC=/usr/bin/rustdoc
DEB_CARGO=/usr/bin/cargo
DEB_CARGO_CLIPPY=/usr/bin/cargo-clippy
DEB_CLIPPY_DRIVER=/usr/bin/clippy-driver
MINGW_GCC=x86_64-w64-mingw32-gcc
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver

if [[ -t 2 ]]; then C_LOG=$'\033[1;34m' C_ERR=$'\033[1;31m' C_OFF=$'\033[0m'; else C_LOG='' C_ERR='' C_OFF=''; fi
log() { printf '%s==>%s %s\n' "$C_LOG" "$C_OFF" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$C_ERR" "$C_OFF" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- arguments
ALL_PHASES=(deps lint msvc wine test build smoke)
PHASES=()
TEST_ARGS=()
while (($#)); do
    case "$1" in
        all) PHASES+=("${ALL_PHASES[@]}") ;;
        deps | lint | msvc | wine | test | build | smoke) PHASES+=("$1") ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; TEST_ARGS+=("$@"); break ;;
        *) TEST_ARGS+=("$@"); break ;;
    esac
    shift
done
((${#PHASES[@]})) || PHASES=("${ALL_PHASES[@]}")
# test needs the wine prefix; keep the canonical order and drop duplicates.
want() { local p; for p in "${PHASES[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }
want test && PHASES+=(wine)
want smoke && PHASES+=(wine)
ORDERED=()
for p in "${ALL_PHASES[@]}"; do want "$p" && ORDERED+=("$p"); done
PHASES=("${ORDERED[@]}")
if ((${#TEST_ARGS[@]})); then
    want test || { echo "cargo test arguments given (${TEST_ARGS[*]}) but no test phase selected" >&2; exit 2; }
else
    TEST_ARGS=(--workspace)
fi

[[ -f $WORKSPACE_DIR/Cargo.toml ]] || die "no Cargo.toml in WORKSPACE_DIR=$WORKSPACE_DIR"
LOCKED=()
[[ -f $WORKSPACE_DIR/Cargo.lock ]] && LOCKED=(--locked)

# ---------------------------------------------------------------- timing
TIMINGS=()
CUR_PHASE='' CUR_T0=0
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
fmt_ms() { printf '%d.%01ds' $(($1 / 1000)) $(($1 % 1000 / 100)); }
run_phase() {
    local name=$1 ms
    shift
    log "phase $name"
    CUR_PHASE=$name CUR_T0=$(now_ms)
    "$@"
    ms=$(($(now_ms) - CUR_T0))
    TIMINGS+=("$(printf '%-6s %9s' "$name" "$(fmt_ms "$ms")")")
    log "phase $name done in $(fmt_ms "$ms")"
    CUR_PHASE=''
}
on_exit() {
    local rc=$?
    [[ -n $CUR_PHASE ]] && TIMINGS+=("$(printf '%-6s %9s  FAILED (exit %d)' "$CUR_PHASE" "$(fmt_ms $(($(now_ms) - CUR_T0)))" "$rc")")
    if ((${#TIMINGS[@]})); then
        log "timings:"
        printf '    %s\n' "${TIMINGS[@]}" >&2
    fi
    return "$rc"
}
trap on_exit EXIT

# ---------------------------------------------------------------- deps
APT_UPDATED=0
as_root() {
    if ((EUID == 0)); then "$@"
    elif command -v sudo >/dev/null; then sudo -n "$@" || sudo "$@"
    else die "need root to run: $*"
    fi
}
pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
apt_install() { # apt_install PKG... (only the missing ones are installed)
    local missing=() p
    for p in "$@"; do pkg_ok "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    [[ ${WIN_NO_INSTALL:-0} == 1 ]] && die "missing packages (WIN_NO_INSTALL=1): ${missing[*]}"
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get (Debian 12 expected)"
    log "apt-get install ${missing[*]}"
    if ((APT_UPDATED == 0)); then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

RUST_PKGS=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64)
rust_src_dir() { echo "/usr/src/rustc-$("$DEB_RUSTC" -V | awk '{print $2}')"; }

ensure_rust() {
    apt_install "${RUST_PKGS[@]}"
    local exe
    for exe in "$DEB_RUSTC" "$DEB_RUSTDOC" "$DEB_CARGO" "$DEB_CARGO_CLIPPY" "$DEB_CLIPPY_DRIVER"; do
        [[ -x $exe ]] || die "$exe missing (packages: ${RUST_PKGS[*]})"
    done
    command -v "$MINGW_GCC" >/dev/null || die "$MINGW_GCC missing"
    if [[ ! -f "$(rust_src_dir)/library/Cargo.lock" ]]; then
        # rustc-web and rust-web-src must come from the same upload: upgrade them together.
        [[ ${WIN_NO_INSTALL:-0} == 1 ]] && die "$(rust_src_dir)/library/Cargo.lock missing: rustc-web and rust-web-src versions differ"
        log "rustc-web / rust-web-src version mismatch; upgrading them together"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            rustc-web cargo-web rust-web-src rust-web-clippy >/dev/null
        [[ -f "$(rust_src_dir)/library/Cargo.lock" ]] ||
            die "$(rust_src_dir)/library/Cargo.lock missing: $("$DEB_RUSTC" -V) has no matching rust-web-src"
    fi
    local cv
    cv=$("$DEB_CARGO" -V | awk '{print $2}')
    [[ ${cv%.*} == "$("$DEB_RUSTC" -V | awk '{print $2}' | sed 's/\.[^.]*$//')" ]] ||
        die "cargo $cv does not match $("$DEB_RUSTC" -V)"
}
ensure_msvc_tools() {
    [[ -x /usr/lib/llvm-14/bin/llvm-lib ]] || apt_install llvm-14
    [[ -x /usr/lib/llvm-14/bin/llvm-lib ]] || die "/usr/lib/llvm-14/bin/llvm-lib missing"
}
ensure_wine() {
    apt_install wine64
    # Debian's wine64 (without the `wine` wrapper package) has no wineboot script: use `wine64 wineboot`.
    [[ -x $WINE && -x $WINESERVER ]] || die "wine64 installed but $WINE or $WINESERVER missing"
}

phase_deps() {
    ensure_rust
    want msvc && ensure_msvc_tools
    if want wine || want test; then ensure_wine; fi
    log "$("$DEB_RUSTC" -V), $("$DEB_CARGO" -V), std source $(rust_src_dir)"
}

# ---------------------------------------------------------------- cargo
# Debian cargo with build-std. Environment is pinned so nothing from rustup leaks in:
# RUSTC/RUSTDOC by full path, and cargo-clippy is called directly because `cargo clippy`
# would pick ~/.cargo/bin/cargo-clippy (rustup's) before /usr/bin.
debcargo() {
    (
        cd "$WORKSPACE_DIR"
        export RUSTC="$DEB_RUSTC" RUSTDOC="$DEB_RUSTDOC" RUSTC_BOOTSTRAP=1
        export CARGO="$DEB_CARGO" CARGO_TARGET_DIR="$WIN_TARGET_DIR"
        # Deliberately NOT set: CC_/AR_/linker for the gnu target. rustc and cc-rs already
        # default to x86_64-w64-mingw32-*, and e.g. CARGO_TARGET_..._LINKER adds `-C linker=`
        # to every unit (std included), so a developer running the plain cargo command by
        # hand would rebuild everything.
        unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER
        local sub=$1
        shift
        if [[ $sub == clippy ]]; then
            # cargo-clippy runs the clippy-driver next to itself (/usr/bin/clippy-driver).
            "$DEB_CARGO_CLIPPY" clippy "$@"
        else
            "$DEB_CARGO" "$sub" "$@"
        fi
    )
}

phase_lint() {
    debcargo check "${LOCKED[@]}" --workspace --all-targets "${BUILD_STD[@]}" --target "$GNU_TARGET"
    debcargo clippy "${LOCKED[@]}" --workspace --all-targets "${BUILD_STD[@]}" --target "$GNU_TARGET" -- -D warnings
}

phase_msvc() {
    CC_x86_64_pc_windows_msvc="$MINGW_GCC" \
        AR_x86_64_pc_windows_msvc=/usr/lib/llvm-14/bin/llvm-lib \
        debcargo check "${LOCKED[@]}" --workspace --all-targets "${BUILD_STD[@]}" --target "$MSVC_TARGET"
}

# ---------------------------------------------------------------- wine
wine_env() {
    export WINEPREFIX="$WIN_WINEPREFIX" WINEDEBUG=-all WINEARCH=win64
    # No Mono/Gecko download prompts, no GUI.
    export WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe="
    unset DISPLAY WAYLAND_DISPLAY
}

phase_wine() {
    wine_env
    mkdir -p "$WIN_TARGET_DIR" "$(dirname "$WINEPREFIX")"
    # Serialise prefix creation/stub install between concurrent runs sharing the prefix.
    exec 9>"$WINEPREFIX.lock"
    flock 9
    if [[ ! -f $WINEPREFIX/system.reg || ! -d $WINEPREFIX/drive_c/windows/system32 ]]; then
        log "creating wine prefix $WINEPREFIX"
        "$WINE" wineboot -i >/dev/null 2>&1 || true
        "$WINESERVER" -w
        [[ -d $WINEPREFIX/drive_c/windows/system32 ]] || die "wineboot -i did not create $WINEPREFIX"
    fi
    # ProcessPrng stub: rebuild when the source changes, (re)install when it differs.
    local out="$WIN_TARGET_DIR/wine-stub/bcryptprimitives.dll"
    local dst="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
    mkdir -p "${out%/*}"
    if [[ ! -f $out || $STUB_SRC_DIR/bcryptprimitives.c -nt $out || $STUB_SRC_DIR/bcryptprimitives.def -nt $out ]]; then
        log "building ProcessPrng stub DLL"
        "$MINGW_GCC" -shared -O2 -s -Wall -Werror -o "$out.tmp" \
            "$STUB_SRC_DIR/bcryptprimitives.c" "$STUB_SRC_DIR/bcryptprimitives.def" -ladvapi32
        mv -f "$out.tmp" "$out"
    fi
    if ! cmp -s "$out" "$dst"; then
        log "installing stub into $dst"
        cp -f "$out" "$dst"
    fi
    exec 9>&-
}

# The desktop app (Tauri) links WebView2Loader.dll dynamically on the gnu target: its exes,
# test exes included, only start with the DLL beside them. webview2-com-sys ships it; copy it.
copy_webview2_loader() {
    local dest=$1 dll
    dll=$(ls -t "$WIN_TARGET_DIR/$GNU_TARGET"/*/build/webview2-com-sys-*/out/x64/WebView2Loader.dll 2>/dev/null | head -n1 || true)
    [[ -n $dll && -d $dest ]] || return 0
    cmp -s "$dll" "$dest/WebView2Loader.dll" || cp -f "$dll" "$dest/WebView2Loader.dll"
}

phase_test() {
    wine_env
    # The Windows installer's pdfium (PyPI's pypdfium2 wheel), which tests/print_pdf_bundled.rs
    # prints a PDF with under wine.
    python3 "$WORKSPACE_DIR/scripts/pdfium.py" windows-x64
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$WINE"
    local rc=0
    debcargo test "${LOCKED[@]}" "${BUILD_STD[@]}" --target "$GNU_TARGET" --no-run "${TEST_ARGS[@]}" || rc=$?
    copy_webview2_loader "$WIN_TARGET_DIR/$GNU_TARGET/debug/deps"
    ((rc == 0)) && { debcargo test "${LOCKED[@]}" "${BUILD_STD[@]}" --target "$GNU_TARGET" "${TEST_ARGS[@]}" || rc=$?; }
    # wineserver would linger ~3 s after the last test exe; stop this prefix's server now so
    # CI steps end cleanly (only affects $WINEPREFIX).
    "$WINESERVER" -k 2>/dev/null || true
    return "$rc"
}

phase_build() {
    local dir=$WIN_PROFILE
    [[ $WIN_PROFILE == dev || $WIN_PROFILE == test ]] && dir=debug
    [[ $WIN_PROFILE == bench ]] && dir=release
    debcargo build "${LOCKED[@]}" "${BUILD_STD[@]}" --target "$GNU_TARGET" --profile "$WIN_PROFILE" --bin "$WIN_BIN"
    local exe="$WIN_TARGET_DIR/$GNU_TARGET/$dir/$WIN_BIN.exe"
    [[ -f $exe ]] || die "expected $exe after build"
    copy_webview2_loader "${exe%/*}"
    log "Windows exe: $exe"
    echo "$exe"
}

phase_smoke() {
    wine_env
    local exe
    exe=$(phase_build | tail -n1)
    local rc=0
    # The host toolchain builds the test; only the server under test is the Windows exe.
    (cd "$WORKSPACE_DIR" && PISPAS_SMOKE_EXE="$exe" PISPAS_SMOKE_CMD="$WINE" \
        cargo test "${LOCKED[@]}" -p pispas-modules --test smoke -- the_binary_serves interrupt) || rc=$?
    "$WINESERVER" -k 2>/dev/null || true
    return "$rc"
}

# ---------------------------------------------------------------- main
log "workspace $WORKSPACE_DIR; target dir $WIN_TARGET_DIR; phases: ${PHASES[*]}"
# deps always runs (every phase needs the toolchain); warm, it is a few dpkg queries.
want deps || PHASES=(deps "${PHASES[@]}")
for p in "${PHASES[@]}"; do
    run_phase "$p" "phase_$p"
done
log "all requested phases passed"
