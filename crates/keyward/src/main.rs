//! The `keyward` command: a thin front end over `keyward-service`.

/// `println!` that reports a closed stdout as an error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// `eprintln!` that carries on when stderr is closed (`2>&1 | head -1`): a diagnostic has
/// nowhere else to go, and the exit code still says what happened.
macro_rules! diag {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod alloc;
mod args;
mod checks;
mod commands;
mod config;
mod discover;
mod exit;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;
use keyward_service::ServiceError;

use crate::exit::Exit;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            let _ = e.print();
            return code.into();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            diag!("error: cannot start the runtime: {e}");
            return Exit::Failure.into();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code.into(),
        Err(e) => report(&e).into(),
    }
}

/// Prints an error the way a person can act on, and picks the exit code.
fn report(e: &anyhow::Error) -> Exit {
    // A reader that stops early (`| head`) is not a failure.
    if e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return Exit::Success;
    }
    if let Some(ServiceError::Invalid(errors)) = e.downcast_ref::<ServiceError>() {
        for err in &errors.0 {
            diag!("error: {err}");
        }
        diag!(
            "{} error{}; nothing was written",
            errors.0.len(),
            if errors.0.len() == 1 { "" } else { "s" }
        );
        return Exit::InvalidInput;
    }
    match e.downcast_ref::<ServiceError>() {
        Some(ServiceError::Refused(why)) => {
            diag!("error: {why}");
            diag!("refused; nothing was written");
            return Exit::Refused;
        }
        Some(ServiceError::Check(c)) => {
            diag!("error: {c}");
            use keyward_checks::CheckError as C;
            return match c {
                C::Data { .. } | C::Config { .. } | C::Rego(_) => {
                    diag!("the checks are invalid; nothing was written");
                    Exit::InvalidInput
                }
                C::Usage(_) => Exit::Usage,
                C::Io { .. } => Exit::Failure,
            };
        }
        _ => {}
    }
    if let Some(c) = e.downcast_ref::<keyward_connect::ConnectError>() {
        use keyward_connect::ConnectError as C;
        diag!("error: {c}");
        return match c {
            C::Syntax { .. } | C::Field { .. } | C::Corrupt { .. } => {
                diag!("the input is invalid; nothing was written");
                Exit::InvalidInput
            }
            C::Usage(_) => Exit::Usage,
            C::Io { .. } | C::Endpoint { .. } => {
                diag!("nothing was written");
                Exit::Failure
            }
        };
    }
    diag!("error: {e:#}");
    if let Some(help) = help_for(e) {
        diag!("help: {help}");
    }
    Exit::Failure
}

fn help_for(e: &anyhow::Error) -> Option<&'static str> {
    use keyward_service::KeyError;
    use keyward_store::StoreError;
    match e.downcast_ref::<ServiceError>()? {
        ServiceError::Store(StoreError::Uninitialised(_)) => {
            Some("run `keyward init` first, or point --db / --database-url at an initialised store")
        }
        ServiceError::KeyRequired { .. } => Some(
            "changes are signed into the ledger: pass --key with the file `keyward init` wrote",
        ),
        ServiceError::Key(KeyError::TooOpen { .. }) => Some("run `chmod 600` on the key file"),
        ServiceError::KeyMismatch { .. } => {
            Some("pass --key with the key file created when this store was initialised")
        }
        _ => None,
    }
}
