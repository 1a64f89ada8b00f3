//! Turning the raw bytes of a statement export into text: rejecting binary
//! files (PDFs, images, archives; workbooks are read by `excel` instead), recognising byte-order marks and
//! BOM-less UTF-16, telling UTF-8 from legacy encodings (GBK/GB18030, Big5, …)
//! with chardetng, and decoding strictly in one pass. Nothing is ever replaced
//! with U+FFFD: the first undecodable byte is reported with its line, column
//! and byte offset so the user can fix the file or name its encoding.

use std::borrow::Cow;
use std::fmt;

use chardetng::EncodingDetector;
use encoding_rs::{DecoderResult, Encoding, BIG5, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};
use rayon::prelude::*;

/// How many bytes, starting at the first non-ASCII byte, chardetng may see.
const DETECT_WINDOW: usize = 1 << 20;
/// Below this many non-ASCII bytes, chardetng's guess leans to GBK.
const LEAN_GBK_BELOW: usize = 64;
/// How many leading bytes are inspected for the BOM-less UTF-16 pattern.
const UTF16_SAMPLE: usize = 4096;
/// A valid-UTF-8 prefix with at least this many multi-byte sequences is UTF-8
/// for sure, even if it holds no complete line.
const UTF8_EVIDENCE_SEQUENCES: usize = 8;

/// Labels shown when the user names an encoding we do not know.
const COMMON_LABELS: &str = "utf-8, gbk, gb18030, big5, utf-16le, utf-16be, shift_jis, euc-kr, \
                             windows-1252";

/// Magic numbers of file types that are clearly not text, with what to say.
const MAGIC: &[(&[u8], &str)] = &[
    (
        b"PK\x03\x04",
        "ZIP archive (not an .xlsx workbook): unpack it first",
    ),
    (
        b"PK\x05\x06",
        "ZIP archive (not an .xlsx workbook): unpack it first",
    ),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "legacy Office document (OLE compound file): save it as CSV or .xlsx",
    ),
    (b"%PDF", "PDF document: download the statement as CSV instead"),
    (
        b"\x89PNG\r\n\x1A\n",
        "PNG image: export the statement as CSV instead",
    ),
    (b"\xFF\xD8\xFF", "JPEG image: export the statement as CSV instead"),
    (b"GIF87a", "GIF image: export the statement as CSV instead"),
    (b"GIF89a", "GIF image: export the statement as CSV instead"),
    (b"\x1F\x8B", "gzip archive: unpack it first"),
];

/// Which encoding to decode with: detect it, or use the one the user named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    /// Detect: BOM, then UTF-16 pattern, then UTF-8, then chardetng.
    #[default]
    Auto,
    /// Decode with this encoding (a matching BOM is still stripped).
    Fixed(&'static Encoding),
}

/// How the encoding of a decoded file was determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// A byte-order mark at the start of the file.
    Bom,
    /// The whole file is valid UTF-8 (pure ASCII included).
    ValidUtf8,
    /// NUL bytes at every other position: UTF-16 without a BOM.
    Utf16Pattern,
    /// chardetng's guess; `confident` is its own assessment.
    Guessed {
        /// Whether chardetng scored this encoding above another candidate.
        confident: bool,
    },
    /// Named by the user (`--encoding`).
    Explicit,
    /// Not decoded: the file is a workbook whose cells are Unicode text.
    Workbook,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Detection::Bom => "byte-order mark",
            Detection::ValidUtf8 => "valid UTF-8",
            Detection::Utf16Pattern => "UTF-16 byte pattern without BOM",
            Detection::Guessed { confident: true } => "guessed by chardetng (confident)",
            Detection::Guessed { confident: false } => "guessed by chardetng (not confident)",
            Detection::Explicit => "set explicitly",
            Detection::Workbook => "workbook cells",
        })
    }
}

/// A file decoded to text, with how its encoding was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'b> {
    /// The decoded text, without the byte-order mark: the file's own bytes
    /// when they are UTF-8 (no copy), else a new string.
    pub text: Cow<'b, str>,
    /// The encoding the bytes were decoded with.
    pub encoding: &'static Encoding,
    /// How that encoding was determined.
    pub detection: Detection,
    /// Whether the file started with a byte-order mark (now removed).
    pub had_bom: bool,
}

/// Why a file could not be turned into text. The message leaves the line and
/// column to the caller, who puts them after the file name. Positions: `line` and `column`
/// are 1-based (`column` counts bytes within the line), `offset` is the
/// 0-based byte offset from the start of the file (BOM included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// The file is a known binary format, not text.
    #[error("not a text file, looks like a {kind}")]
    Binary {
        /// What the file looks like, with what to do about it.
        kind: &'static str,
    },
    /// A NUL byte in a file that is not UTF-16.
    #[error(
        "NUL byte (byte offset {offset}); text files contain none, so the file is damaged or \
         not a text export: export the statement as CSV again"
    )]
    NulByte {
        /// 1-based line of the NUL byte.
        line: usize,
        /// 1-based byte column of the NUL byte within its line.
        column: usize,
        /// 0-based byte offset of the NUL byte in the file.
        offset: usize,
    },
    /// The first byte sequence that is invalid in the encoding used.
    #[error("{} (byte offset {offset})", malformed_advice(.encoding, *.mixed))]
    Malformed {
        /// Name of the encoding the file was decoded with.
        encoding: &'static str,
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based byte column of the first bad byte within its line.
        column: usize,
        /// 0-based byte offset of the first bad byte in the file.
        offset: usize,
        /// The file is valid, non-ASCII UTF-8 up to the bad byte.
        mixed: bool,
    },
    /// `--encoding` named an encoding we do not know.
    #[error("unknown encoding \"{0}\": use one of {COMMON_LABELS}")]
    UnknownLabel(String),
}

/// The second half of a `Malformed` message: what went wrong, what to do.
fn malformed_advice(encoding: &str, mixed: bool) -> String {
    if mixed {
        return "valid UTF-8 up to here, then a byte that is not: the file mixes encodings \
                (e.g. a GBK trailer appended to a UTF-8 body); re-export it in one encoding \
                or name its encoding (--encoding, or encoding = in the rule file's side section)"
            .to_owned();
    }
    format!(
        "bytes that are not valid {encoding}: either the file is damaged here (e.g. a \
         character cut in half) or it is not in {encoding}; fix this spot, name the file's \
         real encoding (--encoding, or encoding = in the rule file's side section), or \
         re-export it"
    )
}

/// Parses a user-given label ("gbk", "GB18030", "utf-8", "utf-16le", "big5",
/// …), case-insensitively, as the WHATWG Encoding Standard defines labels.
pub fn encoding_from_label(label: &str) -> Result<&'static Encoding, EncodingError> {
    Encoding::for_label_no_replacement(label.as_bytes())
        .ok_or_else(|| EncodingError::UnknownLabel(label.to_owned()))
}

/// Decodes a whole file strictly, detecting its encoding unless one is fixed.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<Decoded<'_>, EncodingError> {
    if let Some(kind) = binary_kind(bytes) {
        return Err(EncodingError::Binary { kind });
    }
    match choice {
        EncodingChoice::Auto => decode_auto(bytes),
        EncodingChoice::Fixed(encoding) => decode_fixed(bytes, encoding),
    }
}

/// The encoding `decode` would choose for a whole file, decided on its first
/// bytes `head` (ending at a line break) for a file read in pieces, with the
/// length of the BOM to skip and how it was decided; `None` when the head
/// cannot tell for sure (the caller then reads the file whole). A UTF-8
/// guess holds only if every later piece is valid UTF-8 too, which
/// `decode_piece_strictly` checks.
pub fn decide_on_head(head: &[u8], choice: EncodingChoice) -> Option<(&'static Encoding, usize, Detection)> {
    if binary_kind(head).is_some() || memchr::memchr(0, head).is_some() {
        return None;
    }
    let bom = Encoding::for_bom(head);
    let decided = match choice {
        EncodingChoice::Fixed(encoding) => match bom {
            Some((b, len)) if b == encoding => (encoding, len, Detection::Explicit),
            _ => (encoding, 0, Detection::Explicit),
        },
        EncodingChoice::Auto => match bom {
            Some((encoding, len)) => (encoding, len, Detection::Bom),
            None if utf16_pattern(head).is_some() => return None,
            None => match std::str::from_utf8(head) {
                Ok(_) => (UTF_8, 0, Detection::ValidUtf8),
                Err(error) => {
                    let invalid = Invalid::from_utf8_error(&error);
                    let first_non_ascii = Encoding::ascii_valid_up_to(head);
                    let seen = first_non_ascii.saturating_add(DETECT_WINDOW.max(PLAUSIBILITY_WINDOW));
                    if invalid.at_eof || is_utf8_evidence(&head[..invalid.offset]) || head.len() < seen {
                        return None;
                    }
                    let mut guess = guess(head);
                    if is_chinese(guess.encoding) && !plausible_chinese(head) {
                        guess.encoding = WINDOWS_1252;
                        guess.abandoned = None;
                    }
                    if guess
                        .abandoned
                        .is_some_and(|a| !is_chinese(a) || plausible_chinese(head))
                    {
                        return None;
                    }
                    let detection = Detection::Guessed {
                        confident: guess.confident,
                    };
                    (guess.encoding, 0, detection)
                }
            },
        },
    };
    decided.0.is_ascii_compatible().then_some(decided)
}

/// A piece of a file (ending at a line break, or the file's end) decoded
/// strictly; `None` when it holds a NUL or a malformed sequence.
pub fn decode_piece_strictly<'b>(bytes: &'b [u8], encoding: &'static Encoding) -> Option<Cow<'b, str>> {
    if memchr::memchr(0, bytes).is_some() {
        return None;
    }
    decode_strict(bytes, encoding).ok()
}

/// What binary format the bytes start with, if any.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    MAGIC
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|&(_, kind)| kind)
}

/// Decodes with the user's encoding, stripping a BOM only if it matches.
fn decode_fixed<'b>(bytes: &'b [u8], encoding: &'static Encoding) -> Result<Decoded<'b>, EncodingError> {
    let bom_len = match Encoding::for_bom(bytes) {
        Some((bom_encoding, len)) if bom_encoding == encoding => len,
        _ => 0,
    };
    decode_known(bytes, bom_len, encoding, Detection::Explicit)
}

/// Detection steps for `EncodingChoice::Auto`, after the binary check.
fn decode_auto(bytes: &[u8]) -> Result<Decoded<'_>, EncodingError> {
    match decode_auto_or_defer(bytes, false)? {
        Deferred::Decoded(decoded) => Ok(decoded),
        Deferred::Legacy { .. } => unreachable!("nothing is deferred unless asked"),
    }
}

/// `decode_auto`, except that with `defer` a legacy encoding is only decided.
fn decode_auto_or_defer(bytes: &[u8], defer: bool) -> Result<Deferred<'_>, EncodingError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return decode_known(bytes, bom_len, encoding, Detection::Bom).map(Deferred::Decoded);
    }
    if let Some(encoding) = utf16_pattern(bytes) {
        return decode_known(bytes, 0, encoding, Detection::Utf16Pattern).map(Deferred::Decoded);
    }
    if !defer {
        reject_nul(bytes)?;
        return decode_nul_free(bytes, false);
    }
    // A legacy file left undecoded is not searched for a NUL here (a pass
    // over every byte): each piece is, as it is decoded
    // (`decode_piece_strictly`), and a piece that holds one sends the
    // caller back to `decode`, which refuses the file as before.
    match decode_nul_free(bytes, true) {
        Ok(deferred @ Deferred::Legacy { .. }) => Ok(deferred),
        other => {
            reject_nul(bytes)?;
            other
        }
    }
}

/// `decode_auto_or_defer` after the byte-order marks, for bytes without a NUL.
fn decode_nul_free(bytes: &[u8], defer: bool) -> Result<Deferred<'_>, EncodingError> {
    let error = match std::str::from_utf8(bytes) {
        Ok(text) => {
            let text = decoded(Cow::Borrowed(text), UTF_8, Detection::ValidUtf8, false);
            return Ok(Deferred::Decoded(text));
        }
        Err(error) => error,
    };
    let invalid = Invalid::from_utf8_error(&error);
    if is_utf8_evidence(&bytes[..invalid.offset]) {
        return Err(malformed(bytes, invalid, UTF_8, !invalid.at_eof));
    }
    decode_guessed(bytes, defer)
}

/// What `decode` makes of `bytes`, except that a file in a legacy
/// ASCII-compatible encoding (GBK, Big5, windows-1252, …) is not decoded:
/// its encoding is decided as `decode` decides it (every error `decode`
/// reports before decoding is reported, except a NUL byte, which a piece
/// refuses), for the caller to decode it piece by piece
/// (`decode_piece_strictly`, each piece ending at a line break), going back
/// to `decode` when a piece fails, for the error's position.
pub fn decode_or_defer(bytes: &[u8], choice: EncodingChoice) -> Result<Deferred<'_>, EncodingError> {
    if let Some(kind) = binary_kind(bytes) {
        return Err(EncodingError::Binary { kind });
    }
    match choice {
        EncodingChoice::Auto => decode_auto_or_defer(bytes, true),
        EncodingChoice::Fixed(encoding) if is_legacy(encoding) => {
            // No BOM names a legacy encoding; a NUL is found piece by piece.
            Ok(Deferred::Legacy {
                encoding,
                bom_len: 0,
                detection: Detection::Explicit,
            })
        }
        EncodingChoice::Fixed(encoding) => decode_fixed(bytes, encoding).map(Deferred::Decoded),
    }
}

/// A file decoded, or the legacy encoding to decode it with (`decode_or_defer`).
pub enum Deferred<'b> {
    /// Decoded whole (UTF-8 without a copy, UTF-16, …).
    Decoded(Decoded<'b>),
    /// Not decoded yet.
    Legacy {
        /// The encoding to decode with.
        encoding: &'static Encoding,
        /// Bytes of byte-order mark to skip.
        bom_len: usize,
        /// How the encoding was decided.
        detection: Detection,
    },
}

/// An ASCII-compatible encoding other than UTF-8: a line break, quote or
/// field delimiter byte is never part of a character, so the text can be
/// cut at line breaks before it is decoded.
fn is_legacy(encoding: &'static Encoding) -> bool {
    encoding != UTF_8 && encoding.is_ascii_compatible()
}

/// Decodes `bytes[bom_len..]` strictly with an encoding known beforehand.
fn decode_known<'b>(
    bytes: &'b [u8],
    bom_len: usize,
    encoding: &'static Encoding,
    detection: Detection,
) -> Result<Decoded<'b>, EncodingError> {
    if !is_utf16(encoding) {
        reject_nul(bytes)?;
    }
    let body = &bytes[bom_len..];
    let text = decode_strict(body, encoding).map_err(|invalid| {
        let mixed = encoding == UTF_8 && !invalid.at_eof && !body[..invalid.offset].is_ascii();
        malformed(bytes, invalid.shifted(bom_len), encoding, mixed)
    })?;
    Ok(decoded(text, encoding, detection, bom_len > 0))
}

/// Lets chardetng pick a legacy encoding, then decodes strictly with it.
fn decode_guessed(bytes: &[u8], defer: bool) -> Result<Deferred<'_>, EncodingError> {
    let mut guess = guess(bytes);
    if is_chinese(guess.encoding) && !plausible_chinese(bytes) {
        guess = Guess {
            encoding: WINDOWS_1252,
            confident: false,
            abandoned: None,
        };
    }
    if let Some(abandoned) = guess
        .abandoned
        .filter(|&a| !is_chinese(a) || plausible_chinese(bytes))
    {
        if let Some(invalid) = first_malformed(bytes, abandoned) {
            return Err(malformed(bytes, invalid, abandoned, false));
        }
    }
    let detection = Detection::Guessed {
        confident: guess.confident,
    };
    if defer && is_legacy(guess.encoding) {
        return Ok(Deferred::Legacy {
            encoding: guess.encoding,
            bom_len: 0,
            detection,
        });
    }
    let text = decode_strict(bytes, guess.encoding)
        .map_err(|invalid| malformed(bytes, invalid, guess.encoding, false))?;
    Ok(Deferred::Decoded(decoded(text, guess.encoding, detection, false)))
}

/// GBK and GB18030, the encodings a Latin-1 file is mistaken for.
fn is_chinese(encoding: &'static Encoding) -> bool {
    encoding == GBK || encoding == GB18030
}

/// How many bytes from the first non-ASCII byte the plausibility check reads.
const PLAUSIBILITY_WINDOW: usize = 64 << 10;

/// Whether the non-ASCII bytes read as GBK give plausible Chinese: most
/// characters in the common (GB2312) range, both bytes 0xA1 or above. A
/// Latin-1/Windows-1252 file (German `Begünstigter`, French `Opération`)
/// has lone accented letters between ASCII ones, which GBK can only read as
/// rare extension characters paired with the ASCII letter after them
/// (`ün` → 黱), or cannot read at all.
fn plausible_chinese(bytes: &[u8]) -> bool {
    let start = Encoding::ascii_valid_up_to(bytes);
    let window = &bytes[start..bytes.len().min(start.saturating_add(PLAUSIBILITY_WINDOW))];
    let (mut common, mut rare) = (0usize, 0usize);
    let mut i = 0;
    while i < window.len() {
        let lead = window[i];
        if lead < 0x80 {
            i += 1;
            continue;
        }
        match window.get(i + 1) {
            Some(&trail) if lead >= 0xA1 && trail >= 0xA1 && trail != 0xFF => common += 1,
            Some(&trail) if (0x81..=0xFE).contains(&lead) && trail >= 0x40 && trail != 0x7F => rare += 1,
            // A byte GBK cannot pair: not Chinese at all.
            _ => rare += 2,
        }
        i += 2;
    }
    common >= rare
}

/// What chardetng made of a file.
struct Guess {
    /// The final guess (never UTF-8).
    encoding: &'static Encoding,
    /// chardetng's own assessment of the final guess.
    confident: bool,
    /// A multi-byte encoding (GBK, Big5, …) guessed on the earlier lines when
    /// the final guess is a single-byte one: one bad byte (e.g. a character
    /// cut in half by a field-length limit) disqualifies GBK for good, and
    /// chardetng then falls back to windows-1252, which decodes anything.
    abandoned: Option<&'static Encoding>,
}

/// Runs chardetng (UTF-8 excluded) line by line over at most `DETECT_WINDOW`
/// bytes from the first non-ASCII byte on (the ASCII before it says nothing
/// about the encoding). It is never told the stream ended, so a character
/// cut off at the end does not disqualify the right encoding: strict
/// decoding reports it instead.
fn guess(bytes: &[u8]) -> Guess {
    let first_non_ascii = Encoding::ascii_valid_up_to(bytes);
    let start = bytes[..first_non_ascii]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes.len().min(first_non_ascii.saturating_add(DETECT_WINDOW));
    let window = &bytes[start..end];
    let lean_gbk = window.iter().filter(|&&b| b >= 0x80).count() < LEAN_GBK_BELOW;
    let mut detector = EncodingDetector::new();
    for line in window.split_inclusive(|&b| b == b'\n') {
        detector.feed(line, false);
    }
    let (encoding, confident) = chinese_first(&detector, lean_gbk);
    // Asking chardetng after every line is slow, so it is done only when the
    // final guess is single-byte, to find a multi-byte guess it gave up.
    let abandoned = if encoding.is_single_byte() {
        last_multi_byte_guess(window, lean_gbk)
    } else {
        None
    };
    Guess {
        encoding,
        confident,
        abandoned,
    }
}

/// The last multi-byte encoding guessed (as `guess` does) after any line of `window`.
fn last_multi_byte_guess(window: &[u8], lean_gbk: bool) -> Option<&'static Encoding> {
    let mut detector = EncodingDetector::new();
    let mut multi_byte = None;
    for line in window.split_inclusive(|&b| b == b'\n') {
        detector.feed(line, false);
        let (encoding, _) = chinese_first(&detector, lean_gbk);
        if !encoding.is_single_byte() {
            multi_byte = Some(encoding);
        }
    }
    multi_byte
}

/// chardetng's guess, leaning to GBK on little evidence. Statements come
/// mostly from mainland China, and on a short file (a Chinese header over
/// ASCII rows) chardetng's neutral guess is often EUC-KR or KOI8-U. So with
/// `lean_gbk` (few non-ASCII bytes), a neutral guess other than GBK or Big5
/// gives way to GBK when chardetng picks GBK for a `.cn` source; with more
/// text, chardetng's neutral guess stands (a Korean statement stays EUC-KR).
fn chinese_first(detector: &EncodingDetector, lean_gbk: bool) -> (&'static Encoding, bool) {
    let neutral = detector.guess_assess(None, false);
    if !lean_gbk || neutral.0 == GBK || neutral.0 == BIG5 {
        return neutral;
    }
    let chinese = detector.guess_assess(Some(b"cn"), false);
    if chinese.0 == GBK {
        chinese
    } else {
        neutral
    }
}

/// Whether a valid-UTF-8 prefix proves the file is UTF-8. One or two
/// multi-byte sequences do not: GBK text often starts with a character whose
/// two bytes happen to be valid UTF-8 (e.g. 时 = CA B1). A complete line after
/// the first non-ASCII byte, or many sequences, do.
fn is_utf8_evidence(prefix: &[u8]) -> bool {
    let first_non_ascii = Encoding::ascii_valid_up_to(prefix);
    let rest = &prefix[first_non_ascii..];
    !rest.is_empty() && (rest.contains(&b'\n') || count_utf8_sequences(rest) >= UTF8_EVIDENCE_SEQUENCES)
}

/// Number of multi-byte sequences in valid UTF-8 (one lead byte each).
fn count_utf8_sequences(utf8: &[u8]) -> usize {
    utf8.iter().filter(|&&b| b >= 0xC0).count()
}

/// UTF-16LE/BE when the first bytes show NULs at odd (LE) or even (BE)
/// positions only, as ASCII characters in UTF-16 do.
fn utf16_pattern(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(UTF16_SAMPLE)];
    let (mut even, mut odd) = (0, 0);
    for unit in sample.chunks_exact(2) {
        even += usize::from(unit[0] == 0);
        odd += usize::from(unit[1] == 0);
    }
    let units = sample.len() / 2;
    if is_skewed(odd, even, units) {
        Some(UTF_16LE)
    } else if is_skewed(even, odd, units) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// At least a quarter of the units have a NUL on one side, almost none on
/// the other.
fn is_skewed(many: usize, few: usize, units: usize) -> bool {
    many >= 2 && many * 4 >= units && few * 8 <= many
}

/// Rejects any NUL byte (text files other than UTF-16 have none).
fn reject_nul(bytes: &[u8]) -> Result<(), EncodingError> {
    // The exact position is only needed on error.
    if memchr::memchr(0, bytes).is_none() {
        return Ok(());
    }
    let offset = bytes.iter().position(|&b| b == 0).unwrap_or_default();
    let (line, column) = line_and_column(bytes, offset, UTF_8);
    Err(EncodingError::NulByte { line, column, offset })
}

/// Where decoding failed, relative to the decoded slice.
#[derive(Debug, Clone, Copy)]
struct Invalid {
    /// Offset of the first byte of the bad sequence.
    offset: usize,
    /// The bad sequence is an incomplete character at the end of the input.
    at_eof: bool,
}

impl Invalid {
    /// From the standard library's UTF-8 validation error.
    fn from_utf8_error(error: &std::str::Utf8Error) -> Self {
        Invalid {
            offset: error.valid_up_to(),
            at_eof: error.error_len().is_none(),
        }
    }

    /// The same position, `by` bytes further into the file (after a BOM).
    fn shifted(self, by: usize) -> Self {
        Invalid {
            offset: self.offset + by,
            ..self
        }
    }
}

/// Decodes all of `bytes` in one pass, or says where the first bad sequence is.
fn decode_strict<'b>(bytes: &'b [u8], encoding: &'static Encoding) -> Result<Cow<'b, str>, Invalid> {
    if encoding == UTF_8 {
        return std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|error| Invalid::from_utf8_error(&error));
    }
    decode_in_pieces(bytes, encoding, DECODE_PIECE).map(Cow::Owned)
}

/// Decodes a legacy encoding in pieces of about `piece_bytes`, in parallel
/// (one piece for an encoding that is not ASCII-compatible).
fn decode_in_pieces(
    bytes: &[u8],
    encoding: &'static Encoding,
    piece_bytes: usize,
) -> Result<String, Invalid> {
    let pieces = if encoding.is_ascii_compatible() {
        newline_pieces(bytes, piece_bytes)
    } else {
        std::iter::once(0..bytes.len()).collect()
    };
    if pieces.len() == 1 {
        let mut text = decode_piece(bytes, encoding)?;
        text.shrink_to_fit();
        return Ok(text);
    }
    // Decoded a wave at a time and appended, so the pieces never all sit in
    // memory beside the whole; the room reserved up front is only touched as
    // it is filled. Waves go in file order and a wave's first failing piece
    // comes first, so the error is the file's first bad sequence.
    let wave = 2 * rayon::current_num_threads();
    let room = encoding
        .new_decoder_without_bom_handling()
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len());
    let mut text = String::with_capacity(room);
    // A wave is appended while the next one decodes (appending is a copy
    // into fresh memory, on one thread).
    let mut decoded: Vec<String> = Vec::new();
    for pieces in pieces.chunks(wave) {
        let (next, ()) = rayon::join(
            || {
                pieces
                    .par_iter()
                    .map(|piece| {
                        decode_piece(&bytes[piece.clone()], encoding)
                            .map_err(|invalid| invalid.shifted(piece.start))
                    })
                    .collect::<Result<Vec<String>, _>>()
            },
            || decoded.drain(..).for_each(|piece| text.push_str(&piece)),
        );
        decoded = next?;
    }
    decoded.into_iter().for_each(|piece| text.push_str(&piece));
    Ok(text)
}

/// Bytes per piece when a legacy encoding is decoded in parallel.
const DECODE_PIECE: usize = 4 << 20;

/// Ranges of about `target` bytes, each ending after a line break (or at
/// the end). In an ASCII-compatible encoding a line break is never part of
/// a character and the decoder is back in its initial state after it, so
/// each piece decodes on its own exactly as it would within the whole.
fn newline_pieces(bytes: &[u8], target: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let from = (start + target).min(bytes.len());
        let end = memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i + 1);
        pieces.push(start..end);
        start = end;
    }
    pieces
}

/// Decodes one piece strictly.
fn decode_piece(bytes: &[u8], encoding: &'static Encoding) -> Result<String, Invalid> {
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text.into_owned()),
        // Decoding failed, so there is a malformed sequence to find.
        None => Err(first_malformed(bytes, encoding).unwrap_or(Invalid {
            offset: bytes.len(),
            at_eof: true,
        })),
    }
}

/// The first malformed sequence, if any, found by decoding into a small
/// scratch buffer (no allocation proportional to the file).
fn first_malformed(bytes: &[u8], encoding: &'static Encoding) -> Option<Invalid> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut scratch = vec![0; 64 * 1024];
    let mut read_total = 0;
    loop {
        let (result, read, _) =
            decoder.decode_to_utf8_without_replacement(&bytes[read_total..], &mut scratch, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => return None,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(bad, after) => {
                let end = read_total.saturating_sub(usize::from(after));
                return Some(Invalid {
                    offset: end.saturating_sub(usize::from(bad)),
                    at_eof: after == 0 && end == bytes.len(),
                });
            }
        }
    }
}

/// Builds the `Malformed` error for a position in the whole file.
fn malformed(bytes: &[u8], invalid: Invalid, encoding: &'static Encoding, mixed: bool) -> EncodingError {
    let (line, column) = line_and_column(bytes, invalid.offset, encoding);
    EncodingError::Malformed {
        encoding: encoding.name(),
        line,
        column,
        offset: invalid.offset,
        mixed,
    }
}

/// 1-based line (newlines before `offset`, plus one) and 1-based byte column
/// of `offset`. In UTF-16 a newline is a whole 2-byte code unit.
fn line_and_column(bytes: &[u8], offset: usize, encoding: &'static Encoding) -> (usize, usize) {
    let head = &bytes[..offset.min(bytes.len())];
    let (newlines, line_start) = if is_utf16(encoding) {
        utf16_newlines(head, encoding == UTF_16LE)
    } else {
        let count = head.iter().filter(|&&b| b == b'\n').count();
        (count, head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1))
    };
    (newlines + 1, offset - line_start + 1)
}

/// Newline code units in UTF-16 bytes, and the offset after the last one.
fn utf16_newlines(head: &[u8], little_endian: bool) -> (usize, usize) {
    let newline: [u8; 2] = if little_endian { [b'\n', 0] } else { [0, b'\n'] };
    let mut count = 0;
    let mut line_start = 0;
    for (index, unit) in head.chunks_exact(2).enumerate() {
        if unit == newline {
            count += 1;
            line_start = 2 * index + 2;
        }
    }
    (count, line_start)
}

/// Whether the encoding is UTF-16 (either byte order).
fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == UTF_16LE || encoding == UTF_16BE
}

/// Assembles a `Decoded`.
fn decoded<'b>(
    text: Cow<'b, str>,
    encoding: &'static Encoding,
    detection: Detection,
    had_bom: bool,
) -> Decoded<'b> {
    Decoded {
        text,
        encoding,
        detection,
        had_bom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATEMENT: &str = "交易时间,金额\n2023-02-12,49.74\n";

    fn gbk(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = GBK.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|unit| {
                if little_endian {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                }
            })
            .collect()
    }

    fn auto(bytes: &[u8]) -> Result<Decoded<'_>, EncodingError> {
        decode(bytes, EncodingChoice::Auto)
    }

    fn malformed_at(
        encoding: &'static str,
        line: usize,
        column: usize,
        offset: usize,
        mixed: bool,
    ) -> EncodingError {
        EncodingError::Malformed {
            encoding,
            line,
            column,
            offset,
            mixed,
        }
    }

    #[test]
    fn gbk_statement_is_guessed_as_gbk() {
        let bytes = gbk(STATEMENT);
        let decoded = auto(&bytes).unwrap();
        assert_eq!(decoded.text, STATEMENT);
        assert_eq!(decoded.encoding, GBK);
        assert_eq!(decoded.detection, Detection::Guessed { confident: true });
        assert!(!decoded.had_bom);
    }

    #[test]
    fn short_gbk_files_are_gbk_not_korean_or_cyrillic() {
        // chardetng alone says EUC-KR and KOI8-U for these.
        for text in ["订单号,金额\nA1,1.00\n合计,1.00\n", "名,额\n张,1\n"] {
            let bytes = gbk(text);
            let decoded = auto(&bytes).unwrap();
            assert_eq!((decoded.encoding, &*decoded.text), (GBK, text));
        }
    }

    #[test]
    fn korean_and_japanese_sentences_keep_their_encodings() {
        let korean = "거래일시,금액,적요\n2026-11-24 10:15:03,12500,수도요금 자동이체 출금 안내드립니다\n\
                      2026-11-24 11:00:00,3000,전기요금 납부 완료되었습니다 감사합니다\n";
        let japanese = "取引日,金額,摘要\n2026-11-24,12500,水道料金のお支払いありがとうございました\n\
                        2026-11-24,3000,電気料金の口座振替が完了しました\n";
        for (text, encoding) in [(korean, encoding_rs::EUC_KR), (japanese, encoding_rs::SHIFT_JIS)] {
            let (bytes, _, unmappable) = encoding.encode(text);
            assert!(!unmappable);
            let decoded = auto(&bytes).unwrap();
            assert_eq!((decoded.encoding, &*decoded.text), (encoding, text));
        }
    }

    #[test]
    fn latin1_german_export_is_not_taken_for_gbk() {
        let text = "Buchungstag;Auftraggeber/Begünstigter;Betrag\n02.01.2025;Müller GmbH;-15,37\n";
        let (bytes, _, unmappable) = WINDOWS_1252.encode(text);
        assert!(!unmappable);
        let decoded = auto(&bytes).unwrap();
        assert_eq!((decoded.encoding, &*decoded.text), (WINDOWS_1252, text));
        assert!(plausible_chinese(&gbk("交易时间,金额,商户名称\n")));
        assert!(!plausible_chinese(&bytes));
    }

    #[test]
    fn gbk_starting_with_utf8_lookalike_is_still_gbk() {
        // 时 is CA B1 in GBK: valid UTF-8 for U+02B1 on its own.
        let bytes = gbk("时间,金额\n");
        assert_eq!(&bytes[..2], b"\xCA\xB1");
        let decoded = auto(&bytes).unwrap();
        assert_eq!(decoded.text, "时间,金额\n");
        assert_eq!(decoded.encoding, GBK);
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let bytes = [b"\xEF\xBB\xBF".as_slice(), STATEMENT.as_bytes()].concat();
        let decoded = auto(&bytes).unwrap();
        assert_eq!(decoded.text, STATEMENT);
        assert_eq!(decoded.encoding, UTF_8);
        assert_eq!(decoded.detection, Detection::Bom);
        assert!(decoded.had_bom);
    }

    #[test]
    fn utf16_with_bom_both_byte_orders() {
        let le = [b"\xFF\xFE".as_slice(), &utf16(STATEMENT, true)].concat();
        let be = [b"\xFE\xFF".as_slice(), &utf16(STATEMENT, false)].concat();
        for (bytes, encoding) in [(le, UTF_16LE), (be, UTF_16BE)] {
            let decoded = auto(&bytes).unwrap();
            assert_eq!(decoded.text, STATEMENT);
            assert_eq!(decoded.encoding, encoding);
            assert_eq!(decoded.detection, Detection::Bom);
            assert!(decoded.had_bom);
        }
    }

    #[test]
    fn utf16_without_bom_is_detected_by_nul_pattern() {
        for (little_endian, encoding) in [(true, UTF_16LE), (false, UTF_16BE)] {
            let bytes = utf16(STATEMENT, little_endian);
            let decoded = auto(&bytes).unwrap();
            assert_eq!(decoded.text, STATEMENT);
            assert_eq!(decoded.encoding, encoding);
            assert_eq!(decoded.detection, Detection::Utf16Pattern);
            assert!(!decoded.had_bom);
        }
    }

    #[test]
    fn utf16_error_position_counts_utf16_newlines() {
        // BOM, "ab\ncd", an unpaired high surrogate (offset 12), "x".
        let bytes = [b"\xFF\xFE".as_slice(), &utf16("ab\ncd", true), b"\x00\xD8x\x00"].concat();
        assert_eq!(
            auto(&bytes).unwrap_err(),
            malformed_at("UTF-16LE", 2, 5, 12, false)
        );
    }

    #[test]
    fn pure_ascii_and_empty_are_valid_utf8() {
        for text in ["date,amount\n2023-02-12,49.74\n", ""] {
            let decoded = auto(text.as_bytes()).unwrap();
            assert_eq!(decoded.text, text);
            assert_eq!(decoded.encoding, UTF_8);
            assert_eq!(decoded.detection, Detection::ValidUtf8);
            assert!(!decoded.had_bom);
        }
    }

    #[test]
    fn gbk_truncated_at_end_of_file_is_malformed() {
        let mut bytes = gbk(STATEMENT);
        assert_eq!(bytes.len(), 31);
        bytes.push(gbk("元")[0]);
        let expected = malformed_at("GBK", 3, 1, 31, false);
        assert_eq!(auto(&bytes).unwrap_err(), expected);
        assert_eq!(decode(&bytes, EncodingChoice::Fixed(GBK)).unwrap_err(), expected);
    }

    #[test]
    fn gbk_character_cut_mid_file_is_malformed_not_windows_1252() {
        // A field cut after the first byte of 物, then a comma.
        let mut bytes = gbk("交易时间,摘要\n2023-02-12,超市购");
        assert_eq!(bytes.len(), 31);
        bytes.push(gbk("物")[0]);
        bytes.extend_from_slice(b",49.74\n");
        assert_eq!(auto(&bytes).unwrap_err(), malformed_at("GBK", 2, 18, 31, false));
    }

    #[test]
    fn utf8_body_with_gbk_trailer_is_mixed() {
        let body = STATEMENT.as_bytes();
        assert_eq!(body.len(), 37);
        let bytes = [body, &gbk("合计,49.74\n")].concat();
        let error = auto(&bytes).unwrap_err();
        assert_eq!(error, malformed_at("UTF-8", 3, 1, 37, true));
        assert!(error.to_string().contains("the file mixes encodings"));

        let bytes = [body, b"total,", &gbk("合计\n")].concat();
        assert_eq!(auto(&bytes).unwrap_err(), malformed_at("UTF-8", 3, 7, 43, true));

        let bytes = [b"\xEF\xBB\xBF", body, &gbk("合计\n")].concat();
        assert_eq!(auto(&bytes).unwrap_err(), malformed_at("UTF-8", 3, 1, 40, true));
    }

    #[test]
    fn utf8_truncated_at_end_of_file_is_not_mixed() {
        let bytes = [STATEMENT.as_bytes(), &"元".as_bytes()[..2]].concat();
        assert_eq!(auto(&bytes).unwrap_err(), malformed_at("UTF-8", 3, 1, 37, false));
    }

    #[test]
    fn nul_byte_is_reported_with_position() {
        let expected = EncodingError::NulByte {
            line: 2,
            column: 4,
            offset: 7,
        };
        assert_eq!(auto(b"abc\ndef\0ghi\n").unwrap_err(), expected);
        let fixed = decode(b"abc\ndef\0ghi\n", EncodingChoice::Fixed(GBK));
        assert_eq!(fixed.unwrap_err(), expected);
    }

    #[test]
    fn binary_formats_are_rejected_by_magic() {
        let cases: [(&[u8], &str); 5] = [
            (
                b"PK\x03\x04\x14\x00",
                "ZIP archive (not an .xlsx workbook): unpack it first",
            ),
            (
                b"%PDF-1.7\n",
                "PDF document: download the statement as CSV instead",
            ),
            (
                b"\x89PNG\r\n\x1A\n\0\0",
                "PNG image: export the statement as CSV instead",
            ),
            (
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0",
                "legacy Office document (OLE compound file): save it as CSV or .xlsx",
            ),
            (b"\x1F\x8B\x08\0", "gzip archive: unpack it first"),
        ];
        for (bytes, kind) in cases {
            let expected = EncodingError::Binary { kind };
            assert_eq!(auto(bytes).unwrap_err(), expected);
            assert_eq!(decode(bytes, EncodingChoice::Fixed(UTF_8)).unwrap_err(), expected);
        }
    }

    #[test]
    fn fixed_gbk_decodes_gbk() {
        let bytes = gbk(STATEMENT);
        let decoded = decode(&bytes, EncodingChoice::Fixed(GBK)).unwrap();
        assert_eq!(decoded.text, STATEMENT);
        assert_eq!(decoded.encoding, GBK);
        assert_eq!(decoded.detection, Detection::Explicit);
        assert!(!decoded.had_bom);
    }

    #[test]
    fn fixed_utf8_on_gbk_is_malformed() {
        let error = decode(&gbk(STATEMENT), EncodingChoice::Fixed(UTF_8)).unwrap_err();
        assert_eq!(error, malformed_at("UTF-8", 1, 1, 0, false));
        assert_eq!(
            error.to_string(),
            "bytes that are not valid UTF-8: either the file is damaged here (e.g. a character \
             cut in half) or it is not in UTF-8; fix this spot, name the file's real encoding \
             (--encoding, or encoding = in the rule file's side section), or re-export it \
             (byte offset 0)"
        );
    }

    #[test]
    fn fixed_strips_only_a_matching_bom() {
        let bytes = [b"\xEF\xBB\xBF".as_slice(), STATEMENT.as_bytes()].concat();
        let decoded = decode(&bytes, EncodingChoice::Fixed(UTF_8)).unwrap();
        assert_eq!((&*decoded.text, decoded.had_bom), (STATEMENT, true));
        let decoded = decode(b"\xFF\xFEa\x00", EncodingChoice::Fixed(UTF_16BE)).unwrap();
        assert_eq!((&*decoded.text, decoded.had_bom), ("\u{FFFE}\u{6100}", false));
    }

    #[test]
    fn labels_are_parsed() {
        assert_eq!(encoding_from_label("gbk").unwrap(), GBK);
        assert_eq!(encoding_from_label("GB18030").unwrap(), encoding_rs::GB18030);
        assert_eq!(encoding_from_label(" UTF-8 ").unwrap(), UTF_8);
        assert_eq!(encoding_from_label("utf-16le").unwrap(), UTF_16LE);
        assert_eq!(encoding_from_label("big5").unwrap(), BIG5);
        for label in ["nonsense", "iso-2022-kr"] {
            let error = encoding_from_label(label).unwrap_err();
            assert_eq!(error, EncodingError::UnknownLabel(label.to_owned()));
            assert!(error.to_string().contains("utf-8, gbk, gb18030, big5"));
        }
    }

    #[test]
    fn big5_sentence_is_guessed_as_big5() {
        let text = "本行謹通知您，您的信用卡帳單已於本月十五日寄出，本期應繳總金額為新臺幣\
                    三萬二千元整，最低應繳金額為三千二百元，繳款截止日為下個月五日。如您已繳款，\
                    請不必理會本通知。若有任何疑問，歡迎於營業時間內撥打本行客服專線洽詢，\
                    謝謝您的支持與愛護。\n";
        let (bytes, _, unmappable) = BIG5.encode(text);
        assert!(!unmappable);
        let decoded = auto(&bytes).unwrap();
        assert_eq!(decoded.text, text);
        assert_eq!(decoded.encoding, BIG5);
        assert_eq!(decoded.detection, Detection::Guessed { confident: true });
    }

    #[test]
    fn detection_phrases() {
        let phrases = [
            (Detection::Bom, "byte-order mark"),
            (Detection::ValidUtf8, "valid UTF-8"),
            (Detection::Utf16Pattern, "UTF-16 byte pattern without BOM"),
            (
                Detection::Guessed { confident: true },
                "guessed by chardetng (confident)",
            ),
            (
                Detection::Guessed { confident: false },
                "guessed by chardetng (not confident)",
            ),
            (Detection::Explicit, "set explicitly"),
        ];
        for (detection, phrase) in phrases {
            assert_eq!(detection.to_string(), phrase);
        }
    }

    #[test]
    fn pieces_decode_like_the_whole() {
        let text = "交易时间,金额\n2023-02-12,49.74\n摘要,代收\n".repeat(7);
        let good = gbk(&text);
        let mut bad = good.clone();
        bad.insert(good.len() / 2 + 3, 0x81);
        bad.insert(good.len() / 2 + 4, b',');
        let whole = |bytes: &[u8]| decode_piece(bytes, GBK).map_err(|i| (i.offset, i.at_eof));
        for piece_bytes in [1, 2, 7, 40, 1 << 20] {
            let pieces =
                |bytes: &[u8]| decode_in_pieces(bytes, GBK, piece_bytes).map_err(|i| (i.offset, i.at_eof));
            assert_eq!(pieces(&good), Ok(text.clone()), "pieces of {piece_bytes}");
            assert_eq!(pieces(&bad), whole(&bad), "pieces of {piece_bytes}");
            assert!(pieces(&bad).is_err());
        }
    }
}
