//! The encrypted file format (`NAME.sm4`), version 1. All integers are
//! single bytes; the layout is fixed:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `RECONSM4` (ASCII) |
//! | 8 | 1 | format version, `1` |
//! | 9 | 12 | GCM nonce, fresh from the OS random source for every file |
//! | 21 | 8 | key id: the first 8 bytes of SHA-256 of the raw key |
//! | 29 | n | SM4-GCM ciphertext of the n plain bytes |
//! | 29 + n | 16 | GCM authentication tag |
//!
//! The 29 header bytes are the GCM associated data, so changing any byte of
//! the file (header, ciphertext or tag) makes authentication fail. Opening
//! returns plain bytes only after the tag has been verified.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, AeadInOut, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use sm4::Sm4;
use thiserror::Error;

use super::key::{Sm4Key, KEY_ID_LEN};
use crate::digest::hex;

/// SM4 in GCM with a 96-bit nonce and a 128-bit tag (as in RFC 8998).
pub type Sm4Gcm = AesGcm<Sm4, U12>;

/// The first bytes of every encrypted file.
pub const MAGIC: &[u8; 8] = b"RECONSM4";
/// The format version written.
pub const VERSION: u8 = 1;
/// Bytes in the GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes in the header (magic, version, nonce, key id).
pub const HEADER_LEN: usize = MAGIC.len() + 1 + NONCE_LEN + KEY_ID_LEN;
/// Bytes in the authentication tag.
pub const TAG_LEN: usize = 16;
/// The extension added to encrypted files' names.
pub const EXTENSION: &str = "sm4";

/// Why a file could not be encrypted.
#[derive(Debug, Error)]
pub enum SealError {
    /// The operating system's random source failed.
    #[error("cannot draw a nonce from the operating system's random source: {0}")]
    Random(getrandom::Error),
    /// The file is beyond GCM's limit for one message (64 GiB).
    #[error("too large to encrypt as one SM4-GCM message")]
    TooLarge,
}

/// Why an encrypted file was not decrypted. Each means no plain byte was released.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum OpenError {
    /// Too short for a header and a tag.
    #[error("authentication failed: {0} bytes is too short for a recon SM4 file (at least {min}); it is truncated or not an encrypted result", min = HEADER_LEN + TAG_LEN)]
    Truncated(usize),
    /// The magic is missing.
    #[error("authentication failed: no RECONSM4 header; not written by `recon run --encrypt-key-file`, or its first bytes were changed")]
    NotSealed,
    /// The version byte is not one this build reads.
    #[error("authentication failed: format version {0} is unknown (this recon reads version {VERSION}); the header was changed, or a newer recon wrote the file")]
    UnknownVersion(u8),
    /// The tag did not verify and the key ids differ.
    #[error("authentication failed: the file names key id {file_key}, the key file holds key id {given_key}; wrong key, or the header was changed")]
    WrongKey {
        /// The key id in the file's header.
        file_key: String,
        /// The id of the key that was tried.
        given_key: String,
    },
    /// The tag did not verify with the right key.
    #[error("authentication failed: the file was changed or damaged after it was written (its key id {0} matches the key)")]
    Tampered(String),
}

/// Encrypts `plain` into the version 1 format under `key`.
pub fn seal(key: &Sm4Key, plain: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut sealed = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
    sealed.resize(HEADER_LEN, 0);
    sealed.extend_from_slice(plain);
    seal_in_place(key, &mut sealed)?;
    Ok(sealed)
}

/// Like `seal`, without a second copy of a large file: `buffer` holds
/// `HEADER_LEN` bytes of room, then the plain bytes; it becomes the version 1
/// file (header, ciphertext, tag).
pub fn seal_in_place(key: &Sm4Key, buffer: &mut Vec<u8>) -> Result<(), SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(SealError::Random)?;
    let header = header(&nonce, &key.id());
    let (head, body) = buffer.split_at_mut(HEADER_LEN);
    head.copy_from_slice(&header);
    let tag = cipher(key)
        .encrypt_inout_detached(&Nonce::from(nonce), &header, body.into())
        .map_err(|_| SealError::TooLarge)?;
    buffer.extend_from_slice(&tag);
    Ok(())
}

/// Verifies and decrypts a file written by `seal`.
pub fn open(key: &Sm4Key, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(OpenError::Truncated(sealed.len()));
    }
    let (header, body) = sealed.split_at(HEADER_LEN);
    if !header.starts_with(MAGIC) {
        return Err(OpenError::NotSealed);
    }
    let version = header[MAGIC.len()];
    if version != VERSION {
        return Err(OpenError::UnknownVersion(version));
    }
    let nonce_at = MAGIC.len() + 1;
    let nonce: [u8; NONCE_LEN] = header[nonce_at..nonce_at + NONCE_LEN]
        .try_into()
        .expect("fixed layout");
    let file_key = &header[nonce_at + NONCE_LEN..];
    cipher(key)
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: header,
            },
        )
        .map_err(|_| {
            if file_key == key.id() {
                OpenError::Tampered(key.id_hex())
            } else {
                OpenError::WrongKey {
                    file_key: hex(file_key),
                    given_key: key.id_hex(),
                }
            }
        })
}

fn header(nonce: &[u8; NONCE_LEN], key_id: &[u8; KEY_ID_LEN]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..MAGIC.len()].copy_from_slice(MAGIC);
    header[MAGIC.len()] = VERSION;
    header[MAGIC.len() + 1..MAGIC.len() + 1 + NONCE_LEN].copy_from_slice(nonce);
    header[MAGIC.len() + 1 + NONCE_LEN..].copy_from_slice(key_id);
    header
}

fn cipher(key: &Sm4Key) -> Sm4Gcm {
    Sm4Gcm::new(&(*key.bytes()).into())
}

#[cfg(test)]
mod tests {
    use sm4::cipher::{BlockCipherDecrypt, BlockCipherEncrypt};

    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn standard_key() -> [u8; 16] {
        unhex("0123456789abcdeffedcba9876543210").try_into().unwrap()
    }

    /// GB/T 32907-2016, appendix A, example 1: one block, key = plaintext.
    #[test]
    fn sm4_block_matches_gbt_32907_example_1() {
        let key = standard_key();
        let sm4 = Sm4::new(&key.into());
        let mut block = key.into();
        sm4.encrypt_block(&mut block);
        assert_eq!(block.as_slice(), unhex("681edf34d206965e86b3e94f536e4246"));
        sm4.decrypt_block(&mut block);
        assert_eq!(block.as_slice(), key);
    }

    /// GB/T 32907-2016, appendix A, example 2: the same block encrypted 1,000,000 times.
    #[test]
    fn sm4_block_matches_gbt_32907_example_2() {
        let key = standard_key();
        let sm4 = Sm4::new(&key.into());
        let mut block = key.into();
        for _ in 0..1_000_000 {
            sm4.encrypt_block(&mut block);
        }
        assert_eq!(block.as_slice(), unhex("595298c7c6fd271f0402f804c33d3f66"));
    }

    /// RFC 8998 appendix A.1: `AesGcm<Sm4, U12>` is SM4-GCM as other
    /// implementations (GmSSL, Tongsuo, nettle) compute it.
    #[test]
    fn sm4_gcm_matches_rfc_8998_a1() {
        let gcm = Sm4Gcm::new(&standard_key().into());
        let nonce: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
        let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plain = unhex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let expected = unhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
             D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D
             83DE3541E4C2B58177E065A9BF7B62EC",
        );
        let payload = Payload {
            msg: &plain,
            aad: &aad,
        };
        let sealed = gcm.encrypt(&Nonce::from(nonce), payload).unwrap();
        assert_eq!(sealed, expected);
        let payload = Payload {
            msg: &sealed,
            aad: &aad,
        };
        assert_eq!(gcm.decrypt(&Nonce::from(nonce), payload).unwrap(), plain);
    }

    #[test]
    fn header_layout_and_round_trip() {
        let key = Sm4Key::from_bytes(standard_key());
        let sealed = seal(&key, b"side,line\nledger,2\n").unwrap();
        assert_eq!(sealed.len(), HEADER_LEN + 19 + TAG_LEN);
        assert_eq!(&sealed[..8], b"RECONSM4");
        assert_eq!(sealed[8], 1);
        assert_eq!(&sealed[21..29], key.id());
        assert_eq!(open(&key, &sealed).unwrap(), b"side,line\nledger,2\n");
        let empty = seal(&key, b"").unwrap();
        assert_eq!(open(&key, &empty).unwrap(), b"");
    }

    #[test]
    fn every_changed_byte_fails_authentication() {
        let key = Sm4Key::from_bytes(standard_key());
        let sealed = seal(&key, b"ledger,2,P001,100.00\n").unwrap();
        for at in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[at] ^= 0x01;
            let err = open(&key, &changed).unwrap_err();
            assert!(
                err.to_string().starts_with("authentication failed"),
                "{at}: {err}"
            );
        }
        assert_eq!(
            open(&key, &sealed[..sealed.len() - 1]).unwrap_err(),
            OpenError::Tampered(key.id_hex())
        );
        assert_eq!(open(&key, &sealed[..40]).unwrap_err(), OpenError::Truncated(40));
    }

    #[test]
    fn another_key_is_named_as_the_wrong_key() {
        let key = Sm4Key::from_bytes(standard_key());
        let other = Sm4Key::from_bytes([7u8; 16]);
        let sealed = seal(&key, b"x").unwrap();
        assert_eq!(
            open(&other, &sealed).unwrap_err(),
            OpenError::WrongKey {
                file_key: key.id_hex(),
                given_key: other.id_hex(),
            }
        );
    }

    #[test]
    fn nonces_differ_between_files() {
        let key = Sm4Key::from_bytes(standard_key());
        let a = seal(&key, b"same").unwrap();
        let b = seal(&key, b"same").unwrap();
        assert_ne!(a[9..21], b[9..21]);
    }
}
