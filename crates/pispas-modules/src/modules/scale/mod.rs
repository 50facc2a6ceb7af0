//! SCALE: retail serial scales. `codec/` holds the pure protocol codecs; the driver and the
//! service come on top of them.

pub mod codec;
