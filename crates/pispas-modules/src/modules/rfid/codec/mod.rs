//! RFID at the POS: EM4100 serial reader frames, tag de-duplication and the pure half of PC/SC.
//!
//! Serial 125 kHz modules (RDM6300, ID-12/ID-20) repeat their frame while a tag stays in the
//! field; `em4100` decodes and checks those frames and `Dedup` turns the repeats into one event
//! per presentation. `pcsc_apdu` builds and parses the Get UID exchange for PC/SC readers. No
//! I/O here: no serial port, no PC/SC context, no clock reads (callers pass `Instant`s).

#![forbid(unsafe_code)]

mod dedup;
pub mod em4100;
pub mod pcsc_apdu;

pub use dedup::Dedup;
pub use em4100::{RfidDecode, Tag};
pub use pcsc_apdu::{parse_uid_response, ApduError, GET_UID_APDU};
