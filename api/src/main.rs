/// mimalloc: many small allocations per request on several threads, where it is faster and
/// fragments less than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    readiness_api::cli::run()
}
