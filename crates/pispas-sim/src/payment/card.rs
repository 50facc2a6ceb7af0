//! The test cards a simulated terminal reads, and how it masks them. The full PANs are public
//! EMV test numbers, kept in one list so leak tests can grep engine logs for them: no reply of
//! any simulator ever contains one (only the masked forms below).

/// How the card was read, as printed on receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// Chip inserted, PIN on the pinpad.
    Chip,
    /// Tapped (no PIN under the contactless limit).
    Contactless,
}

impl EntryMode {
    /// Paytef's `dataEntryLetter` on receipts (C chip, L contactless; INFERRED letters).
    pub fn paytef_letter(self) -> &'static str {
        match self {
            EntryMode::Chip => "C",
            EntryMode::Contactless => "L",
        }
    }

    /// myPOS `ENTRY_MODE` (INFERRED values: CHIP, CONTACTLESS).
    pub fn mypos_name(self) -> &'static str {
        match self {
            EntryMode::Chip => "CHIP",
            EntryMode::Contactless => "CONTACTLESS",
        }
    }

    /// Whether the terminal asks for a PIN (chip yes, contactless no).
    pub fn needs_pin(self) -> bool {
        self == EntryMode::Chip
    }
}

/// A card the simulated customer presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    /// Short name for commands (`card visa`).
    pub name: &'static str,
    /// The full PAN. Never sent by a simulator; see [`TEST_PANS`].
    pub pan: &'static str,
    pub brand: &'static str,
    /// EMV application id.
    pub aid: &'static str,
    /// EMV application label.
    pub aid_name: &'static str,
    pub entry: EntryMode,
    pub issuer: &'static str,
}

/// Every card a simulator can use. The first is the default.
pub const TEST_CARDS: &[TestCard] = &[
    TestCard {
        name: "visa",
        pan: "4761739001010010",
        brand: "VISA",
        aid: "A0000000031010",
        aid_name: "VISA CREDITO",
        entry: EntryMode::Chip,
        issuer: "BANCO DE PRUEBAS ES",
    },
    TestCard {
        name: "mastercard",
        pan: "5413330089010608",
        brand: "MASTERCARD",
        aid: "A0000000041010",
        aid_name: "MASTERCARD",
        entry: EntryMode::Contactless,
        issuer: "BANCO DE PRUEBAS ES",
    },
];

/// The full test PANs, for tests that assert none of them appears in a log or a reply.
pub const TEST_PANS: &[&str] = &["4761739001010010", "5413330089010608"];

impl Default for TestCard {
    fn default() -> Self {
        TEST_CARDS[0]
    }
}

impl TestCard {
    /// The card called `name` (`visa`, `mastercard`), if any.
    pub fn by_name(name: &str) -> Option<TestCard> {
        TEST_CARDS
            .iter()
            .copied()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// All digits but the last four hidden: `************0010` (Paytef `hiddenCardNumber`).
    pub fn last_four_masked(&self) -> String {
        let keep = self.pan.len().saturating_sub(4);
        format!("{}{}", "*".repeat(keep), &self.pan[keep..])
    }

    /// First six and last four shown: `476173******0010` (myPOS `PAN_MASKED`).
    pub fn bin_masked(&self) -> String {
        let len = self.pan.len();
        if len <= 10 {
            return self.last_four_masked();
        }
        format!(
            "{}{}{}",
            &self.pan[..6],
            "*".repeat(len - 10),
            &self.pan[len - 4..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pan_list_and_the_cards_agree() {
        let pans: Vec<&str> = TEST_CARDS.iter().map(|c| c.pan).collect();
        assert_eq!(pans, TEST_PANS);
    }

    #[test]
    fn masked_forms_never_contain_the_full_pan() {
        for card in TEST_CARDS {
            assert!(!card.last_four_masked().contains(card.pan));
            assert!(!card.bin_masked().contains(card.pan));
            assert_eq!(card.last_four_masked().len(), card.pan.len());
        }
        assert_eq!(TEST_CARDS[0].bin_masked(), "476173******0010");
        assert_eq!(TEST_CARDS[0].last_four_masked(), "************0010");
    }
}
