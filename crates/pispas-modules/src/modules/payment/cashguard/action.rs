//! CASHGUARD's actions parsed once from a request (names declared once with
//! [`crate::actions!`]), pure and unit-tested. Amounts are checked here, before the machine is
//! asked anything and before anything is journaled.

use crate::modules::payment::journal::Filter;
use crate::modules::payment::model::PaymentState;
use crate::modules::payment::params::{self, PaymentSettings};
use crate::protocol::{Failure, Request};

crate::actions! {
    pub(super) enum Name {
        StartPayment = "STARTPAYMENT",
        Cancel = "CANCEL",
        Dispense = "DISPENSE",
        Balance = "BALANCE",
        Status = "STATUS",
        Open = "OPEN",
        Close = "CLOSE",
        Reset = "RESET",
        Journal = "JOURNAL",
        Resolve = "PAYMENTRESOLVE",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    StartPayment {
        amount: u64,
        currency: String,
        reference: Option<String>,
        /// The note the customer holds, to ask before the cash goes in whether the change can be paid.
        tendered: Option<u64>,
    },
    Cancel {
        payment: Option<String>,
    },
    Dispense {
        amount: u64,
        currency: String,
        reference: Option<String>,
    },
    Balance,
    Status,
    Open,
    Close,
    Reset,
    Journal(Filter),
    Resolve {
        payment: String,
        state: PaymentState,
        note: String,
    },
}

impl Action {
    pub(super) fn parse(request: &Request, settings: &PaymentSettings) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action).ok_or_else(|| {
            Failure::unknown_action("CASHGUARD", &request.raw_action, Name::NAMES)
        })?;
        Ok(match name {
            Name::StartPayment => {
                let amount = params::amount(request, settings.max_amount)?;
                let tendered = request.u64_param("TENDERED")?;
                if tendered.is_some_and(|t| t < amount || t > 100_000_000) {
                    return Err(Failure::bad_params(
                        "TENDERED must be at least AMOUNT (the cents the customer hands over)",
                    ));
                }
                Action::StartPayment {
                    amount,
                    currency: params::currency(request, &settings.currency)?,
                    reference: params::reference(request)?,
                    tendered,
                }
            }
            Name::Cancel => Action::Cancel {
                payment: params::payment_id(request, "PAYMENT", false)?,
            },
            Name::Dispense => Action::Dispense {
                amount: params::amount(request, settings.max_amount)?,
                currency: params::currency(request, &settings.currency)?,
                reference: params::reference(request)?,
            },
            Name::Balance => Action::Balance,
            Name::Status => Action::Status,
            Name::Open => Action::Open,
            Name::Close => Action::Close,
            Name::Reset => Action::Reset,
            Name::Journal => Action::Journal(params::filter(request)?),
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
    fn start_payment_takes_cents_and_what_the_customer_hands_over() {
        let a = parse(r#"{"UUIDV4":"u","TARGET":"CASHGUARD","ACTION":"START_PAYMENT","AMOUNT":1250,"TENDERED":2000}"#).unwrap();
        assert!(matches!(
            a,
            Action::StartPayment {
                amount: 1250,
                tendered: Some(2000),
                ..
            }
        ));
        let f = parse(r#"{"UUIDV4":"u","TARGET":"CASHGUARD","ACTION":"START_PAYMENT","AMOUNT":1250,"TENDERED":1000}"#).unwrap_err();
        assert!(f.message.starts_with("TENDERED"));
        let f = parse(r#"{"UUIDV4":"u","TARGET":"CASHGUARD","ACTION":"DISPENSE","AMOUNT":0}"#)
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::InvalidAmount);
    }
}
