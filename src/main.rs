//! The `recon` binary: parses the command line and hands over to the library.

/// mimalloc instead of the system allocator: a run allocates a small block
/// per record and frees millions of them at once (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    recon::cli::main()
}
