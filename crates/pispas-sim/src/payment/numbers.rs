//! The numbers a host hands out per authorisation (STAN, RRN, authorisation code, operation
//! number). Deterministic counters, so a test can tell two transactions apart and a human can
//! read them; not meant to look random.

/// The next numbers; one `issue()` per authorisation.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    count: u64,
}

/// One authorisation's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// System trace audit number, 6 digits.
    pub stan: String,
    /// Retrieval reference number, 12 digits.
    pub rrn: String,
    /// Authorisation code, 6 characters.
    pub auth_code: String,
    /// The acquirer's operation number (Paytef `paytefOperationNumber`).
    pub operation: String,
}

impl Numbers {
    pub fn issue(&mut self) -> Issued {
        self.count += 1;
        let n = self.count;
        Issued {
            stan: format!("{:06}", n % 1_000_000),
            rrn: format!("{:012}", 400_000_000_000 + n),
            auth_code: format!("A{:05}", n % 100_000),
            operation: format!("{:010}", 7_000_000 + n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Numbers;

    #[test]
    fn each_authorisation_gets_new_numbers_of_the_right_width() {
        let mut numbers = Numbers::default();
        let (a, b) = (numbers.issue(), numbers.issue());
        assert_ne!(a, b);
        assert_eq!((a.stan.len(), a.rrn.len(), a.auth_code.len()), (6, 12, 6));
        assert_eq!(a.stan, "000001");
    }
}
