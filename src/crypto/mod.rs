//! Results at rest under SM4-GCM (国密 SM4 in Galois/Counter Mode): the key
//! file (`key`: reading, checking, generating, key id) and the encrypted file
//! format (`sealed`: header, encrypt, authenticate and decrypt). The cipher
//! itself comes from RustCrypto: `sm4::Sm4` plugged into the generic GCM of
//! the `aes-gcm` crate; nothing here implements a cipher. Which files get
//! encrypted is decided where results are published (`output::atomic`).

pub mod key;
pub mod sealed;

pub use key::{KeyError, Sm4Key};
pub use sealed::{open, seal, OpenError, SealError};
