fn main() -> std::process::ExitCode {
    readiness_api::cli::run()
}
