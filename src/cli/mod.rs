//! Command-line interface.

/// Entry point used by the binary.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
