//! The router: TARGET → module, and the [`Service`] trait every module implements.
//!
//! The router turns an unknown TARGET into a FAILURE; each module answers its own unknown
//! ACTIONs (it knows its list). It does not touch sockets: the server hands it parsed requests
//! and a [`RequestContext`] describing the connection.
//!
//! A [`RouterBuilder`] hands out a [`Directory`] before the router exists, so BASE (which the
//! router owns) can list every module without a reference cycle. The [`actions!`] macro gives each
//! module its list of action names from one declaration.

use crate::events::{Audience, Event, EventBus, Severity};
use crate::protocol::{encode_event, ErrorCode, Failure, Request};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A boxed future, so [`Service`] stays object-safe.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What an action returns: `MESSAGE_DATA` of a SUCCESS, or a FAILURE.
pub type Outcome = Result<Value, Failure>;

/// How a module is doing, for CHECK, the status window and the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthState {
    /// Working, and every configured device reachable.
    Ok,
    /// Working, but something needs attention (a device offline, paper low).
    Degraded,
    /// Not usable.
    Down,
    /// Enabled in MODULES but not part of this build. Sent as `DOWN` (what clients have always
    /// seen); it only needs attention, not alarm.
    #[serde(rename = "DOWN")]
    Absent,
}

impl HealthState {
    /// How serious it is for the tray and the status window.
    pub fn severity(self) -> Severity {
        match self {
            HealthState::Ok => Severity::Ok,
            HealthState::Degraded | HealthState::Absent => Severity::Attention,
            HealthState::Down => Severity::Problem,
        }
    }
}

/// A module's health with a sentence a cashier can read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    #[serde(rename = "STATE")]
    pub state: HealthState,
    #[serde(rename = "DETAIL")]
    pub detail: String,
}

impl Health {
    pub fn ok() -> Self {
        Health {
            state: HealthState::Ok,
            detail: String::from("ok"),
        }
    }
}

/// One TARGET. Implementations are cheap handles (an `Arc` inside) so `call` can move a clone
/// into the returned future.
pub trait Service: Send + Sync + 'static {
    /// The TARGET this module answers (`BASE`, `PRINT`…).
    fn target(&self) -> &'static str;
    /// Its actions, normalised (upper case, no underscores), for CHECK and UNKNOWN_ACTION replies.
    fn actions(&self) -> &'static [&'static str];
    /// Handles one request. Work that must outlive the connection (a print job) is spawned by
    /// the module itself; the returned future may be dropped if the client disconnects.
    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome>;
    /// Current health; the default is "ok".
    fn health(&self) -> Health {
        Health::ok()
    }
}

/// What a module may know about the connection a request came on.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub connection_id: u64,
    pub peer: SocketAddr,
    pub origin: Option<String>,
    pub tls: bool,
    /// The connection presented the admin token.
    pub admin: bool,
    /// The paired kitchen display this connection is (the kitchen LAN listener), by name.
    pub display: Option<String>,
    pub events: EventBus,
    subscriptions: Subscriptions,
}

impl RequestContext {
    pub fn new(
        connection_id: u64,
        peer: SocketAddr,
        origin: Option<String>,
        tls: bool,
        admin: bool,
        events: EventBus,
        subscriptions: Subscriptions,
    ) -> Self {
        RequestContext {
            connection_id,
            peer,
            origin,
            tls,
            admin,
            display: None,
            events,
            subscriptions,
        }
    }

    /// The same connection, known as the paired kitchen display `name`.
    pub fn as_display(mut self, name: String) -> Self {
        self.display = Some(name);
        self
    }

    /// Subscribes this connection to `topic`; events on it will carry `uuid` as MESSAGE_UUID.
    pub fn subscribe(&self, topic: &str, uuid: &str) {
        self.subscriptions.insert(topic, uuid);
    }

    /// Ends a subscription; returns whether there was one.
    pub fn unsubscribe(&self, topic: &str) -> bool {
        self.subscriptions.remove(topic)
    }

    /// The UUIDV4 this connection subscribed to `topic` with, if it did.
    pub fn subscription_uuid(&self, topic: &str) -> Option<String> {
        self.subscriptions.uuid_for(topic)
    }

    /// The envelope to send for `ev` if this connection is in its audience (a topic event
    /// carries the UUIDV4 this connection subscribed with). The local server and the remote
    /// gateway both deliver events through this.
    pub fn event_text(&self, ev: &Event) -> Option<String> {
        match &ev.audience {
            Audience::All => Some(encode_event(&ev.service, &ev.uuid, &ev.data)),
            Audience::Connection(id) if *id == self.connection_id => {
                Some(encode_event(&ev.service, &ev.uuid, &ev.data))
            }
            Audience::Topic(topic) => self
                .subscription_uuid(topic)
                .map(|uuid| encode_event(&ev.service, &Value::String(uuid), &ev.data)),
            Audience::Connection(_) | Audience::Internal => None,
        }
    }

    /// Sends an event to this connection only.
    pub fn notify(&self, service: &str, uuid: &str, data: Value) {
        self.events.publish(Event {
            service: service.to_string(),
            uuid: Value::String(uuid.to_string()),
            audience: Audience::Connection(self.connection_id),
            data,
        });
    }

    /// Fails with UNAUTHORIZED unless the connection presented the admin token.
    pub fn require_admin(&self) -> Result<(), Failure> {
        if self.admin {
            Ok(())
        } else {
            Err(Failure::new(
                ErrorCode::Unauthorized,
                "this action needs the admin token (connect with ?token=<ADMIN_TOKEN>)",
            ))
        }
    }
}

/// A connection's topic subscriptions: topic → UUIDV4 of the request that subscribed. Counted on
/// the bus (so devices know whether anyone watches) and uncounted when the connection ends.
#[derive(Clone, Debug)]
pub struct Subscriptions {
    inner: Arc<SubscriptionSet>,
}

#[derive(Debug)]
struct SubscriptionSet {
    topics: Mutex<HashMap<String, String>>,
    bus: EventBus,
}

impl Drop for SubscriptionSet {
    fn drop(&mut self) {
        if let Ok(topics) = self.topics.lock() {
            for topic in topics.keys() {
                self.bus.adjust_watchers(topic, -1);
            }
        }
    }
}

impl Subscriptions {
    pub fn new(bus: EventBus) -> Self {
        Subscriptions {
            inner: Arc::new(SubscriptionSet {
                topics: Mutex::default(),
                bus,
            }),
        }
    }

    fn insert(&self, topic: &str, uuid: &str) {
        let fresh = match self.inner.topics.lock() {
            Ok(mut map) => map.insert(topic.to_string(), uuid.to_string()).is_none(),
            Err(_) => false,
        };
        if fresh {
            self.inner.bus.adjust_watchers(topic, 1);
        }
    }

    fn remove(&self, topic: &str) -> bool {
        let removed = self
            .inner
            .topics
            .lock()
            .map(|mut m| m.remove(topic).is_some())
            .unwrap_or(false);
        if removed {
            self.inner.bus.adjust_watchers(topic, -1);
        }
        removed
    }

    fn uuid_for(&self, topic: &str) -> Option<String> {
        self.inner
            .topics
            .lock()
            .ok()
            .and_then(|m| m.get(topic).cloned())
    }
}

type ServiceMap = BTreeMap<&'static str, Arc<dyn Service>>;

/// TARGET → module.
#[derive(Clone, Default)]
pub struct Router {
    services: Arc<ServiceMap>,
}

/// Collects the modules; [`RouterBuilder::directory`] may be handed out before [`build`].
///
/// [`build`]: RouterBuilder::build
#[derive(Default)]
pub struct RouterBuilder {
    services: Vec<Arc<dyn Service>>,
    directory: Directory,
}

impl RouterBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The directory the built router will fill (empty until then).
    pub fn directory(&self) -> Directory {
        self.directory.clone()
    }

    pub fn add(&mut self, service: Arc<dyn Service>) {
        self.services.push(service);
    }

    /// The router; its directory now lists the modules.
    pub fn build(self) -> Router {
        let map: ServiceMap = self.services.into_iter().map(|s| (s.target(), s)).collect();
        let router = Router {
            services: Arc::new(map),
        };
        let _ = self.directory.inner.set(Arc::downgrade(&router.services));
        router
    }
}

/// A read-only, non-owning view of the registered modules: their TARGETs, actions and health.
#[derive(Clone, Default)]
pub struct Directory {
    inner: Arc<OnceLock<Weak<ServiceMap>>>,
}

/// One module as the directory shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleInfo {
    pub target: &'static str,
    pub actions: &'static [&'static str],
    pub health: Health,
}

impl ModuleInfo {
    /// `{TARGET, STATE, LEVEL, DETAIL, ACTIONS}` as CHECK and STATUS list it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "TARGET": self.target,
            "STATE": self.health.state,
            "LEVEL": self.health.state.severity().as_str(),
            "DETAIL": self.health.detail,
            "ACTIONS": self.actions,
        })
    }
}

impl Directory {
    /// Every module with its health, in TARGET order; empty before the router is built or
    /// after it is gone.
    pub fn modules(&self) -> Vec<ModuleInfo> {
        let Some(map) = self.inner.get().and_then(Weak::upgrade) else {
            return Vec::new();
        };
        map.values()
            .map(|s| ModuleInfo {
                target: s.target(),
                actions: s.actions(),
                health: s.health(),
            })
            .collect()
    }

    /// [`Directory::modules`] as a JSON array.
    pub fn to_json(&self) -> Value {
        Value::Array(self.modules().iter().map(ModuleInfo::to_json).collect())
    }

    /// Hands `request` to the module of its TARGET, as a client of the router would: how one
    /// module reaches another (ORDER_KITCHEN's chits go to PRINT) without importing it.
    ///
    /// `None` before the router is built, after it is gone, or when no module answers the
    /// TARGET (not enabled in MODULES); the caller decides whether to wait or give up.
    pub fn call(&self, request: Request, ctx: RequestContext) -> Option<BoxFuture<Outcome>> {
        let map = self.inner.get().and_then(Weak::upgrade)?;
        let service = map.get(request.target.as_str())?.clone();
        Some(service.call(request, ctx))
    }

    /// Whether the router is built and a module answers `target`.
    pub fn has(&self, target: &str) -> bool {
        self.inner
            .get()
            .and_then(Weak::upgrade)
            .is_some_and(|m| m.contains_key(target))
    }
}

impl Router {
    /// A router of `services` (tests; the engine uses [`RouterBuilder`]).
    pub fn new(services: Vec<Arc<dyn Service>>) -> Self {
        let mut builder = RouterBuilder::new();
        for s in services {
            builder.add(s);
        }
        builder.build()
    }

    /// The registered modules in TARGET order.
    pub fn services(&self) -> impl Iterator<Item = &Arc<dyn Service>> {
        self.services.values()
    }

    /// Routes a request to its module; an unknown TARGET fails with UNKNOWN_TARGET naming the
    /// enabled ones.
    pub fn dispatch(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        match self.services.get(request.target.as_str()) {
            Some(service) => service.call(request, ctx),
            None => {
                let known: Vec<&str> = self.services.keys().copied().collect();
                let failure = Failure::new(
                    ErrorCode::UnknownTarget,
                    format!(
                        "no module answers TARGET {:?} (enabled: {})",
                        request.target,
                        known.join(", ")
                    ),
                )
                .with_details(serde_json::json!({ "TARGETS": known }));
                Box::pin(std::future::ready(Err(failure)))
            }
        }
    }
}

/// Declares a module's action names once: an enum of them, `NAMES` (normalised as requests are
/// matched: upper case, no underscores) for CHECK and UNKNOWN_ACTION replies, and `from_wire`.
/// Each module then matches the enum exhaustively when it parses parameters, so a name added
/// here without code fails to compile.
///
/// ```ignore
/// pispas_modules::actions! { pub(crate) enum Name { Read = "READ", ClearTare = "CLEARTARE" } }
/// ```
#[macro_export]
macro_rules! actions {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every action, normalised (upper case, no underscores).
            $vis const NAMES: &'static [&'static str] = &[$($wire),+];
            const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The action a normalised ACTION names, if this module has it.
            $vis fn from_wire(action: &str) -> Option<$name> {
                Self::NAMES.iter().position(|n| *n == action).map(|i| Self::ALL[i])
            }

        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::actions! { enum Name { Read = "READ", ClearTare = "CLEARTARE" } }

    #[test]
    fn declared_actions_round_trip_through_their_wire_names() {
        assert_eq!(Name::NAMES, &["READ", "CLEARTARE"]);
        assert_eq!(Name::from_wire("CLEARTARE"), Some(Name::ClearTare));
        assert_eq!(Name::from_wire("TARE"), None);
    }

    struct Fake;
    impl Service for Fake {
        fn target(&self) -> &'static str {
            "FAKE"
        }
        fn actions(&self) -> &'static [&'static str] {
            Name::NAMES
        }
        fn call(&self, _: Request, _: RequestContext) -> BoxFuture<Outcome> {
            Box::pin(std::future::ready(Ok(Value::Null)))
        }
    }

    #[test]
    fn a_directory_handed_out_before_build_lists_the_modules_after_it() {
        let mut builder = RouterBuilder::new();
        let directory = builder.directory();
        assert!(directory.modules().is_empty());
        builder.add(Arc::new(Fake));
        let router = builder.build();
        let modules = directory.modules();
        assert_eq!(modules.len(), 1);
        assert_eq!(
            modules[0].to_json()["ACTIONS"],
            serde_json::json!(["READ", "CLEARTARE"])
        );
        drop(router);
        assert!(
            directory.modules().is_empty(),
            "the directory does not keep modules alive"
        );
    }
}
