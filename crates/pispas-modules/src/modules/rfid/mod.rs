//! RFID: tag readers. `codec/` holds the pure frame codecs and de-duplication; the driver and
//! the service come on top of them.

pub mod codec;
