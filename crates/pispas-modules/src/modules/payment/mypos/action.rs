//! MYPOS's actions parsed once from a request (names declared once with [`crate::actions!`]),
//! pure and unit-tested. Amounts, currencies and references are checked here
//! (`params.rs`), before any terminal is contacted and before anything is journaled.

use crate::modules::payment::journal::Filter;
use crate::modules::payment::model::PaymentState;
use crate::modules::payment::params::{self, PaymentSettings};
use crate::protocol::{Failure, Request};

crate::actions! {
    pub(super) enum Name {
        Sale = "SALE",
        Refund = "REFUND",
        Reversal = "REVERSAL",
        Cancel = "CANCEL",
        Status = "STATUS",
        Journal = "JOURNAL",
        Receipt = "RECEIPT",
        Resolve = "PAYMENTRESOLVE",
        Reprint = "REPRINT",
        Ping = "PING",
    }
}

/// A MYPOS request with its parameters read. `terminal`: the TERMINAL parameter, upper-cased.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Sale {
        terminal: Option<String>,
        amount: u64,
        currency: String,
        reference: Option<String>,
    },
    Refund {
        terminal: Option<String>,
        amount: u64,
        currency: String,
        reference: Option<String>,
        original: Option<String>,
    },
    Reversal {
        terminal: Option<String>,
        original: String,
    },
    Cancel {
        terminal: Option<String>,
        payment: Option<String>,
    },
    Status {
        terminal: Option<String>,
    },
    Journal(Filter),
    Receipt {
        payment: String,
    },
    Resolve {
        payment: String,
        state: PaymentState,
        note: String,
    },
    Reprint {
        terminal: Option<String>,
    },
    Ping {
        terminal: Option<String>,
    },
}

impl Action {
    /// Reads the request. Fails with UNKNOWN_ACTION, INVALID_AMOUNT, or BAD_PARAMS naming the
    /// parameter.
    pub(super) fn parse(request: &Request, settings: &PaymentSettings) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("MYPOS", &request.raw_action, Name::NAMES))?;
        let terminal = params::terminal(request)?;
        Ok(match name {
            Name::Sale => Action::Sale {
                amount: params::amount(request, settings.max_amount)?,
                currency: params::currency(request, &settings.currency)?,
                reference: params::reference(request)?,
                terminal,
            },
            Name::Refund => Action::Refund {
                amount: params::amount(request, settings.max_amount)?,
                currency: params::currency(request, &settings.currency)?,
                reference: params::reference(request)?,
                original: params::payment_id(request, "ORIGINAL", false)?,
                terminal,
            },
            Name::Reversal => Action::Reversal {
                original: params::payment_id(request, "ORIGINAL", true)?.unwrap_or_default(),
                terminal,
            },
            Name::Cancel => Action::Cancel {
                payment: params::payment_id(request, "PAYMENT", false)?,
                terminal,
            },
            Name::Status => Action::Status { terminal },
            Name::Journal => Action::Journal(params::filter(request)?),
            Name::Receipt => Action::Receipt {
                payment: params::payment_id(request, "PAYMENT", true)?.unwrap_or_default(),
            },
            Name::Resolve => {
                let (state, note) = params::resolution(request)?;
                Action::Resolve {
                    payment: params::payment_id(request, "PAYMENT", true)?.unwrap_or_default(),
                    state,
                    note,
                }
            }
            Name::Reprint => Action::Reprint { terminal },
            Name::Ping => Action::Ping { terminal },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};
    use std::collections::BTreeMap;

    fn parse(text: &str) -> Result<Action, Failure> {
        let settings = PaymentSettings::from_values(&BTreeMap::new()).unwrap();
        Action::parse(&parse_request(text).unwrap(), &settings)
    }

    #[test]
    fn a_sale_takes_cents_the_default_currency_and_the_named_terminal() {
        let a = parse(r#"{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"sale","AMOUNT":1250,"TERMINAL":"bar","REFERENCE":"T-9"}"#).unwrap();
        assert_eq!(
            a,
            Action::Sale {
                terminal: Some("BAR".into()),
                amount: 1250,
                currency: "EUR".into(),
                reference: Some("T-9".into())
            }
        );
    }

    #[test]
    fn bad_amounts_are_invalid_amount() {
        for amount in ["0", "-1", "1.5", "\"10\"", "1000000000"] {
            let f = parse(&format!(
                r#"{{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"SALE","AMOUNT":{amount}}}"#
            ))
            .unwrap_err();
            assert_eq!(f.code, ErrorCode::InvalidAmount, "{amount}");
        }
    }

    #[test]
    fn resolve_needs_the_payment_and_an_outcome() {
        let a = parse(r#"{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"PAYMENT_RESOLVE","PAYMENT":"p1","OUTCOME":"DECLINED"}"#).unwrap();
        assert!(matches!(
            a,
            Action::Resolve {
                state: PaymentState::Declined,
                ..
            }
        ));
        let f = parse(
            r#"{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"PAYMENT_RESOLVE","OUTCOME":"DECLINED"}"#,
        )
        .unwrap_err();
        assert!(f.message.starts_with("PAYMENT"), "{}", f.message);
    }

    #[test]
    fn a_reversal_names_the_sale_it_voids() {
        let f = parse(r#"{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"REVERSAL"}"#).unwrap_err();
        assert!(f.message.starts_with("ORIGINAL"), "{}", f.message);
    }

    #[test]
    fn an_unknown_action_lists_mypos_actions() {
        let f = parse(r#"{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"CHARGE"}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::UnknownAction);
    }
}
