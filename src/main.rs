//! scutum's entry point: parse arguments, set up logging, dispatch. Nothing else.

use scutum::cli::{Cli, LogFormat, UsageError};
use scutum::{commands, log};

fn main() {
    scutum::sys::fs::ensure_stdio();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let cli = match Cli::parse(&args) {
        Ok(c) => c,
        Err(UsageError::Help(text)) => {
            print!("{text}");
            return;
        }
        Err(e) => {
            // One line, exit status 1, like every other error.
            eprintln!("scutum: {e}");
            std::process::exit(1);
        }
    };
    if cli.version {
        print!("{}", scutum::version_text());
        return;
    }
    let format = match cli.global.log_format {
        LogFormat::Text => log::Format::Text,
        LogFormat::Json => log::Format::Json,
    };
    if let Err(e) = log::init(cli.global.log.as_deref(), format, cli.global.debug) {
        eprintln!("scutum: cannot open log file: {e}");
        std::process::exit(1);
    }
    if cli.command.is_none() {
        eprintln!("scutum: no command given (see --help)");
        std::process::exit(1);
    }
    match commands::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            log::error(&e.to_string());
            std::process::exit(1);
        }
    }
}
