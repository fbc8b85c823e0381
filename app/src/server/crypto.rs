//! The installation's secret key and the random tokens handed to browsers.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from configuration or the key file. It encrypts Procore tokens at rest,
/// so losing it means re-authorizing every data source.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SecretKey(bytes)
    }

    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "must be base64 (as written by Trestle to the key file)".to_string())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must decode to exactly 32 bytes".to_string())?;
        Ok(SecretKey(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads the key file, or creates it (mode 0600) on first run. `create_new` makes two
    /// servers starting at once agree on one key instead of overwriting each other's.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        let describe = |e: std::io::Error| format!("{}: {e}", path.display());
        loop {
            match std::fs::read_to_string(path) {
                Ok(text) if !text.trim().is_empty() => {
                    return Self::from_base64(&text)
                        .map_err(|m| format!("{}: {m}", path.display()));
                }
                // A file being written right now by another server: wait for its content.
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).map_err(describe)?;
                    }
                    let key = Self::generate();
                    let mut options = std::fs::OpenOptions::new();
                    options.write(true).create_new(true);
                    #[cfg(unix)]
                    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                    match options.open(path) {
                        Ok(mut file) => {
                            file.write_all(key.to_base64().as_bytes())
                                .map_err(describe)?;
                            file.sync_all().map_err(describe)?;
                            return Ok(key);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(describe(e)),
                    }
                }
                Err(e) => return Err(describe(e)),
            }
        }
    }
}

/// Seals values stored at rest (Procore tokens) with XChaCha20-Poly1305. Each sealed value
/// is bound to the key it is stored under, so a copy moved to another record fails to open.
#[derive(Clone)]
pub struct TokenCipher(XChaCha20Poly1305);

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(***)")
    }
}

/// Says only that opening failed: which check failed would help nobody but an attacker.
#[derive(Debug, thiserror::Error)]
#[error("sealed value cannot be opened with this key")]
pub struct OpenError;

impl TokenCipher {
    /// The label keeps this key apart from anything else derived from the secret key, which
    /// also signs and derives other values; a new purpose takes a new label.
    const DOMAIN: &'static [u8] = b"trestle/token-cipher/v1";
    const NONCE_LEN: usize = 24;

    pub fn new(secret: &SecretKey) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(Self::DOMAIN);
        hasher.update(secret.bytes());
        let key = hasher.finalize();
        TokenCipher(XChaCha20Poly1305::new(&key))
    }

    /// Base64 of nonce and ciphertext. The nonce is random: 24 bytes make a collision
    /// negligible however many values one key seals.
    pub fn encrypt(&self, key: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; Self::NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: key.as_bytes(),
                },
            )
            // Only fails for inputs beyond 256 GiB.
            .expect("plaintext within XChaCha20-Poly1305 limits");
        let mut out = Vec::with_capacity(Self::NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, key: &str, text: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = STANDARD.decode(text).map_err(|_| OpenError)?;
        if bytes.len() < Self::NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, sealed) = bytes.split_at(Self::NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| OpenError)
    }
}

/// An unguessable token for a cookie or link (256 bits, URL-safe).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored only as this hash, so a copy of the database opens no sessions.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A password for a person to type once and then change.
pub fn one_time_password() -> String {
    // No look-alike characters: it is read off a log or a screen and typed by hand.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        let second = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(first.bytes(), second.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "not base64!").unwrap();
        let err = SecretKey::load_or_create(&path).unwrap_err();
        assert!(err.contains("secret.key"), "{err}");
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        let otp = one_time_password();
        assert_eq!(otp.len(), 16);
        assert!(
            otp.chars()
                .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c))
        );
    }

    #[test]
    fn sealed_values_open_only_under_their_key() {
        let cipher = TokenCipher::new(&SecretKey::generate());
        let sealed = cipher.encrypt("ds-1", b"access and refresh");
        assert_eq!(
            cipher.decrypt("ds-1", &sealed).unwrap(),
            b"access and refresh"
        );
        assert!(cipher.decrypt("ds-2", &sealed).is_err(), "bound to its key");
        assert!(
            TokenCipher::new(&SecretKey::generate())
                .decrypt("ds-1", &sealed)
                .is_err(),
            "another installation's key"
        );
        assert!(cipher.decrypt("ds-1", "not base64!").is_err());
        assert!(
            cipher.decrypt("ds-1", "c2hvcnQ=").is_err(),
            "shorter than a nonce"
        );
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let cipher = TokenCipher::new(&SecretKey::generate());
        let sealed = STANDARD.decode(cipher.encrypt("ds", b"tokens")).unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(
                cipher.decrypt("ds", &STANDARD.encode(&tampered)).is_err(),
                "byte {i}"
            );
        }
    }

    #[test]
    fn each_seal_uses_a_new_nonce() {
        let cipher = TokenCipher::new(&SecretKey::generate());
        let a = cipher.encrypt("ds", b"same");
        let b = cipher.encrypt("ds", b"same");
        assert_ne!(a, b);
        assert_ne!(
            STANDARD.decode(&a).unwrap()[..24],
            STANDARD.decode(&b).unwrap()[..24]
        );
    }

    #[test]
    fn the_cipher_key_is_not_the_secret_key() {
        let secret = SecretKey::generate();
        let sealed = STANDARD
            .decode(TokenCipher::new(&secret).encrypt("ds", b"tokens"))
            .unwrap();
        let (nonce, body) = sealed.split_at(24);
        let raw = XChaCha20Poly1305::new(secret.bytes().into());
        let opened = raw.decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: b"ds",
            },
        );
        assert!(opened.is_err());
    }
}
