//! PAYTEF's actions parsed once from a request (names declared once with [`crate::actions!`]),
//! pure and unit-tested. Amounts, currencies and references are checked here (`params.rs`),
//! before any pinpad is contacted and before anything is journaled.

use crate::modules::payment::journal::Filter;
use crate::modules::payment::model::PaymentState;
use crate::modules::payment::params::{self, PaymentSettings};
use crate::protocol::{Failure, Request};

crate::actions! {
    pub(super) enum Name {
        Sale = "SALE",
        Refund = "REFUND",
        Cancel = "CANCEL",
        Status = "STATUS",
        Journal = "JOURNAL",
        Receipt = "RECEIPT",
        Resolve = "PAYMENTRESOLVE",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// SALE (`refund: false`) or REFUND.
    Pay {
        refund: bool,
        terminal: Option<String>,
        amount: u64,
        currency: String,
        reference: Option<String>,
        original: Option<String>,
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
}

impl Action {
    /// Reads the request. Fails with UNKNOWN_ACTION, INVALID_AMOUNT, or BAD_PARAMS naming the
    /// parameter.
    pub(super) fn parse(request: &Request, settings: &PaymentSettings) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("PAYTEF", &request.raw_action, Name::NAMES))?;
        let terminal = params::terminal(request)?;
        Ok(match name {
            Name::Sale | Name::Refund => Action::Pay {
                refund: name == Name::Refund,
                amount: params::amount(request, settings.max_amount)?,
                currency: params::currency(request, &settings.currency)?,
                reference: params::reference(request)?,
                original: if name == Name::Refund {
                    params::payment_id(request, "ORIGINAL", false)?
                } else {
                    None
                },
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
    fn sale_and_refund_take_cents_and_refund_its_original() {
        let a = parse(
            r#"{"UUIDV4":"u","TARGET":"PAYTEF","ACTION":"REFUND","AMOUNT":300,"ORIGINAL":"s1"}"#,
        )
        .unwrap();
        assert!(matches!(
            a,
            Action::Pay {
                refund: true,
                amount: 300,
                original: Some(_),
                ..
            }
        ));
        let f =
            parse(r#"{"UUIDV4":"u","TARGET":"PAYTEF","ACTION":"SALE","AMOUNT":-3}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidAmount);
    }

    #[test]
    fn paytef_has_no_reversal() {
        let f = parse(r#"{"UUIDV4":"u","TARGET":"PAYTEF","ACTION":"REVERSAL"}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::UnknownAction);
    }
}
