//! Cloud authorisation: `/authorize/` trades the access and secret keys for a bearer token
//! that looks like a JWT (three base64url parts; the signature is not a real one), and every
//! other call must carry it. Tokens expire only when told to (a scenario or `expire_tokens`).

use base64::Engine as _;

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
}

impl TokenProblem {
    /// Paytef's error `code` and `description` (codes INFERRED; the description carries
    /// "authorization token" as the notes say clients look for).
    pub(crate) fn error(self) -> (&'static str, &'static str) {
        match self {
            TokenProblem::Missing => ("missingToken", "Missing authorization token"),
            TokenProblem::Unknown => ("invalidToken", "Invalid authorization token"),
            TokenProblem::Expired => ("expiredToken", "Expired authorization token"),
        }
    }
}

#[derive(Debug)]
struct Token {
    text: String,
    expired: bool,
}

#[derive(Debug)]
pub(crate) struct Auth {
    access_key: String,
    secret_key: String,
    tokens: Vec<Token>,
}

impl Auth {
    pub(crate) fn new(access_key: &str, secret_key: &str) -> Auth {
        Auth {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            tokens: Vec::new(),
        }
    }

    /// A new token for the right keys, None for wrong ones.
    pub(crate) fn authorize(&mut self, access_key: &str, secret_key: &str) -> Option<String> {
        if access_key != self.access_key || secret_key != self.secret_key {
            return None;
        }
        let n = self.tokens.len() + 1;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = b64.encode(
            format!(
                r#"{{"sub":"{}","iss":"pispas-sim","jti":{n}}}"#,
                self.access_key
            )
            .as_bytes(),
        );
        let signature = b64.encode(format!("pispas-sim-signature-{n:08}").as_bytes());
        let text = format!("{header}.{payload}.{signature}");
        self.tokens.push(Token {
            text: text.clone(),
            expired: false,
        });
        Some(text)
    }

    /// Checks an `Authorization` header value (`Bearer <token>`); returns the token.
    pub(crate) fn check<'a>(&self, header: Option<&'a str>) -> Result<&'a str, TokenProblem> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        let Some(header) = header else {
            return Err(TokenProblem::Missing);
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(TokenProblem::Unknown)?;
        match self.tokens.iter().find(|t| t.text == token) {
            None => Err(TokenProblem::Unknown),
            Some(t) if t.expired => Err(TokenProblem::Expired),
            Some(_) => Ok(token),
        }
    }

    pub(crate) fn expire(&mut self, token: &str) {
        for t in self.tokens.iter_mut().filter(|t| t.text == token) {
            t.expired = true;
        }
    }

    pub(crate) fn expire_all(&mut self) {
        for t in &mut self.tokens {
            t.expired = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_for_the_right_keys_works_until_it_expires() {
        let mut auth = Auth::new("ak", "sk");
        assert_eq!(auth.authorize("ak", "wrong"), None);
        let token = auth.authorize("ak", "sk").expect("token");
        assert_eq!(token.split('.').count(), 3);
        let header = format!("Bearer {token}");
        assert_eq!(auth.check(Some(&header)), Ok(token.as_str()));
        auth.expire_all();
        assert_eq!(auth.check(Some(&header)), Err(TokenProblem::Expired));
        assert_eq!(auth.check(None), Err(TokenProblem::Missing));
        assert_eq!(auth.check(Some("Bearer nope")), Err(TokenProblem::Unknown));
    }
}
