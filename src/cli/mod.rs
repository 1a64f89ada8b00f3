//! The command line: argument definitions, one module per subcommand, and
//! the single place where outcomes become exit codes.

/// `print!` for command output: a reader that stops reading (`recon check
/// FILE | head`) ends the output quietly instead of a panic; other write
/// errors are returned. Evaluates to `anyhow::Result<()>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::emit(format_args!($($arg)*))
    };
}

/// `println!` for command output, as `out!`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::emit(format_args!($($arg)*)).and_then(|()| $crate::cli::emit(format_args!("\n")))
    };
}

mod acting;
mod audit_cmd;
mod check;
mod confirm;
mod convert;
mod date_arg;
mod decrypt;
mod keygen;
mod merge;
mod resolve;
mod rules_cmd;
mod run_cmd;
mod shell;
mod split;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, shared by every subcommand (a macro so `concat!` can use it).
macro_rules! exit_codes {
    () => {
        "Exit codes (every command):
  0  clean: run status reconciled (no exceptions) or closed (every exception paired or
     accepted, every review flag confirmed); check found no problems; all rule cases pass;
     audit chain intact (audit verify/show); confirmation or resolution recorded
  1  exceptions: run status exceptions (unmatched, duplicate or rejected rows still open,
     or review flags of a day with exceptions unconfirmed); check found problems; a rule
     case failed; the audit chain is broken (audit verify/show)
  2  trouble: bad input, rules or usage, a refused key file, an authentication failure,
     a role the user does not hold or that may not act (recorded in the audit log),
     results or the audit log not writable, or a run refused by a guard rail (no row of
     --date's day, identical ledger and bank, a --carry-in that is not the day before,
     another run writing the same results with --no-wait); nothing was changed
  130, 143, 129  run stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP: nothing published,
     the interruption recorded in the audit log
  verify DIR: 0 every file as its run published it, 1 something differs, 2 unreadable"
    };
}

#[derive(Parser)]
#[command(
    name = "recon",
    version,
    max_term_width = 100,
    about = "Batch payment reconciliation (对账): prove every ledger entry is backed by a bank row, and the reverse",
    long_about = "recon reads a platform ledger export and a bank or channel statement (any encoding: \
UTF-8, GBK/GB18030, UTF-16, or .xlsx/.xls workbooks; preambles, trailers and spreadsheet prefixes \
handled; built-in profiles for Alipay, WeChat Pay and the big banks' exports), matches them \
with the ordered stages of a versioned TOML rule file, and writes matched, unmatched, duplicate \
and ignored rows plus summary.json. Every input row ends up in exactly one output.",
    after_help = exit_codes!(),
    after_long_help = concat!(
        "Examples:\n",
        "  Pre-check a statement file's format (encoding, delimiter, header, columns):\n",
        "    recon check statement.csv\n",
        "  Read a bill with the built-in profile it is recognised as:\n",
        "    recon check alipay.csv --profile auto\n",
        "  Draft a rule file from a ledger and a bank file:\n",
        "    recon rules init --ledger L.csv --bank B.xlsx -o rules/mine.toml\n",
        "  Reconcile one business day with the rule version effective on that date:\n",
        "    recon run --ledger L.csv --bank B.csv --rules rules/ --date 2026-11-24 \\\n",
        "              --out out/2026-11-24\n",
        "  Validate a rule file, then run the rule regression cases:\n",
        "    recon rules check rules/default.toml\n",
        "    recon rules test examples\n",
        "  Record a second confirmation of a flagged match, then check the audit trail:\n",
        "    recon confirm out/2026-11-24 --match-id M000003 --by 'Li Wei' --note 'checked'\n",
        "    recon audit verify out/audit.log\n",
        "  Close the day: pair rows by hand, accept an explained exception, then rerun:\n",
        "    recon resolve out/2026-11-24 --pair ledger:11 bank:16 --note 'order id mistyped'\n",
        "    recon resolve out/2026-11-24 --accept bank:17 --reason interest --note 'interest'\n",
        "  Create a key for encrypted results, then read them:\n",
        "    recon keygen -o results.key\n",
        "    recon decrypt --dir out/2026-11-24 --key-file results.key\n\n",
        exit_codes!()
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile a ledger against a bank statement and write the results
    Run(run_cmd::Args),
    /// Pre-check a ledger or statement file: encoding, table, columns, problems
    Check(check::Args),
    /// Write a file's table as clean UTF-8 CSV
    Convert(convert::Args),
    /// Validate, test and draft rule files; list the built-in profiles
    #[command(subcommand)]
    Rules(rules_cmd::Command),
    /// Record a reviewer's confirmation of a flagged match or an exception row
    Confirm(confirm::Args),
    /// Close exceptions: pair rows by hand, accept explained ones, or undo either
    Resolve(resolve::Args),
    /// Cut a day into partitions, for `run --part` on any machine and `merge`
    Split(split::Args),
    /// Merge the results of a split day's partitions into the results of the whole day
    Merge(merge::Args),
    /// Check and list the audit log
    #[command(subcommand)]
    Audit(audit_cmd::Command),
    /// Check a results directory against the audit log: every file as its run published it
    Verify(verify::Args),
    /// Restore plain result files from SM4-encrypted NAME.sm4 files
    Decrypt(decrypt::Args),
    /// Create a new SM4 key file (mode 0600) for encrypted results
    Keygen(keygen::Args),
    /// Print the shell completion script for bash, zsh, fish or PowerShell
    Completions(shell::CompletionsArgs),
    /// Print the man page, or write one page per command into a directory
    Man(shell::ManArgs),
}

/// How a command ended, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Clean,
    /// Exceptions, problems or failed cases.
    Exceptions,
}

impl Outcome {
    /// The process exit code: 0 clean, 1 exceptions.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Exceptions => 1,
        }
    }
}

/// Entry point used by the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Check(args) => check::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Rules(command) => rules_cmd::run(command),
        Command::Confirm(args) => confirm::run(args),
        Command::Resolve(args) => resolve::run(args),
        Command::Split(args) => split::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Audit(command) => audit_cmd::run(command),
        Command::Verify(args) => verify::run(args),
        Command::Decrypt(args) => decrypt::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
    };
    crate::interrupt::yield_to_interrupt();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("recon: error: {}", message(&e));
            ExitCode::from(TROUBLE)
        }
    }
}

/// Exit code of a command that failed.
pub const TROUBLE: u8 = 2;

/// Writes command output to standard output (see `out!`).
fn emit(text: std::fmt::Arguments) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_fmt(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

/// The error and its causes joined by `: `, leaving out a cause whose text
/// the message already holds (errors that quote their OS error, such as
/// `FILE: cannot read: No such file…`, would otherwise say it twice).
pub(crate) fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Output format of commands that print a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for a person.
    Text,
    /// One JSON document.
    Json,
}
