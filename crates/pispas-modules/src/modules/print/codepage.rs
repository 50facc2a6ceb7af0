//! Code pages for printer text: UTF-8 in, the printer's single-byte encoding out, and the
//! `ESC t n` number that selects it.
//!
//! The tables are our own (generated from Python's codecs and checked against §6 of the device
//! notes) because the `escpos` crate's PC858 table is wrong (it maps ASCII `-` to 0xF0). Characters
//! a code page lacks are transliterated (`“` → `"`, `ő` → `o`) before falling back to `?`, so a
//! receipt never loses a whole line to one odd character. It does not know any printer.

use std::fmt;

/// A code page the encoder can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codepage {
    /// PC858: PC850 with `€` at 0xD5. The default, so Spanish receipts print `€` and `ñ`.
    Cp858,
    /// PC437 (USA, no `€`).
    Cp437,
    /// PC850 (Multilingual Latin 1, no `€`).
    Cp850,
    /// Windows-1252 (`€` at 0x80).
    Wpc1252,
}

impl Codepage {
    /// Parses a `codepage=` option (`cp858`, `858`, `pc858`, `wpc1252`, `1252`…).
    pub fn parse(s: &str) -> Option<Codepage> {
        let s = s.trim().to_ascii_lowercase();
        let digits = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        match digits {
            "858" => Some(Codepage::Cp858),
            "437" => Some(Codepage::Cp437),
            "850" => Some(Codepage::Cp850),
            "1252" => Some(Codepage::Wpc1252),
            _ => None,
        }
    }

    /// The `n` of `ESC t n` (Epson numbering, §6).
    pub fn escpos_table(self) -> u8 {
        match self {
            Codepage::Cp437 => 0,
            Codepage::Cp850 => 2,
            Codepage::Wpc1252 => 16,
            Codepage::Cp858 => 19,
        }
    }

    fn high(self) -> &'static [char; 128] {
        match self {
            Codepage::Cp858 => &CP858_HIGH,
            Codepage::Cp437 => &CP437_HIGH,
            Codepage::Cp850 => &CP850_HIGH,
            Codepage::Wpc1252 => &WPC1252_HIGH,
        }
    }

    /// The byte for one character, if this code page has it.
    pub fn byte_for(self, c: char) -> Option<u8> {
        if c.is_ascii() {
            return Some(c as u8);
        }
        self.high()
            .iter()
            .position(|&h| h == c && h != '\0')
            .map(|i| 0x80 + i as u8)
    }

    /// Encodes `text`; characters the page lacks are transliterated or become `?`. Control
    /// characters other than LF and TAB are dropped so text can never smuggle in a command.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        self.encode_into(text, &mut out);
        out
    }

    /// [`Codepage::encode`] appending to `out`.
    pub fn encode_into(self, text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            if c == '\n' || c == '\t' {
                out.push(c as u8);
            } else if c.is_control() {
                continue;
            } else if let Some(b) = self.byte_for(c) {
                out.push(b);
            } else {
                let fallback = transliterate(c);
                for f in fallback.chars() {
                    out.push(self.byte_for(f).unwrap_or(b'?'));
                }
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codepage::Cp858 => "CP858",
            Codepage::Cp437 => "CP437",
            Codepage::Cp850 => "CP850",
            Codepage::Wpc1252 => "WPC1252",
        }
    }
}

impl fmt::Display for Codepage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A close ASCII (or Latin-1) stand-in for characters that POS text often contains.
fn transliterate(c: char) -> &'static str {
    match c {
        '‘' | '’' | '‚' | '′' => "'",
        '“' | '”' | '„' | '″' => "\"",
        '–' | '—' | '−' | '‐' => "-",
        '…' => "...",
        '€' => "EUR",
        '•' | '·' => "*",
        '\u{00A0}' | '\u{2009}' | '\u{202F}' => " ",
        'ő' | 'ō' | 'ŏ' => "o",
        'Ő' | 'Ō' => "O",
        'ű' | 'ū' => "u",
        'Ű' | 'Ū' => "U",
        'ł' => "l",
        'Ł' => "L",
        'š' | 'ś' => "s",
        'Š' | 'Ś' => "S",
        'ž' | 'ź' | 'ż' => "z",
        'Ž' | 'Ź' | 'Ż' => "Z",
        'č' | 'ć' => "c",
        'Č' | 'Ć' => "C",
        'ř' => "r",
        'ě' | 'ę' => "e",
        'ą' => "a",
        'ń' | 'ň' => "n",
        'ñ' => "n",
        'Ñ' => "N",
        'ı' => "i",
        '™' => "TM",
        _ => "?",
    }
}

/// Bytes 0x80–0xFF of CP858, generated from Python's `cp858` codec; `\0` marks an unassigned byte.
const CP858_HIGH: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}',
    '\u{00EA}', '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}',
    '\u{00C9}', '\u{00E6}', '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}',
    '\u{00FF}', '\u{00D6}', '\u{00DC}', '\u{00F8}', '\u{00A3}', '\u{00D8}', '\u{00D7}', '\u{0192}',
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}',
    '\u{00BF}', '\u{00AE}', '\u{00AC}', '\u{00BD}', '\u{00BC}', '\u{00A1}', '\u{00AB}', '\u{00BB}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{00C1}', '\u{00C2}', '\u{00C0}',
    '\u{00A9}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{00A2}', '\u{00A5}', '\u{2510}',
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{00E3}', '\u{00C3}',
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{00A4}',
    '\u{00F0}', '\u{00D0}', '\u{00CA}', '\u{00CB}', '\u{00C8}', '\u{20AC}', '\u{00CD}', '\u{00CE}',
    '\u{00CF}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{00A6}', '\u{00CC}', '\u{2580}',
    '\u{00D3}', '\u{00DF}', '\u{00D4}', '\u{00D2}', '\u{00F5}', '\u{00D5}', '\u{00B5}', '\u{00FE}',
    '\u{00DE}', '\u{00DA}', '\u{00DB}', '\u{00D9}', '\u{00FD}', '\u{00DD}', '\u{00AF}', '\u{00B4}',
    '\u{00AD}', '\u{00B1}', '\u{2017}', '\u{00BE}', '\u{00B6}', '\u{00A7}', '\u{00F7}', '\u{00B8}',
    '\u{00B0}', '\u{00A8}', '\u{00B7}', '\u{00B9}', '\u{00B3}', '\u{00B2}', '\u{25A0}', '\u{00A0}',
];

/// Bytes 0x80–0xFF of CP437, generated from Python's `cp437` codec; `\0` marks an unassigned byte.
const CP437_HIGH: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}',
    '\u{00EA}', '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}',
    '\u{00C9}', '\u{00E6}', '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}',
    '\u{00FF}', '\u{00D6}', '\u{00DC}', '\u{00A2}', '\u{00A3}', '\u{00A5}', '\u{20A7}', '\u{0192}',
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}',
    '\u{00BF}', '\u{2310}', '\u{00AC}', '\u{00BD}', '\u{00BC}', '\u{00A1}', '\u{00AB}', '\u{00BB}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{2561}', '\u{2562}', '\u{2556}',
    '\u{2555}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{255C}', '\u{255B}', '\u{2510}',
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{255E}', '\u{255F}',
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{2567}',
    '\u{2568}', '\u{2564}', '\u{2565}', '\u{2559}', '\u{2558}', '\u{2552}', '\u{2553}', '\u{256B}',
    '\u{256A}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{258C}', '\u{2590}', '\u{2580}',
    '\u{03B1}', '\u{00DF}', '\u{0393}', '\u{03C0}', '\u{03A3}', '\u{03C3}', '\u{00B5}', '\u{03C4}',
    '\u{03A6}', '\u{0398}', '\u{03A9}', '\u{03B4}', '\u{221E}', '\u{03C6}', '\u{03B5}', '\u{2229}',
    '\u{2261}', '\u{00B1}', '\u{2265}', '\u{2264}', '\u{2320}', '\u{2321}', '\u{00F7}', '\u{2248}',
    '\u{00B0}', '\u{2219}', '\u{00B7}', '\u{221A}', '\u{207F}', '\u{00B2}', '\u{25A0}', '\u{00A0}',
];

/// Bytes 0x80–0xFF of CP850, generated from Python's `cp850` codec; `\0` marks an unassigned byte.
const CP850_HIGH: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}',
    '\u{00EA}', '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}',
    '\u{00C9}', '\u{00E6}', '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}',
    '\u{00FF}', '\u{00D6}', '\u{00DC}', '\u{00F8}', '\u{00A3}', '\u{00D8}', '\u{00D7}', '\u{0192}',
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}',
    '\u{00BF}', '\u{00AE}', '\u{00AC}', '\u{00BD}', '\u{00BC}', '\u{00A1}', '\u{00AB}', '\u{00BB}',
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{00C1}', '\u{00C2}', '\u{00C0}',
    '\u{00A9}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{00A2}', '\u{00A5}', '\u{2510}',
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{00E3}', '\u{00C3}',
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{00A4}',
    '\u{00F0}', '\u{00D0}', '\u{00CA}', '\u{00CB}', '\u{00C8}', '\u{0131}', '\u{00CD}', '\u{00CE}',
    '\u{00CF}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{00A6}', '\u{00CC}', '\u{2580}',
    '\u{00D3}', '\u{00DF}', '\u{00D4}', '\u{00D2}', '\u{00F5}', '\u{00D5}', '\u{00B5}', '\u{00FE}',
    '\u{00DE}', '\u{00DA}', '\u{00DB}', '\u{00D9}', '\u{00FD}', '\u{00DD}', '\u{00AF}', '\u{00B4}',
    '\u{00AD}', '\u{00B1}', '\u{2017}', '\u{00BE}', '\u{00B6}', '\u{00A7}', '\u{00F7}', '\u{00B8}',
    '\u{00B0}', '\u{00A8}', '\u{00B7}', '\u{00B9}', '\u{00B3}', '\u{00B2}', '\u{25A0}', '\u{00A0}',
];

/// Bytes 0x80–0xFF of WPC1252, generated from Python's `cp1252` codec; `\0` marks an unassigned byte.
const WPC1252_HIGH: [char; 128] = [
    '\u{20AC}', '\u{0000}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{0000}', '\u{017D}', '\u{0000}',
    '\u{0000}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{0000}', '\u{017E}', '\u{0178}',
    '\u{00A0}', '\u{00A1}', '\u{00A2}', '\u{00A3}', '\u{00A4}', '\u{00A5}', '\u{00A6}', '\u{00A7}',
    '\u{00A8}', '\u{00A9}', '\u{00AA}', '\u{00AB}', '\u{00AC}', '\u{00AD}', '\u{00AE}', '\u{00AF}',
    '\u{00B0}', '\u{00B1}', '\u{00B2}', '\u{00B3}', '\u{00B4}', '\u{00B5}', '\u{00B6}', '\u{00B7}',
    '\u{00B8}', '\u{00B9}', '\u{00BA}', '\u{00BB}', '\u{00BC}', '\u{00BD}', '\u{00BE}', '\u{00BF}',
    '\u{00C0}', '\u{00C1}', '\u{00C2}', '\u{00C3}', '\u{00C4}', '\u{00C5}', '\u{00C6}', '\u{00C7}',
    '\u{00C8}', '\u{00C9}', '\u{00CA}', '\u{00CB}', '\u{00CC}', '\u{00CD}', '\u{00CE}', '\u{00CF}',
    '\u{00D0}', '\u{00D1}', '\u{00D2}', '\u{00D3}', '\u{00D4}', '\u{00D5}', '\u{00D6}', '\u{00D7}',
    '\u{00D8}', '\u{00D9}', '\u{00DA}', '\u{00DB}', '\u{00DC}', '\u{00DD}', '\u{00DE}', '\u{00DF}',
    '\u{00E0}', '\u{00E1}', '\u{00E2}', '\u{00E3}', '\u{00E4}', '\u{00E5}', '\u{00E6}', '\u{00E7}',
    '\u{00E8}', '\u{00E9}', '\u{00EA}', '\u{00EB}', '\u{00EC}', '\u{00ED}', '\u{00EE}', '\u{00EF}',
    '\u{00F0}', '\u{00F1}', '\u{00F2}', '\u{00F3}', '\u{00F4}', '\u{00F5}', '\u{00F6}', '\u{00F7}',
    '\u{00F8}', '\u{00F9}', '\u{00FA}', '\u{00FB}', '\u{00FC}', '\u{00FD}', '\u{00FE}', '\u{00FF}',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_and_spanish_letters_follow_the_cp858_spec() {
        let bytes = Codepage::Cp858.encode("€ñÑáéíóúü¿¡ºªç");
        assert_eq!(
            bytes,
            [0xD5, 0xA4, 0xA5, 0xA0, 0x82, 0xA1, 0xA2, 0xA3, 0x81, 0xA8, 0xAD, 0xA7, 0xA6, 0x87]
        );
    }

    #[test]
    fn ascii_is_unchanged_including_the_hyphen_the_escpos_crate_breaks() {
        let text = "Total - 12.50 x2 (IVA 10%) #1";
        assert_eq!(Codepage::Cp858.encode(text), text.as_bytes());
    }

    #[test]
    fn each_page_selects_its_epson_table_number() {
        assert_eq!(Codepage::Cp858.escpos_table(), 19);
        assert_eq!(Codepage::Wpc1252.escpos_table(), 16);
        assert_eq!(Codepage::Cp850.escpos_table(), 2);
        assert_eq!(Codepage::Cp437.escpos_table(), 0);
        assert_eq!(Codepage::Wpc1252.encode("€"), [0x80]);
    }

    #[test]
    fn pc850_has_no_euro_so_it_is_spelt_out() {
        assert_eq!(Codepage::Cp850.encode("5€"), b"5EUR");
        assert_eq!(Codepage::Cp850.byte_for('ı'), Some(0xD5));
    }

    #[test]
    fn missing_characters_are_transliterated_and_controls_dropped() {
        assert_eq!(Codepage::Cp858.encode("“Hi” – ok…"), b"\"Hi\" - ok...");
        assert_eq!(Codepage::Cp858.encode("a\x1b@b\x10\x04\x01c"), b"a@bc");
        assert_eq!(Codepage::Cp437.encode("漢"), b"?");
    }

    #[test]
    fn option_spellings_parse() {
        for s in ["cp858", "CP858", "858", "pc858"] {
            assert_eq!(Codepage::parse(s), Some(Codepage::Cp858), "{s}");
        }
        assert_eq!(Codepage::parse("wpc1252"), Some(Codepage::Wpc1252));
        assert_eq!(Codepage::parse("utf8"), None);
    }
}
