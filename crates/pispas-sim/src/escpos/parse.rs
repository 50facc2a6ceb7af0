//! Splits an ESC/POS byte stream into commands, using each command's documented length so
//! that parameter and data bytes are never mistaken for commands (a `DLE EOT` inside raster
//! data is data, as the spec requires hosts to avoid it there). Pure: bytes in, commands out;
//! no printer state. ESC and FS commands live here, GS commands in `parse_gs`.

use super::command::{Command, Parsed};
use super::parse_gs::parse_gs;

pub(super) const ESC: u8 = 0x1B;
pub(super) const GS: u8 = 0x1D;
pub(super) const FS: u8 = 0x1C;
pub(super) const DLE: u8 = 0x10;

/// Parses the command at the front of `buf`.
pub fn parse_command(buf: &[u8]) -> Parsed {
    let Some(&first) = buf.first() else {
        return Parsed::Incomplete;
    };
    match first {
        0x0A => done(Command::Lf, 1),
        0x0D => done(Command::Cr, 1),
        0x09 => done(Command::Ht, 1),
        DLE => parse_dle(buf),
        ESC => parse_esc(buf),
        FS => parse_fs(buf),
        GS => parse_gs(buf),
        b if b < 0x20 => done(Command::Unknown(vec![b]), 1),
        _ => {
            let len = buf.iter().take_while(|b| **b >= 0x20).count();
            done(Command::Text(buf[..len].to_vec()), len)
        }
    }
}

pub(super) fn done(command: Command, len: usize) -> Parsed {
    Parsed::Complete(command, len)
}

/// A fixed-length command of `len` bytes, built from its bytes once they are all there.
pub(super) fn fixed(buf: &[u8], len: usize, make: impl FnOnce(&[u8]) -> Command) -> Parsed {
    match buf.get(..len) {
        Some(bytes) => done(make(bytes), len),
        None => Parsed::Incomplete,
    }
}

pub(super) fn unknown(buf: &[u8], len: usize) -> Parsed {
    fixed(buf, len, |b| Command::Unknown(b.to_vec()))
}

pub(super) fn setting(buf: &[u8], len: usize, name: &'static str) -> Parsed {
    fixed(buf, len, |b| Command::Setting {
        name,
        bytes: b.to_vec(),
    })
}

pub(super) fn malformed(buf: &[u8], len: usize, reason: &str) -> Parsed {
    let len = len.min(buf.len());
    done(
        Command::Malformed {
            bytes: buf[..len].to_vec(),
            reason: reason.to_string(),
        },
        len,
    )
}

/// `head` bytes, then a little-endian u16 length at `head-2..head`, then that many bytes.
pub(super) fn with_length(buf: &[u8], head: usize) -> Option<(usize, usize)> {
    let header = buf.get(..head)?;
    let n = usize::from(header[head - 2]) | usize::from(header[head - 1]) << 8;
    (buf.len() >= head + n).then_some((n, head + n))
}

fn parse_dle(buf: &[u8]) -> Parsed {
    let Some(&second) = buf.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        0x04 => fixed(buf, 3, |b| Command::StatusRequest(b[2])),
        0x05 => unknown(buf, 3),
        0x14 => match buf.get(2) {
            None => Parsed::Incomplete,
            Some(1) => fixed(buf, 5, |b| Command::RealtimePulse { m: b[3], t: b[4] }),
            Some(2) => unknown(buf, 5),
            Some(7) => unknown(buf, 4),
            Some(8) => unknown(buf, 10),
            Some(_) => unknown(buf, 3),
        },
        _ => done(Command::Unknown(vec![DLE]), 1),
    }
}

fn parse_esc(buf: &[u8]) -> Parsed {
    let Some(&second) = buf.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        b'@' => done(Command::Init, 2),
        b'!' => fixed(buf, 3, |b| Command::Mode(b[2])),
        b'E' => fixed(buf, 3, |b| Command::Bold(b[2])),
        b'-' => fixed(buf, 3, |b| Command::Underline(b[2])),
        b'G' => fixed(buf, 3, |b| Command::DoubleStrike(b[2])),
        b'M' => fixed(buf, 3, |b| Command::Font(b[2])),
        b'{' => fixed(buf, 3, |b| Command::UpsideDown(b[2])),
        b'a' => fixed(buf, 3, |b| Command::Align(b[2])),
        b't' => fixed(buf, 3, |b| Command::CodePage(b[2])),
        b'R' => fixed(buf, 3, |b| Command::InternationalSet(b[2])),
        b'd' => fixed(buf, 3, |b| Command::FeedLines(b[2])),
        b'J' => fixed(buf, 3, |b| Command::FeedUnits(b[2])),
        b'p' => fixed(buf, 5, |b| Command::DrawerKick {
            m: b[2],
            t1: b[3],
            t2: b[4],
        }),
        b'i' | b'm' => fixed(buf, 2, |b| Command::Cut {
            m: b[1],
            n: None,
            bytes: b.to_vec(),
        }),
        b'*' => parse_bit_image(buf),
        b'&' => parse_user_chars(buf),
        b'D' => match buf.iter().skip(2).position(|b| *b == 0) {
            Some(i) => setting(buf, i + 3, "ESC D"),
            None if buf.len() > 2 + 32 => malformed(buf, 2, "ESC D without a NUL after 32 tabs"),
            None => Parsed::Incomplete,
        },
        b'(' => match with_length(buf, 5) {
            Some((_, total)) => unknown(buf, total),
            None => Parsed::Incomplete,
        },
        b' ' => setting(buf, 3, "ESC SP"),
        b'2' => setting(buf, 2, "ESC 2"),
        b'3' => setting(buf, 3, "ESC 3"),
        b'$' => setting(buf, 4, "ESC $"),
        b'\\' => setting(buf, 4, "ESC \\"),
        b'W' => setting(buf, 10, "ESC W"),
        b'c' => setting(buf, 4, "ESC c"),
        b'%' | b'=' | b'?' | b'K' | b'T' | b'U' | b'V' | b'e' | b'r' | b'u' => unknown(buf, 3),
        b'<' | b'L' | b'S' | b'v' | 0x0C => unknown(buf, 2),
        _ => unknown(buf, 2),
    }
}

/// `ESC * m nL nH d1…dk`: k = n for 8-dot modes (m 0, 1), 3n for 24-dot modes (m 32, 33).
fn parse_bit_image(buf: &[u8]) -> Parsed {
    let Some(header) = buf.get(..5) else {
        return Parsed::Incomplete;
    };
    let m = header[2];
    let columns = usize::from(header[3]) | usize::from(header[4]) << 8;
    let per_column = match m {
        0 | 1 => 1,
        32 | 33 => 3,
        _ => return malformed(buf, 5, "ESC * with a mode other than 0, 1, 32, 33"),
    };
    let total = 5 + columns * per_column;
    match buf.get(5..total) {
        Some(data) => done(
            Command::BitImage {
                m,
                columns,
                data: data.to_vec(),
            },
            total,
        ),
        None => Parsed::Incomplete,
    }
}

/// `ESC & y c1 c2 [x d1…d(y×x)]…` (one block per character c1..=c2).
fn parse_user_chars(buf: &[u8]) -> Parsed {
    let Some(header) = buf.get(..5) else {
        return Parsed::Incomplete;
    };
    let (y, c1, c2) = (usize::from(header[2]), header[3], header[4]);
    if c2 < c1 {
        return malformed(buf, 5, "ESC & with c2 < c1");
    }
    let mut at = 5;
    for _ in c1..=c2 {
        let Some(&x) = buf.get(at) else {
            return Parsed::Incomplete;
        };
        at += 1 + y * usize::from(x);
    }
    if buf.len() < at {
        return Parsed::Incomplete;
    }
    unknown(buf, at)
}

fn parse_fs(buf: &[u8]) -> Parsed {
    let Some(&second) = buf.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        b'p' | b'S' | b'?' => unknown(buf, 4),
        b'!' | b'-' | b'C' | b'W' => unknown(buf, 3),
        b'&' | b'.' => unknown(buf, 2),
        b'2' => unknown(buf, 76),
        b'(' => match with_length(buf, 5) {
            Some((_, total)) => unknown(buf, total),
            None => Parsed::Incomplete,
        },
        b'g' => match buf.get(2) {
            None => Parsed::Incomplete,
            Some(b'1') => match with_length(buf, 10) {
                Some((_, total)) => unknown(buf, total),
                None => Parsed::Incomplete,
            },
            Some(b'2') => unknown(buf, 10),
            Some(_) => unknown(buf, 3),
        },
        b'q' => parse_nv_images(buf),
        _ => unknown(buf, 2),
    }
}

/// `FS q n [xL xH yL yH d1…dk]1…n`, k = x × y × 8.
fn parse_nv_images(buf: &[u8]) -> Parsed {
    let Some(&n) = buf.get(2) else {
        return Parsed::Incomplete;
    };
    let mut at = 3;
    for _ in 0..n {
        let Some(h) = buf.get(at..at + 4) else {
            return Parsed::Incomplete;
        };
        let x = usize::from(h[0]) | usize::from(h[1]) << 8;
        let y = usize::from(h[2]) | usize::from(h[3]) << 8;
        at += 4 + x * y * 8;
    }
    if buf.len() < at {
        return Parsed::Incomplete;
    }
    unknown(buf, at)
}
