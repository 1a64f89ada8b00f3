//! Turning a file's bytes into text: binary files are refused by their magic
//! bytes, then the encoding is decided by BOM, UTF-16 byte pattern, strict
//! UTF-8 validity, and finally chardetng (GBK/GB18030, Big5, …). Decoding is
//! strict: the first invalid byte is reported with its line and column,
//! never replaced by U+FFFD.

use std::fmt;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use thiserror::Error;

/// How much of the file chardetng sees.
const DETECT_PREFIX: usize = 1 << 20;

/// Which encoding to use.
#[derive(Debug, Clone, Copy)]
pub enum EncodingChoice {
    /// Detect it.
    Auto,
    /// Use this one.
    Fixed(&'static Encoding),
}

/// How the encoding was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// A byte-order mark.
    Bom,
    /// The bytes are valid UTF-8.
    ValidUtf8,
    /// NUL bytes in alternating positions: UTF-16 without BOM.
    Utf16Pattern,
    /// chardetng's guess.
    Guessed {
        /// Whether chardetng was confident.
        confident: bool,
    },
    /// Set by the rule file or command line.
    Explicit,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Detection::Bom => "byte-order mark",
            Detection::ValidUtf8 => "valid UTF-8",
            Detection::Utf16Pattern => "UTF-16 byte pattern without BOM",
            Detection::Guessed { confident: true } => "not UTF-8; guessed by chardetng (confident)",
            Detection::Guessed { confident: false } => {
                "not UTF-8; guessed by chardetng (not confident: consider setting the encoding)"
            }
            Detection::Explicit => "set explicitly",
        })
    }
}

/// Decoded text and how it was decoded.
#[derive(Debug)]
pub struct Decoded {
    /// The text, without BOM.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// How it was decided.
    pub detection: Detection,
}

/// Why bytes could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EncodingError {
    /// Not a text file.
    #[error(
        "this is a {kind}, not a text statement: export the statement as CSV (or TXT) and check that file"
    )]
    Binary {
        /// What it looks like.
        kind: &'static str,
    },
    /// A NUL byte in a file that is not UTF-16.
    #[error("NUL byte (byte {offset} of the file): text statements contain none; the file is binary, truncated or UTF-16 without a recognisable pattern (set --encoding utf-16le)")]
    NulByte {
        /// 1-based line.
        line: u64,
        /// 1-based byte in the line.
        column: u64,
        /// 0-based byte offset in the file.
        offset: usize,
    },
    /// An invalid byte sequence.
    #[error("{}", malformed_message(.encoding, *.offset, *.mixed))]
    Malformed {
        /// The encoding being decoded.
        encoding: &'static str,
        /// 1-based line.
        line: u64,
        /// 1-based byte in the line.
        column: u64,
        /// 0-based byte offset in the file.
        offset: usize,
        /// Valid UTF-8 (with non-ASCII text) up to this byte: mixed encodings.
        mixed: bool,
    },
    /// An encoding label nobody knows.
    #[error("unknown encoding \"{0}\" (use e.g. utf-8, gbk, gb18030, big5, utf-16le, utf-16be)")]
    UnknownLabel(String),
}

fn malformed_message(encoding: &str, offset: usize, mixed: bool) -> String {
    if mixed {
        format!(
            "valid UTF-8 up to here (byte {offset}), then a byte that is not: the file mixes encodings (e.g. a GBK trailer appended to a UTF-8 body); re-export it in one encoding or set --encoding"
        )
    } else {
        format!(
            "byte {offset} is not valid {encoding} (or a multi-byte character is cut off): the file is damaged or in another encoding; set --encoding if you know it"
        )
    }
}

/// Parses an encoding label such as `gbk`, `GB18030`, `utf-16le`.
pub fn encoding_from_label(label: &str) -> Result<&'static Encoding, EncodingError> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| EncodingError::UnknownLabel(label.to_string()))
}

/// Decodes `bytes` with the chosen or detected encoding.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<Decoded, EncodingError> {
    if let Some(kind) = binary_kind(bytes) {
        return Err(EncodingError::Binary { kind });
    }
    if let EncodingChoice::Fixed(encoding) = choice {
        let body = match Encoding::for_bom(bytes) {
            Some((bom, len)) if bom == encoding => &bytes[len..],
            _ => bytes,
        };
        return strict(bytes, body, encoding, Detection::Explicit);
    }
    if let Some((encoding, len)) = Encoding::for_bom(bytes) {
        return strict(bytes, &bytes[len..], encoding, Detection::Bom);
    }
    if let Some(encoding) = utf16_pattern(bytes) {
        return strict(bytes, bytes, encoding, Detection::Utf16Pattern);
    }
    if let Some(offset) = memchr_nul(bytes) {
        let (line, column) = line_column(bytes, offset);
        return Err(EncodingError::NulByte { line, column, offset });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8,
            detection: Detection::ValidUtf8,
        }),
        Err(e) if !bytes[..e.valid_up_to()].is_ascii() => {
            let offset = e.valid_up_to();
            let (line, column) = line_column(bytes, offset);
            Err(EncodingError::Malformed {
                encoding: "UTF-8",
                line,
                column,
                offset,
                mixed: true,
            })
        }
        Err(_) => {
            let (encoding, confident) = guess(bytes);
            strict(bytes, bytes, encoding, Detection::Guessed { confident })
        }
    }
}

/// Magic bytes of files people mistake for statements.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 7] = [
        (b"PK\x03\x04", "ZIP archive or .xlsx workbook"),
        (b"%PDF", "PDF document"),
        (b"\x89PNG", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "legacy .xls workbook"),
        (b"\x1F\x8B", "gzip archive"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, kind)| *kind)
}

/// UTF-16 without BOM: most odd (or even) bytes of the first 4 KiB are NUL.
fn utf16_pattern(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = sample.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd * 10 >= pairs * 7 && even * 10 <= pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 7 && odd * 10 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

/// chardetng's guess from a bounded prefix; GBK when it says GB18030's subset.
fn guess(bytes: &[u8]) -> (&'static Encoding, bool) {
    let mut detector = chardetng::EncodingDetector::new();
    let prefix = &bytes[..bytes.len().min(DETECT_PREFIX)];
    detector.feed(prefix, prefix.len() == bytes.len());
    let (encoding, confident) = detector.guess_assess(None, false);
    (encoding, confident)
}

/// Decodes `body` without replacement; on failure reports the first bad byte
/// (as an offset into the whole file `all`).
fn strict(
    all: &[u8],
    body: &[u8],
    encoding: &'static Encoding,
    detection: Detection,
) -> Result<Decoded, EncodingError> {
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(body) {
        return Ok(Decoded {
            text: text.into_owned(),
            encoding,
            detection,
        });
    }
    let bom_len = all.len() - body.len();
    let offset = bom_len + first_malformed(body, encoding);
    let (line, column) = line_column(all, offset);
    Err(EncodingError::Malformed {
        encoding: encoding.name(),
        line,
        column,
        offset,
        mixed: false,
    })
}

/// Offset of the first malformed sequence in `body`.
fn first_malformed(body: &[u8], encoding: &'static Encoding) -> usize {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len().min(1 << 16) * 3 + 16);
    let mut read_total = 0;
    loop {
        out.clear();
        let (result, read) =
            decoder.decode_to_string_without_replacement(&body[read_total..], &mut out, true);
        read_total += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return read_total,
            encoding_rs::DecoderResult::OutputFull => continue,
            encoding_rs::DecoderResult::Malformed(bad, pending) => {
                return read_total.saturating_sub(usize::from(bad) + usize::from(pending));
            }
        }
    }
}

/// 1-based line and byte column of `offset`.
fn line_column(bytes: &[u8], offset: usize) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    (line, (offset - line_start) as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{BIG5, GBK};

    fn gbk(text: &str) -> Vec<u8> {
        GBK.encode(text).0.into_owned()
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let d = decode(b"\xEF\xBB\xBFa,b\n", EncodingChoice::Auto).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding, d.detection),
            ("a,b\n", UTF_8, Detection::Bom)
        );
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("金额,1\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = decode(&le, EncodingChoice::Auto).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("金额,1\n", UTF_16LE));
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a,b\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be, EncodingChoice::Auto).unwrap().encoding, UTF_16BE);
        let bare: Vec<u8> = "date,amount\n2026-11-24,1.00\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let d = decode(&bare, EncodingChoice::Auto).unwrap();
        assert_eq!((d.encoding, d.detection), (UTF_16LE, Detection::Utf16Pattern));
        assert_eq!(d.text, "date,amount\n2026-11-24,1.00\n");
    }

    #[test]
    fn ascii_is_utf8_and_gbk_is_guessed() {
        assert_eq!(
            decode(b"a,b\n1,2\n", EncodingChoice::Auto).unwrap().detection,
            Detection::ValidUtf8
        );
        let bytes = gbk("交易时间,交易对方,金额\n2023-02-12 21:32:14,亲友代付,49.74\n2023-02-08 14:16:52,日用百货,20.00\n");
        let d = decode(&bytes, EncodingChoice::Auto).unwrap();
        assert_eq!(d.encoding, GBK);
        assert!(matches!(d.detection, Detection::Guessed { .. }));
        assert!(d.text.contains("亲友代付"));
    }

    #[test]
    fn truncated_gbk_sequence_at_end_is_located() {
        let mut bytes = gbk("金额,备注\n1.00,水费\n");
        bytes.push(0xB0); // first byte of a two-byte character, then EOF
        let err = decode(&bytes, EncodingChoice::Fixed(GBK)).unwrap_err();
        let offset = bytes.len() - 1;
        assert_eq!(
            err,
            EncodingError::Malformed {
                encoding: "GBK",
                line: 3,
                column: 1,
                offset,
                mixed: false
            }
        );
    }

    #[test]
    fn utf8_body_with_gbk_trailer_is_mixed() {
        let mut bytes = "交易时间,金额\n2026-11-24,1.00\n".as_bytes().to_vec();
        bytes.extend(gbk("合计,1.00\n"));
        let err = decode(&bytes, EncodingChoice::Auto).unwrap_err();
        let EncodingError::Malformed {
            line, column, mixed, ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((line, column, mixed), (3, 1, true));
        assert!(err.to_string().contains("mixes encodings"));
    }

    #[test]
    fn nul_byte_is_located() {
        let err = decode(b"a,b\n1,\x002\n", EncodingChoice::Auto).unwrap_err();
        assert_eq!(
            err,
            EncodingError::NulByte {
                line: 2,
                column: 3,
                offset: 6
            }
        );
    }

    #[test]
    fn binary_files_are_named() {
        for (bytes, kind) in [
            (&b"PK\x03\x04rest"[..], "ZIP archive or .xlsx workbook"),
            (b"%PDF-1.7", "PDF document"),
            (b"\x89PNG\r\n", "PNG image"),
            (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "legacy .xls workbook"),
        ] {
            assert_eq!(
                decode(bytes, EncodingChoice::Auto).unwrap_err(),
                EncodingError::Binary { kind }
            );
        }
    }

    #[test]
    fn explicit_encodings() {
        let bytes = gbk("户名,金额\n张三,1.00\n");
        let d = decode(&bytes, EncodingChoice::Fixed(GBK)).unwrap();
        assert_eq!(
            (d.text.as_str(), d.detection),
            ("户名,金额\n张三,1.00\n", Detection::Explicit)
        );
        let err = decode(&bytes, EncodingChoice::Fixed(UTF_8)).unwrap_err();
        assert!(
            matches!(
                err,
                EncodingError::Malformed {
                    encoding: "UTF-8",
                    line: 1,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(encoding_from_label("gbk").unwrap(), GBK);
        assert_eq!(encoding_from_label("GB18030").unwrap().name(), "gb18030");
        assert!(matches!(
            encoding_from_label("nonsense"),
            Err(EncodingError::UnknownLabel(_))
        ));
    }

    #[test]
    fn big5_is_guessed() {
        let text =
            "交易日期,摘要,金額\n2026-11-24,臺灣銀行轉帳繳費,1.00\n2026-11-25,電費繳納與水費帳單處理,2.00\n";
        let bytes = BIG5.encode(text).0.into_owned();
        let d = decode(&bytes, EncodingChoice::Auto).unwrap();
        assert_eq!(d.encoding, BIG5);
    }
}
