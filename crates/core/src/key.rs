//! School signing keys and their text forms. Pure: the caller brings the random seed.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::future::Future;
use std::pin::Pin;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};

/// Prefix of a public key written as text: `ed25519:<base64 of 32 bytes>`.
const PUBLIC_PREFIX: &str = "ed25519:";
/// First word of a secret key file, so that a public key or a stray file is never taken for one.
const SECRET_TAG: &str = "cartable-secret-key";

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not `ed25519:` followed by 32 bytes of base64.
    #[error("not a public key: expected `ed25519:` followed by 44 base64 characters")]
    NotPublicKey,
    /// The text is not a secret key file written by `cartable keygen`.
    #[error("not a cartable secret key: expected a line `{SECRET_TAG} ed25519:<base64>`")]
    NotSecretKey,
}

/// The public half of a school's key: what a page pins and what a manifest names as its signer. Kept as
/// its 32 bytes: the curve point is decoded only to check a signature ([`PublicKey::verify`]), so that a
/// browser checking with WebCrypto carries no curve arithmetic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

/// The secret half, used only by `cartable pack`. Its seed is wiped from memory on drop.
pub struct SecretKey(SigningKey);

/// An Ed25519 signature over some canonical bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature(ed25519_dalek::Signature);

impl SecretKey {
    /// The key derived from 32 random bytes the caller drew from the operating system.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(&seed))
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message`; [`PublicKey::verify`] accepts the result for the same bytes only.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message))
    }

    /// The content of a secret key file: one line, `cartable-secret-key ed25519:<base64 seed>`.
    pub fn to_file_text(&self) -> String {
        format!("{SECRET_TAG} {PUBLIC_PREFIX}{}\n", BASE64.encode(self.0.to_bytes()))
    }

    /// Reads the content of a secret key file written by [`SecretKey::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<SecretKey, KeyError> {
        let mut words = text.split_whitespace();
        let (Some(SECRET_TAG), Some(encoded), None) = (words.next(), words.next(), words.next()) else {
            return Err(KeyError::NotSecretKey);
        };
        let seed = decode_32(encoded).ok_or(KeyError::NotSecretKey)?;
        Ok(SecretKey::from_seed(seed))
    }
}

impl PublicKey {
    /// True when `signature` was made over exactly `message` by this key's secret half.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        VerifyingKey::from_bytes(&self.0).is_ok_and(|key| key.verify(message, &signature.0).is_ok())
    }

    /// The key's 32 bytes, as WebCrypto imports a raw Ed25519 key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl Signature {
    /// The signature's 64 bytes, as WebCrypto checks them.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }
}

/// A checker of Ed25519 signatures. [`Dalek`] checks them in Rust (the tool, tests, and browsers whose
/// WebCrypto has no Ed25519); the browser app asks WebCrypto first.
pub trait SignatureCheck {
    /// Whether `signature` was made over `message` by `key`; `None` when it cannot be checked now.
    fn check<'a>(
        &'a self,
        key: PublicKey,
        message: &'a [u8],
        signature: Signature,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + 'a>>;
}

/// Checks signatures with ed25519-dalek ([`PublicKey::verify`]).
pub struct Dalek;

impl SignatureCheck for Dalek {
    fn check<'a>(
        &'a self,
        key: PublicKey,
        message: &'a [u8],
        signature: Signature,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + 'a>> {
        let verified = key.verify(message, &signature);
        Box::pin(async move { Some(verified) })
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", BASE64.encode(self.0))
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl std::str::FromStr for PublicKey {
    type Err = KeyError;

    /// Reads `ed25519:<base64>`, surrounding white space allowed (a key file ends with a newline).
    fn from_str(text: &str) -> Result<PublicKey, KeyError> {
        decode_32(text.trim()).map(PublicKey).ok_or(KeyError::NotPublicKey)
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&BASE64.encode(self.0.to_bytes()))
    }
}

impl std::str::FromStr for Signature {
    type Err = ();

    fn from_str(text: &str) -> Result<Signature, ()> {
        let bytes: [u8; 64] = BASE64.decode(text).map_err(drop)?.try_into().map_err(drop)?;
        Ok(Signature(ed25519_dalek::Signature::from_bytes(&bytes)))
    }
}

fn decode_32(text: &str) -> Option<[u8; 32]> {
    let encoded = text.strip_prefix(PUBLIC_PREFIX)?;
    BASE64.decode(encoded).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_file_round_trips_and_signs() {
        let key = SecretKey::from_seed([7; 32]);
        let again = SecretKey::from_file_text(&key.to_file_text()).unwrap();
        assert_eq!(again.public(), key.public());
        let signature = again.sign(b"manifest");
        assert!(key.public().verify(b"manifest", &signature));
        assert!(!key.public().verify(b"manifesT", &signature));
        assert!(!SecretKey::from_seed([8; 32]).public().verify(b"manifest", &signature));
        let check = |key: PublicKey, message: &[u8]| futures::executor::block_on(Dalek.check(key, message, signature));
        assert_eq!(check(key.public(), b"manifest"), Some(true));
        assert_eq!(check(key.public(), b"manifesT"), Some(false));
    }

    #[test]
    fn public_key_text_round_trips() {
        let public = SecretKey::from_seed([1; 32]).public();
        let text = format!("{public}\n");
        assert!(text.starts_with("ed25519:"));
        assert_eq!(text.parse::<PublicKey>(), Ok(public));
    }

    #[test]
    fn wrong_key_files_are_refused() {
        let public = SecretKey::from_seed([1; 32]).public().to_string();
        assert_eq!(SecretKey::from_file_text(&public).err(), Some(KeyError::NotSecretKey));
        assert_eq!(SecretKey::from_file_text("").err(), Some(KeyError::NotSecretKey));
        assert_eq!(SecretKey::from_file_text("cartable-secret-key ed25519:AAAA").err(), Some(KeyError::NotSecretKey));
        let secret = SecretKey::from_seed([1; 32]).to_file_text();
        assert_eq!(secret.parse::<PublicKey>(), Err(KeyError::NotPublicKey));
        assert_eq!("ed25519:".parse::<PublicKey>(), Err(KeyError::NotPublicKey));
    }
}
