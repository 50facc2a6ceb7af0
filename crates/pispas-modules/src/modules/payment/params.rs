//! Parameters every payment TARGET reads the same way, pure and unit-tested: AMOUNT (integer
//! cents, > 0, ≤ PAYMENT_MAX_AMOUNT), CURRENCY (ISO 4217 letters), REFERENCE (≤ 32
//! characters), TERMINAL, PAYMENT (a UUIDV4 in the journal), JOURNAL's filters and
//! PAYMENT_RESOLVE's outcome; and the shared keys PAYMENT_MAX_AMOUNT, PAYMENT_CURRENCY and
//! PAYMENT_TIMEOUT_S. A bad value is refused here, before any terminal is contacted and before
//! anything is journaled.

use super::journal::Filter;
use super::model::PaymentState;
use crate::protocol::{ErrorCode, Failure, Request};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// ISO 4217 letters and numbers of the currencies a Spanish or European shop meets. A code not
/// here is refused (a terminal given an unknown currency may charge in the wrong one).
pub const CURRENCIES: &[(&str, u16)] = &[
    ("EUR", 978),
    ("USD", 840),
    ("GBP", 826),
    ("CHF", 756),
    ("SEK", 752),
    ("NOK", 578),
    ("DKK", 208),
    ("PLN", 985),
    ("CZK", 203),
    ("HUF", 348),
    ("RON", 946),
    ("BGN", 975),
    ("MAD", 504),
    ("MXN", 484),
];

/// The ISO 4217 number of a currency this service knows.
pub fn currency_number(letters: &str) -> Option<u16> {
    CURRENCIES
        .iter()
        .find(|(l, _)| *l == letters)
        .map(|(_, n)| *n)
}

/// The shared payment settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentSettings {
    /// Largest AMOUNT accepted, in cents.
    pub max_amount: u64,
    pub currency: String,
    /// The longest a SALE/REFUND reply may take.
    pub timeout: Duration,
}

impl PaymentSettings {
    /// Reads PAYMENT_MAX_AMOUNT, PAYMENT_CURRENCY and PAYMENT_TIMEOUT_S; the error starts with
    /// the key.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<PaymentSettings, String> {
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let num = |k: &str, default: u64, min: u64, max: u64| -> Result<u64, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        format!("{k}: expected a whole number from {min} to {max}, got {v:?}")
                    }),
            }
        };
        let currency = get("PAYMENT_CURRENCY")
            .unwrap_or("EUR")
            .to_ascii_uppercase();
        if currency_number(&currency).is_none() {
            return Err(format!(
                "PAYMENT_CURRENCY: {currency:?} is not a currency this service knows ({})",
                CURRENCIES
                    .iter()
                    .map(|(l, _)| *l)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(PaymentSettings {
            max_amount: num("PAYMENT_MAX_AMOUNT", 1_000_000, 1, 100_000_000)?,
            currency,
            timeout: Duration::from_secs(num("PAYMENT_TIMEOUT_S", 180, 5, 900)?),
        })
    }
}

/// AMOUNT in cents. INVALID_AMOUNT unless a JSON integer above 0 and at most `max`: a string,
/// a fraction, a negative or zero amount, or an absurd one is refused.
pub fn amount(request: &Request, max: u64) -> Result<u64, Failure> {
    let bad = |why: String| Failure::new(ErrorCode::InvalidAmount, why);
    match request.param("AMOUNT") {
        None | Some(Value::Null) => Err(bad(
            "AMOUNT is required: whole cents, e.g. 1250 for 12.50".into(),
        )),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => Err(bad("AMOUNT must be above 0".into())),
            Some(c) if c > max => Err(bad(format!(
                "AMOUNT {c} is above PAYMENT_MAX_AMOUNT ({max} cents)"
            ))),
            Some(c) => Ok(c),
            None => Err(bad(format!(
                "AMOUNT must be whole cents above 0 (got {n}); 12.50 is sent as 1250"
            ))),
        },
        Some(other) => Err(bad(format!(
            "AMOUNT must be a number of cents, not {}",
            match other {
                Value::String(_) => "a string",
                Value::Bool(_) => "a boolean",
                Value::Array(_) => "an array",
                _ => "an object",
            }
        ))),
    }
}

/// CURRENCY (default `default`), upper-cased; BAD_PARAMS naming it when not a known ISO 4217 code.
pub fn currency(request: &Request, default: &str) -> Result<String, Failure> {
    let Some(c) = request.str_param("CURRENCY")? else {
        return Ok(default.to_string());
    };
    let c = c.trim().to_ascii_uppercase();
    if currency_number(&c).is_none() {
        return Err(Failure::bad_params(format!(
            "CURRENCY {c:?} is not an ISO 4217 code this service accepts ({})",
            CURRENCIES
                .iter()
                .map(|(l, _)| *l)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(c)
}

/// REFERENCE: the POS's ticket number, at most 32 printable ASCII characters; a card number in
/// it is masked.
pub fn reference(request: &Request) -> Result<Option<String>, Failure> {
    let Some(r) = request.str_param("REFERENCE")? else {
        return Ok(None);
    };
    if r.len() > 32 || !r.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Failure::bad_params(
            "REFERENCE must be at most 32 printable ASCII characters",
        ));
    }
    // A card number typed into the ticket field is never stored or sent on.
    Ok(Some(super::model::mask_pan(r)).filter(|r| !r.is_empty()))
}

/// TERMINAL, upper-cased.
pub fn terminal(request: &Request) -> Result<Option<String>, Failure> {
    Ok(request.str_param("TERMINAL")?.map(str::to_ascii_uppercase))
}

/// A payment's UUIDV4 in parameter `name` (`PAYMENT`, `ORIGINAL`).
pub fn payment_id(
    request: &Request,
    name: &str,
    required: bool,
) -> Result<Option<String>, Failure> {
    match request.str_param(name)? {
        Some(p) if !p.trim().is_empty() && p.len() <= 128 => Ok(Some(p.trim().to_string())),
        Some(_) => Err(Failure::bad_params(format!(
            "{name} must be a payment's UUIDV4"
        ))),
        None if required => Err(Failure::bad_params(format!(
            "{name} is required: the UUIDV4 of the payment"
        ))),
        None => Ok(None),
    }
}

/// JOURNAL's filters: TERMINAL, STATE, FROM_MS, TO_MS, LIMIT (default 100, at most 1000).
pub fn filter(request: &Request) -> Result<Filter, Failure> {
    let state = match request.str_param("STATE")? {
        None => None,
        Some(s) => Some(PaymentState::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
            Failure::bad_params(format!(
                "STATE must be one of {}",
                PaymentState::ALL.map(PaymentState::as_str).join(", ")
            ))
        })?),
    };
    let time = |k: &str| -> Result<Option<i64>, Failure> {
        Ok(request
            .u64_param(k)?
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
    };
    let limit = request.u64_param("LIMIT")?.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Failure::bad_params("LIMIT must be from 1 to 1000"));
    }
    Ok(Filter {
        terminal: terminal(request)?,
        state,
        from_ms: time("FROM_MS")?,
        to_ms: time("TO_MS")?,
        limit: limit as u32,
    })
}

/// PAYMENT_RESOLVE's OUTCOME: APPROVED or DECLINED (what the operator read on the terminal).
pub fn resolution(request: &Request) -> Result<(PaymentState, String), Failure> {
    let outcome = request
        .str_param("OUTCOME")?
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| {
            Failure::bad_params(
                "OUTCOME is required: APPROVED or DECLINED, as the terminal's own records show",
            )
        })?;
    let state = match outcome.as_str() {
        "APPROVED" => PaymentState::Approved,
        "DECLINED" => PaymentState::Declined,
        _ => {
            return Err(Failure::bad_params(
                "OUTCOME must be APPROVED or DECLINED, as the terminal's own records show",
            ))
        }
    };
    let note = request
        .str_param("NOTE")?
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Ok((state, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::parse_request;

    fn req(extra: &str) -> Request {
        parse_request(&format!(
            r#"{{"UUIDV4":"u","TARGET":"MYPOS","ACTION":"SALE"{extra}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn amounts_are_whole_positive_cents_within_the_limit() {
        assert_eq!(amount(&req(r#","AMOUNT":1250"#), 1_000_000).unwrap(), 1250);
        for bad in [
            r#","AMOUNT":0"#,
            r#","AMOUNT":-5"#,
            r#","AMOUNT":12.5"#,
            r#","AMOUNT":"1250""#,
            r#","AMOUNT":1000001"#,
            r#","AMOUNT":1e30"#,
            r#","AMOUNT":true"#,
            "",
        ] {
            let f = amount(&req(bad), 1_000_000).unwrap_err();
            assert_eq!(f.code, ErrorCode::InvalidAmount, "{bad}");
        }
    }

    #[test]
    fn currency_defaults_and_unknown_ones_are_refused() {
        assert_eq!(currency(&req(""), "EUR").unwrap(), "EUR");
        assert_eq!(
            currency(&req(r#","CURRENCY":"gbp""#), "EUR").unwrap(),
            "GBP"
        );
        let f = currency(&req(r#","CURRENCY":"XYZ""#), "EUR").unwrap_err();
        assert!(f.message.starts_with("CURRENCY"), "{}", f.message);
        assert_eq!(currency_number("EUR"), Some(978));
    }

    #[test]
    fn a_reference_is_short_printable_text() {
        assert_eq!(
            reference(&req(r#","REFERENCE":"T-17""#))
                .unwrap()
                .as_deref(),
            Some("T-17")
        );
        assert!(reference(&req(&format!(r#","REFERENCE":"{}""#, "x".repeat(33)))).is_err());
        assert!(reference(&req(r#","REFERENCE":"a\nb""#)).is_err());
    }

    #[test]
    fn settings_have_defaults_and_name_the_key() {
        let s = PaymentSettings::from_values(&BTreeMap::new()).unwrap();
        assert_eq!(
            (s.max_amount, s.currency.as_str(), s.timeout.as_secs()),
            (1_000_000, "EUR", 180)
        );
        let bad: BTreeMap<_, _> = [("PAYMENT_CURRENCY".to_string(), "XXX".to_string())].into();
        assert!(PaymentSettings::from_values(&bad)
            .unwrap_err()
            .starts_with("PAYMENT_CURRENCY"));
    }

    #[test]
    fn resolve_takes_approved_or_declined_only() {
        assert_eq!(
            resolution(&req(r#","OUTCOME":"approved""#)).unwrap().0,
            PaymentState::Approved
        );
        assert!(resolution(&req(r#","OUTCOME":"CANCELLED""#)).is_err());
        assert!(resolution(&req("")).is_err());
    }
}
