//! A module's named devices (`SCALE`, `SCALE_BACK`, `RFID_DOOR`…) and what every device module
//! answers the same way: picking one by name ("named device, else DEFAULT, else the only one"),
//! STATUS of one or all, SUBSCRIBE/UNSUBSCRIBE to a device's topic, and health from the links.
//!
//! It knows nothing of any protocol; a device type only says its name, topic, link and status.

use crate::protocol::{ErrorCode, Failure};
use crate::router::{Health, HealthState, RequestContext};
use crate::transport::link::LinkState;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The name of the device configured by the bare key (`SCALE=…`, `RFID=…`).
pub const DEFAULT_NAME: &str = "DEFAULT";

/// What [`Devices`] needs of a device.
pub trait NamedDevice {
    /// The name the POS uses (upper case).
    fn name(&self) -> &str;
    /// The event topic SUBSCRIBE joins (`SCALE:DEFAULT`).
    fn topic(&self) -> &str;
    fn link(&self) -> &LinkState;
    /// The device's STATUS reply.
    fn status_json(&self) -> Value;
}

/// How a module speaks of its devices in replies.
#[derive(Debug, Clone, Copy)]
pub struct DeviceWords {
    /// The request parameter naming a device, and the reply field echoing it (`SCALE`, `READER`).
    pub param: &'static str,
    /// The device in a sentence (`scale`, `reader`).
    pub noun: &'static str,
    /// What to say when none is configured, with the key to set.
    pub none_configured: &'static str,
}

/// The configured devices of one module, by name.
#[derive(Debug)]
pub struct Devices<T> {
    words: DeviceWords,
    map: BTreeMap<String, T>,
}

impl<T: NamedDevice> Devices<T> {
    pub fn new(words: DeviceWords, devices: impl IntoIterator<Item = T>) -> Self {
        let map = devices
            .into_iter()
            .map(|d| (d.name().to_string(), d))
            .collect();
        Devices { words, map }
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.map.values()
    }

    /// The device named `wanted` (upper-cased by the caller), or the DEFAULT one, or the only one.
    ///
    /// Fails with DEVICE_NOT_FOUND naming the configured devices.
    pub fn pick(&self, wanted: Option<&str>) -> Result<&T, Failure> {
        let found = match wanted {
            Some(name) => self.map.get(name),
            None => self.map.get(DEFAULT_NAME).or_else(|| {
                (self.map.len() == 1)
                    .then(|| self.map.values().next())
                    .flatten()
            }),
        };
        found.ok_or_else(|| {
            let names: Vec<&str> = self.map.keys().map(String::as_str).collect();
            let message = if names.is_empty() {
                self.words.none_configured.to_string()
            } else {
                format!(
                    "no {} named {:?} (configured: {})",
                    self.words.noun,
                    wanted.unwrap_or_default(),
                    names.join(", ")
                )
            };
            Failure::new(ErrorCode::DeviceNotFound, message)
        })
    }

    /// STATUS: of the named device, or of every device (an array) when none is named.
    ///
    /// Fails as [`Devices::pick`] does.
    pub fn status(&self, wanted: Option<&str>) -> Result<Value, Failure> {
        match wanted {
            None => Ok(Value::Array(self.iter().map(T::status_json).collect())),
            Some(_) => Ok(self.pick(wanted)?.status_json()),
        }
    }

    /// SUBSCRIBE: the connection gets the device's events under this request's UUIDV4.
    ///
    /// Fails as [`Devices::pick`] does.
    pub fn subscribe(
        &self,
        wanted: Option<&str>,
        ctx: &RequestContext,
        uuid: &str,
    ) -> Result<Value, Failure> {
        let device = self.pick(wanted)?;
        ctx.subscribe(device.topic(), uuid);
        Ok(json!({ self.words.param: device.name(), "TOPIC": device.topic() }))
    }

    /// UNSUBSCRIBE: `{WAS_SUBSCRIBED}`.
    ///
    /// Fails as [`Devices::pick`] does.
    pub fn unsubscribe(
        &self,
        wanted: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Value, Failure> {
        let device = self.pick(wanted)?;
        Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(device.topic()) }))
    }

    /// Ok when every device's link is up (or none is configured), degraded naming the others.
    pub fn health(&self) -> Health {
        let down: Vec<String> = self
            .iter()
            .filter(|d| !d.link().is_connected())
            .map(|d| {
                format!(
                    "{}: {}",
                    d.name(),
                    d.link().error().unwrap_or_else(|| "connecting".into())
                )
            })
            .collect();
        match (self.is_empty(), down.is_empty()) {
            (true, _) => Health {
                state: HealthState::Ok,
                detail: format!("no {} configured", self.words.noun),
            },
            (false, true) => Health::ok(),
            (false, false) => Health {
                state: HealthState::Degraded,
                detail: down.join("; "),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fake {
        name: String,
        topic: String,
        link: LinkState,
    }

    impl NamedDevice for Fake {
        fn name(&self) -> &str {
            &self.name
        }
        fn topic(&self) -> &str {
            &self.topic
        }
        fn link(&self) -> &LinkState {
            &self.link
        }
        fn status_json(&self) -> Value {
            json!({ "NAME": self.name })
        }
    }

    const WORDS: DeviceWords = DeviceWords {
        param: "SCALE",
        noun: "scale",
        none_configured: "no scale is configured: set SCALE=…",
    };

    fn devices(names: &[&str]) -> Devices<Fake> {
        Devices::new(
            WORDS,
            names.iter().map(|n| Fake {
                name: n.to_string(),
                topic: format!("SCALE:{n}"),
                link: LinkState::default(),
            }),
        )
    }

    #[test]
    fn the_only_device_is_picked_when_none_is_named() {
        assert_eq!(devices(&["BACK"]).pick(None).unwrap().name, "BACK");
    }

    #[test]
    fn default_is_picked_among_several_and_others_by_name() {
        let d = devices(&["BACK", "DEFAULT"]);
        assert_eq!(d.pick(None).unwrap().name, "DEFAULT");
        assert_eq!(d.pick(Some("BACK")).unwrap().name, "BACK");
    }

    #[test]
    fn an_unknown_name_lists_the_configured_ones() {
        let f = devices(&["BACK", "FRONT"]).pick(Some("SIDE")).unwrap_err();
        assert_eq!(f.code, ErrorCode::DeviceNotFound);
        assert_eq!(
            f.message,
            "no scale named \"SIDE\" (configured: BACK, FRONT)"
        );
        let f = devices(&["BACK", "FRONT"]).pick(None).unwrap_err();
        assert!(f.message.contains("configured: BACK, FRONT"));
    }

    #[test]
    fn with_nothing_configured_the_message_says_what_to_set() {
        let f = devices(&[]).pick(None).unwrap_err();
        assert_eq!(f.message, WORDS.none_configured);
        assert_eq!(devices(&[]).health().detail, "no scale configured");
    }

    #[test]
    fn status_without_a_name_lists_every_device() {
        let s = devices(&["A", "B"]).status(None).unwrap();
        assert_eq!(s, json!([{ "NAME": "A" }, { "NAME": "B" }]));
    }

    #[test]
    fn a_device_whose_link_is_down_degrades_the_module() {
        let h = devices(&["A"]).health();
        assert_eq!(h.state, HealthState::Degraded);
        assert_eq!(h.detail, "A: connecting");
    }
}
