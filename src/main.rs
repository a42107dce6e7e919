//! scutum's entry point: parse arguments, set up logging, dispatch. Nothing else.

use clap::Parser;
use scutum::cli::{Cli, LogFormat};
use scutum::{commands, log};

fn main() {
    scutum::sys::fs::ensure_stdio();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::{
                DisplayHelp, DisplayHelpOnMissingArgumentOrSubcommand, DisplayVersion,
            };
            if matches!(e.kind(), DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand) {
                let _ = e.print();
                std::process::exit(0);
            }
            // One line, exit status 1, like every other error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            eprintln!("scutum: {first}");
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
