//! The Paytef API's dispatcher: one HTTP call (method, path, Authorization, body) in, one
//! answer (status, JSON, or "drop the connection") out, applied to the terminal. No sockets and
//! no clocks, so every rule here (routing, auth, validation, busy → 500, lost replies) is
//! testable without a server; http.rs carries calls in and answers out.

use super::auth::Auth;
use super::reply;
use super::terminal::{OpType, Outcome, Phase, StartRefused, StartRequest, Terminal};
use serde_json::Value;

/// The endpoints (device-protocols.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Authorize,
    Status,
    Start,
    Poll,
    Result,
    Cancel,
    LastResult,
}

impl Endpoint {
    /// The endpoint at `path` (query and a trailing slash ignored).
    pub fn at(path: &str) -> Option<Endpoint> {
        let path = path.split('?').next().unwrap_or("");
        match path.trim_end_matches('/') {
            "/authorize" => Some(Endpoint::Authorize),
            "/pinpad/status" => Some(Endpoint::Status),
            "/transaction/start" => Some(Endpoint::Start),
            "/transaction/poll" => Some(Endpoint::Poll),
            "/transaction/result" => Some(Endpoint::Result),
            "/pinpad/cancel" => Some(Endpoint::Cancel),
            "/pinpad/getLastResult" => Some(Endpoint::LastResult),
            _ => None,
        }
    }
}

/// One HTTP request, as the dispatcher needs it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

/// What to do with a call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    /// Close the connection without sending anything (the effect has happened).
    pub drop: bool,
    /// A transaction was started: its index, for the runner.
    pub started: Option<usize>,
}

impl Answer {
    fn new(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body,
            drop: false,
            started: None,
        }
    }
}

/// Everything a call can change.
#[derive(Debug)]
pub(crate) struct Api {
    pub terminal: Terminal,
    pub auth: Auth,
    pub cloud: bool,
    /// The terminal code (`tcod`); local requests may also say `*`.
    pub pinpad: String,
    /// Drop the replies of this many calls, whatever they are (fault injection).
    pub drop_next: u32,
}

impl Api {
    /// Answers `call`, changing the terminal as the call says.
    pub(crate) fn answer(&mut self, call: &Call) -> Answer {
        let mut answer = self.dispatch(call);
        if self.drop_next > 0 {
            self.drop_next -= 1;
            answer.drop = true;
        }
        answer
    }

    fn dispatch(&mut self, call: &Call) -> Answer {
        let Some(endpoint) = Endpoint::at(&call.path).filter(|_| call.method == "POST") else {
            return if self.cloud {
                Answer::new(403, reply::gateway_missing_token())
            } else {
                Answer::new(
                    404,
                    reply::error(
                        "notFound",
                        &format!("No endpoint {} {}", call.method, call.path),
                    ),
                )
            };
        };
        if endpoint == Endpoint::Authorize && !self.cloud {
            return Answer::new(
                404,
                reply::error("notFound", "No endpoint /authorize/ on a local pinpad"),
            );
        }
        let Ok(body) = serde_json::from_slice::<Value>(&call.body) else {
            return Answer::new(403, reply::error("unhandledError", "Malformed JSON body"));
        };
        if endpoint == Endpoint::Authorize {
            return self.authorize(&body);
        }
        let mut token = None;
        if self.cloud {
            match self.auth.check(call.authorization.as_deref()) {
                Ok(t) => token = Some(t.to_string()),
                Err(problem) => {
                    let (code, description) = problem.error();
                    return Answer::new(403, reply::error(code, description));
                }
            }
        }
        match body.get("pinpad").and_then(Value::as_str) {
            None => return Answer::new(403, reply::unhandled("pinpad")),
            Some(p) if p == self.pinpad || (p == "*" && !self.cloud) => {}
            Some(p) => {
                return Answer::new(
                    403,
                    reply::error("pinpadNotFound", &format!("Pinpad {p} not found")),
                )
            }
        }
        match endpoint {
            Endpoint::Authorize => self.authorize(&body),
            Endpoint::Status => {
                Answer::new(200, reply::status(&self.pinpad, self.terminal.is_busy()))
            }
            Endpoint::Start => self.start(&body, token.as_deref()),
            Endpoint::Poll | Endpoint::Result => self.poll(&body),
            Endpoint::Cancel => Answer::new(200, reply::cancelled(self.terminal.cancel())),
            Endpoint::LastResult => {
                Answer::new(200, reply::last_result(self.terminal.last_result()))
            }
        }
    }

    fn authorize(&mut self, body: &Value) -> Answer {
        let key = |name| body.get(name).and_then(Value::as_str).unwrap_or("");
        match self.auth.authorize(key("accessKey"), key("secretKey")) {
            Some(token) => Answer::new(200, reply::authorized(&token)),
            None => Answer::new(
                403,
                reply::error("invalidCredentials", "Invalid accessKey or secretKey"),
            ),
        }
    }

    fn start(&mut self, body: &Value, token: Option<&str>) -> Answer {
        let Some(op) = body.get("opType").and_then(Value::as_str) else {
            return Answer::new(403, reply::unhandled("opType"));
        };
        let Some(op) = OpType::parse(op) else {
            return Answer::new(
                403,
                reply::error("invalidOpType", &format!("Unknown opType {op}")),
            );
        };
        let Some(amount) = body
            .get("requestedAmount")
            .and_then(Value::as_u64)
            .filter(|a| *a > 0)
        else {
            return Answer::new(403, reply::unhandled("requestedAmount"));
        };
        let request = StartRequest {
            op,
            amount_cents: amount,
            reference: body
                .get("transactionReference")
                .and_then(Value::as_str)
                .map(String::from),
            create_receipt: body
                .get("createReceipt")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        match self.terminal.start(request) {
            Err(StartRefused::Busy) => Answer::new(
                500,
                reply::error("pinpadBusy", "El pinpad está ocupado con otra transacción"),
            ),
            Ok(index) => {
                let tx = &self.terminal.transactions[index];
                let mut answer = Answer::new(200, reply::started(tx));
                answer.drop = tx.faults.lose_start_reply;
                answer.started = Some(index);
                if let (true, Some(token)) = (tx.faults.expire_token_after_start, token) {
                    self.auth.expire(token);
                }
                answer
            }
        }
    }

    fn poll(&mut self, body: &Value) -> Answer {
        let session = body.get("sessionID").and_then(Value::as_str);
        let tx = match session.filter(|_| self.cloud) {
            Some(id) => match self.terminal.by_session(id) {
                Some(tx) => Some(tx),
                None => {
                    return Answer::new(
                        403,
                        reply::error("sessionNotFound", &format!("Session {id} not found")),
                    )
                }
            },
            None => self.terminal.current(),
        };
        let mut answer = Answer::new(200, reply::poll(tx));
        answer.drop = tx.is_some_and(|t| {
            t.faults.lose_approval_replies && t.phase == Phase::Finished(Outcome::Approved)
        });
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paytef::PaytefScenario;
    use serde_json::json;

    fn api(cloud: bool, scenario: PaytefScenario) -> Api {
        Api {
            terminal: Terminal::new(scenario, cloud),
            auth: Auth::new("ak", "sk"),
            cloud,
            pinpad: "SIM00001".into(),
            drop_next: 0,
        }
    }

    fn call(path: &str, body: Value, token: Option<&str>) -> Call {
        Call {
            method: "POST".into(),
            path: path.into(),
            authorization: token.map(|t| format!("Bearer {t}")),
            body: body.to_string().into_bytes(),
        }
    }

    fn sale(pinpad: &str) -> Value {
        json!({"pinpad": pinpad, "opType": "sale", "requestedAmount": 500,
               "transactionReference": "R1", "executeOptions": {"method": "polling"}})
    }

    #[test]
    fn a_local_start_is_accepted_for_the_attached_pinpad() {
        let mut api = api(false, PaytefScenario::Approved);
        let answer = api.answer(&call("/transaction/start", sale("*"), None));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["info"]["started"], true);
        assert_eq!(answer.started, Some(0));
    }

    #[test]
    fn a_missing_op_type_is_paytefs_null_pointer_error() {
        let mut api = api(false, PaytefScenario::Approved);
        let answer = api.answer(&call(
            "/transaction/start",
            json!({"pinpad": "*", "requestedAmount": 5}),
            None,
        ));
        assert_eq!(answer.status, 403);
        assert_eq!(answer.body["error"]["code"], "unhandledError");
        assert!(answer.body["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("opType")));
    }

    #[test]
    fn a_cloud_call_without_a_token_is_refused_and_an_unknown_path_is_the_gateways() {
        let mut api = api(true, PaytefScenario::Approved);
        let answer = api.answer(&call("/pinpad/status", json!({"pinpad": "SIM00001"}), None));
        assert_eq!(answer.status, 403);
        assert!(answer.body["error"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("authorization token")));
        let answer = api.answer(&call("/nope", json!({}), None));
        assert_eq!(
            (answer.status, answer.body),
            (403, json!({"message": "Missing Authentication Token"}))
        );
    }

    #[test]
    fn the_cloud_needs_the_terminal_code_not_a_star() {
        let mut api = api(true, PaytefScenario::Approved);
        let token = api.auth.authorize("ak", "sk").expect("token");
        let answer = api.answer(&call("/transaction/start", sale("*"), Some(&token)));
        assert_eq!(answer.body["error"]["code"], "pinpadNotFound");
        let answer = api.answer(&call("/transaction/start", sale("SIM00001"), Some(&token)));
        assert!(answer.body["info"]["sessionID"].is_string());
    }

    #[test]
    fn token_expired_expires_the_token_that_started_the_transaction() {
        let mut api = api(true, PaytefScenario::TokenExpired);
        let token = api.auth.authorize("ak", "sk").expect("token");
        let start = api.answer(&call("/transaction/start", sale("SIM00001"), Some(&token)));
        assert_eq!(start.status, 200);
        let poll = api.answer(&call(
            "/transaction/poll",
            json!({"pinpad": "SIM00001"}),
            Some(&token),
        ));
        assert_eq!(poll.body["error"]["code"], "expiredToken");
    }

    #[test]
    fn drop_next_drops_replies_after_applying_them() {
        let mut api = api(false, PaytefScenario::Approved);
        api.drop_next = 1;
        let answer = api.answer(&call("/transaction/start", sale("*"), None));
        assert!(answer.drop);
        assert!(api.terminal.is_busy(), "the start happened");
        let again = api.answer(&call("/transaction/start", sale("*"), None));
        assert_eq!((again.status, again.drop), (500, false));
    }
}
