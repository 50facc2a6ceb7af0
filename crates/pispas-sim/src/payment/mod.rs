//! What the payment terminal simulators (Paytef, myPOS) share: the test cards they "read", the
//! masking rule that keeps full card numbers off the wire, and the reference numbers and
//! timestamps a host hands back. No protocol lives here.

pub mod card;
pub mod clock;
pub mod numbers;

pub use card::{EntryMode, TestCard, TEST_CARDS, TEST_PANS};
pub use clock::Timestamp;
pub use numbers::Numbers;
