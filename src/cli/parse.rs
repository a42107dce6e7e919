//! A small table-driven argument parser with runc's conventions, in place of clap.
//!
//! Why not clap: every scutum call is one short-lived process, and clap's derive builds the whole
//! command tree (every subcommand and flag) before it looks at the first argument. That alone
//! touched about 1 MiB of the binary's pages per call (measured: peak RSS of `state` 520 KiB
//! when exiting before parsing, 1.5 MiB right after it) and a third of the binary's size. The
//! command line is fixed by runc, so a table per subcommand ([`Syntax`]) is all it takes.
//!
//! Conventions (clap's and runc's, as callers use them): `--flag value`, `--flag=value`,
//! `-f value`, `-fvalue`, clustered switches (`-dt`); a switch also takes `--flag=true|false`
//! (Go's flag syntax, which runc accepts); a flag's value is the next argument even when it
//! starts with `-` (`--cpu-quota -1`); flags may follow the positionals; `--` ends the flags. A
//! command with trailing arguments (`exec`, `ps`) takes everything from its first argument after
//! the positionals on as they are.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::str::FromStr;

/// A command-line error: printed as one line, exit status 1 (help and version exit 0 instead).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("unknown flag {flag} for `{cmd}` (see `scutum {cmd} --help`)")]
    UnknownFlag { cmd: &'static str, flag: String },
    #[error("flag {flag} needs a value <{value}>")]
    MissingValue { flag: String, value: &'static str },
    #[error("invalid value {value:?} for {flag}: {reason}")]
    InvalidValue { flag: String, value: String, reason: String },
    #[error("missing <{name}> (usage: {usage})")]
    MissingArgument { name: &'static str, usage: String },
    #[error("unexpected argument {arg:?} (usage: {usage})")]
    Unexpected { arg: String, usage: String },
    #[error("unknown command {0:?} (see `scutum --help`)")]
    UnknownCommand(String),
    #[error("{what} is not valid UTF-8")]
    NotUtf8 { what: String },
    /// `--help`: the text to print on stdout, then exit 0.
    #[error("{0}")]
    Help(String),
}

/// One flag: long name, short letter, the name of its value (None: a switch) and a help line.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Option<&'static str>,
    pub help: &'static str,
    /// Other long names accepted for it (e.g. runc's `--cpu-shares`).
    pub aliases: &'static [&'static str],
    /// Accepted but left out of `--help` (obsolete runc flags).
    pub hidden: bool,
    /// For a flag that may also stand alone (runc's `--rootless`): its words, and the value it
    /// means alone. The next argument is its value only if it is one of the words.
    pub bare: Option<(&'static [&'static str], &'static str)>,
}

impl Flag {
    pub const fn switch(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag { long, short, value: None, help, aliases: &[], hidden: false, bare: None }
    }
    pub const fn value(
        long: &'static str,
        short: Option<char>,
        value: &'static str,
        help: &'static str,
    ) -> Flag {
        Flag { long, short, value: Some(value), help, aliases: &[], hidden: false, bare: None }
    }
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Flag {
        self.aliases = aliases;
        self
    }
    pub const fn bare(mut self, words: &'static [&'static str], alone: &'static str) -> Flag {
        self.bare = Some((words, alone));
        self
    }
    pub const fn hidden(mut self) -> Flag {
        self.hidden = true;
        self
    }
}

/// One subcommand's syntax: its flags, its positionals (name, required) and, for `exec` and
/// `ps`, the name of the trailing arguments.
pub struct Syntax {
    pub name: &'static str,
    pub about: &'static str,
    pub flags: &'static [Flag],
    pub positionals: &'static [(&'static str, bool)],
    pub trailing: Option<&'static str>,
}

const HELP: Flag = Flag::switch("help", Some('h'), "Print this help");

impl Syntax {
    fn find_long(&self, name: &str) -> Option<&'static Flag> {
        self.flags.iter().chain(std::iter::once(&HELP)).find(|f| f.long == name || f.aliases.contains(&name))
    }

    fn find_short(&self, c: char) -> Option<&'static Flag> {
        self.flags.iter().chain(std::iter::once(&HELP)).find(|f| f.short == Some(c))
    }

    /// `scutum create [OPTIONS] <container-id>`
    pub fn usage(&self) -> String {
        if self.name.is_empty() {
            return "scutum [OPTIONS] <command> [ARGS]...".into();
        }
        let mut u = format!("scutum {} [OPTIONS]", self.name);
        for (name, required) in self.positionals {
            u += &if *required { format!(" <{name}>") } else { format!(" [{name}]") };
        }
        if let Some(t) = self.trailing {
            u += &format!(" [{t}]...");
        }
        u
    }

    pub fn help(&self) -> String {
        format!("{}\n\nUsage: {}\n\nOptions:\n{}", self.about, self.usage(), flag_table(self.flags))
    }

    /// Parses one subcommand's arguments (everything after its name).
    pub fn parse(&'static self, args: &[OsString]) -> Result<Matches, UsageError> {
        let mut m = Matches { flags: Vec::new(), positionals: Vec::new(), trailing: Vec::new() };
        let mut i = 0;
        let mut only_positionals = false;
        while i < args.len() {
            // Once the positionals are there, a command with trailing arguments takes the rest
            // as it is, flags included (`ps ID -o pid,args`, `exec ID sh -c ...`), as runc does;
            // a `--` right there is only a separator.
            if self.trailing.is_some() && m.positionals.len() == self.positionals.len() {
                let rest = &args[i..];
                m.trailing.extend_from_slice(rest.strip_prefix(&[OsString::from("--")][..]).unwrap_or(rest));
                break;
            }
            let arg = &args[i];
            i += 1;
            let bytes = arg.as_bytes();
            if only_positionals || bytes.len() < 2 || bytes[0] != b'-' {
                if m.positionals.len() < self.positionals.len() {
                    m.positionals.push(arg.clone());
                    continue;
                }
                return Err(UsageError::Unexpected { arg: lossy(arg), usage: self.usage() });
            }
            if bytes == b"--" {
                only_positionals = true;
            } else if let Some(long) = bytes.strip_prefix(b"--") {
                self.long_flag(&mut m, long, args, &mut i)?;
            } else {
                self.short_flags(&mut m, &bytes[1..], args, &mut i)?;
            }
        }
        if m.help() {
            return Err(UsageError::Help(self.help()));
        }
        if let Some((name, _)) =
            self.positionals.iter().skip(m.positionals.len()).find(|(_, required)| *required)
        {
            return Err(UsageError::MissingArgument { name, usage: self.usage() });
        }
        Ok(m)
    }

    fn long_flag(
        &self,
        m: &mut Matches,
        long: &[u8],
        args: &[OsString],
        i: &mut usize,
    ) -> Result<(), UsageError> {
        let (name, inline) = match long.iter().position(|&b| b == b'=') {
            Some(i) => (&long[..i], Some(OsStr::from_bytes(&long[i + 1..]))),
            None => (long, None),
        };
        let name_str = String::from_utf8_lossy(name);
        let unknown = || UsageError::UnknownFlag { cmd: self.name, flag: format!("--{name_str}") };
        let flag = std::str::from_utf8(name).ok().and_then(|n| self.find_long(n)).ok_or_else(unknown)?;
        m.flags.push((flag, flag_value(flag, Spelled::Long, inline, args, i)?));
        Ok(())
    }

    fn short_flags(
        &self,
        m: &mut Matches,
        cluster: &[u8],
        args: &[OsString],
        i: &mut usize,
    ) -> Result<(), UsageError> {
        for (k, &b) in cluster.iter().enumerate() {
            let unknown = || UsageError::UnknownFlag { cmd: self.name, flag: format!("-{}", b as char) };
            let flag = if b.is_ascii() { self.find_short(b as char) } else { None }.ok_or_else(unknown)?;
            if flag.value.is_none() {
                m.flags.push((flag, Val::Switch(true)));
                continue;
            }
            // `-bDIR` or `-b=DIR`: the rest of the cluster is the value.
            let rest = &cluster[k + 1..];
            let inline =
                (!rest.is_empty()).then(|| OsStr::from_bytes(rest.strip_prefix(b"=").unwrap_or(rest)));
            m.flags.push((flag, flag_value(flag, Spelled::Short, inline, args, i)?));
            return Ok(());
        }
        Ok(())
    }
}

/// How the caller wrote a flag: the error message's text is built only when there is an error,
/// not for every flag of every call.
#[derive(Clone, Copy)]
enum Spelled {
    Long,
    Short,
}

impl Spelled {
    fn show(self, flag: &Flag) -> String {
        match (self, flag.short) {
            (Spelled::Short, Some(c)) => format!("-{c}"),
            _ => format!("--{}", flag.long),
        }
    }
}

/// The value a flag takes: a switch is true unless given `=false`; a valued flag takes its
/// inline value or the next argument (`args[*i]`), whatever it starts with.
fn flag_value(
    flag: &Flag,
    spelled: Spelled,
    inline: Option<&OsStr>,
    args: &[OsString],
    i: &mut usize,
) -> Result<Val, UsageError> {
    let Some(value_name) = flag.value else {
        return match inline.map(OsStr::as_bytes) {
            None | Some(b"true") | Some(b"1") => Ok(Val::Switch(true)),
            Some(b"false") | Some(b"0") => Ok(Val::Switch(false)),
            Some(v) => Err(UsageError::InvalidValue {
                flag: spelled.show(flag),
                value: String::from_utf8_lossy(v).into(),
                reason: "a switch takes true or false".into(),
            }),
        };
    };
    if let Some(v) = inline {
        return Ok(Val::Value(v.to_os_string()));
    }
    let next = args.get(*i);
    if let Some((words, alone)) = flag.bare {
        if !next.is_some_and(|n| words.iter().any(|w| n == w)) {
            return Ok(Val::Value(alone.into()));
        }
    }
    let v = next.ok_or_else(|| UsageError::MissingValue { flag: spelled.show(flag), value: value_name })?;
    *i += 1;
    Ok(Val::Value(v.clone()))
}

/// The options table of a help text: `  -b, --bundle <DIR>  help`.
pub fn flag_table(flags: &[Flag]) -> String {
    let rows: Vec<(String, &str)> = flags
        .iter()
        .chain(std::iter::once(&HELP))
        .filter(|f| !f.hidden)
        .map(|f| {
            let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_else(|| "    ".into());
            let value = f.value.map(|v| format!(" <{v}>")).unwrap_or_default();
            (format!("  {short}--{}{value}", f.long), f.help)
        })
        .collect();
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 2;
    rows.iter().map(|(l, h)| format!("{l:width$}{h}\n")).collect()
}

fn lossy(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}

/// A closed set of words as a flag value (`--format table|json`), parsed with `FromStr`.
macro_rules! value_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!("expected one of: {}", [$($text),+].join(", "))),
                }
            }
        }
    };
}
pub(crate) use value_enum;

#[derive(Debug, Clone)]
enum Val {
    Switch(bool),
    Value(OsString),
}

/// What [`Syntax::parse`] found, read through typed accessors (the last occurrence of a flag
/// wins, as in runc; `values` collects repeated ones).
#[derive(Debug)]
pub struct Matches {
    flags: Vec<(&'static Flag, Val)>,
    positionals: Vec<OsString>,
    trailing: Vec<OsString>,
}

impl Matches {
    fn help(&self) -> bool {
        self.switch("help")
    }

    /// Whether a switch is on.
    pub fn switch(&self, long: &str) -> bool {
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| f.long == long)
            .is_some_and(|(_, v)| matches!(v, Val::Switch(true)))
    }

    fn os_values<'a>(&'a self, long: &'a str) -> impl Iterator<Item = &'a OsString> + 'a {
        self.flags.iter().filter(move |(f, _)| f.long == long).filter_map(|(_, v)| match v {
            Val::Value(s) => Some(s),
            Val::Switch(_) => None,
        })
    }

    pub fn path(&self, long: &str) -> Option<PathBuf> {
        self.os_values(long).last().map(PathBuf::from)
    }

    pub fn string(&self, long: &str) -> Result<Option<String>, UsageError> {
        self.os_values(long).last().map(|v| utf8(v, &format!("the value of --{long}"))).transpose()
    }

    pub fn strings(&self, long: &str) -> Result<Vec<String>, UsageError> {
        self.os_values(long).map(|v| utf8(v, &format!("the value of --{long}"))).collect()
    }

    /// A flag's value parsed as `T` (numbers, or an enum with `FromStr`).
    pub fn parsed<T: FromStr>(&self, long: &str) -> Result<Option<T>, UsageError>
    where
        T::Err: std::fmt::Display,
    {
        self.string(long)?.map(|s| parse_value(long, &s)).transpose()
    }

    /// Every value of a repeatable flag, parsed as `T`.
    pub fn parsed_all<T: FromStr>(&self, long: &str) -> Result<Vec<T>, UsageError>
    where
        T::Err: std::fmt::Display,
    {
        self.strings(long)?.iter().map(|s| parse_value(long, s)).collect()
    }

    /// The `i`th positional (UTF-8: ids and signal names).
    pub fn positional(&self, i: usize, name: &str) -> Result<Option<String>, UsageError> {
        self.positionals.get(i).map(|v| utf8(v, name)).transpose()
    }

    /// A required positional: [`Syntax::parse`] has checked that it is there.
    pub fn required(&self, i: usize, name: &str) -> Result<String, UsageError> {
        Ok(self.positional(i, name)?.unwrap_or_default())
    }

    pub fn positional_os(&self, i: usize) -> Option<&OsString> {
        self.positionals.get(i)
    }

    pub fn trailing_os(&self) -> &[OsString] {
        &self.trailing
    }

    pub fn trailing(&self, what: &str) -> Result<Vec<String>, UsageError> {
        self.trailing.iter().map(|v| utf8(v, what)).collect()
    }
}

fn parse_value<T: FromStr>(long: &str, s: &str) -> Result<T, UsageError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| UsageError::InvalidValue {
        flag: format!("--{long}"),
        value: s.into(),
        reason: e.to_string(),
    })
}

fn utf8(v: &OsStr, what: &str) -> Result<String, UsageError> {
    v.to_str().map(str::to_owned).ok_or_else(|| UsageError::NotUtf8 { what: what.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    static FLAGS: [Flag; 5] = [
        Flag::value("bundle", Some('b'), "DIR", "bundle"),
        Flag::switch("detach", Some('d'), "detach"),
        Flag::switch("tty", Some('t'), "tty"),
        Flag::value("env", Some('e'), "NAME=VALUE", "env"),
        Flag::value("cpu-share", None, "N", "shares").aliases(&["cpu-shares"]),
    ];
    static SYNTAX: Syntax = Syntax {
        name: "test",
        about: "a test command",
        flags: &FLAGS,
        positionals: &[("container-id", true)],
        trailing: None,
    };
    static WITH_COMMAND: Syntax = Syntax { trailing: Some("command"), ..SYNTAX };

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn parse(args: &[&str]) -> Result<Matches, UsageError> {
        SYNTAX.parse(&os(args))
    }

    fn parse_command(args: &[&str]) -> Result<Matches, UsageError> {
        WITH_COMMAND.parse(&os(args))
    }

    #[test]
    fn long_short_inline_and_clustered_forms() {
        for args in [
            &["--bundle", "/b", "-dt", "id"][..],
            &["--bundle=/b", "-d", "-t", "id"],
            &["-b/b", "id", "--detach", "--tty=true"],
            &["-b=/b", "-td", "id"],
        ] {
            let m = parse(args).unwrap();
            assert_eq!(m.path("bundle"), Some(PathBuf::from("/b")), "{args:?}");
            assert!(m.switch("detach") && m.switch("tty"), "{args:?}");
            assert_eq!(m.required(0, "id").unwrap(), "id");
        }
        assert!(!parse(&["--detach=false", "id"]).unwrap().switch("detach"));
        assert_eq!(parse(&["--cpu-shares", "5", "id"]).unwrap().parsed::<u64>("cpu-share"), Ok(Some(5)));
    }

    #[test]
    fn values_may_start_with_a_dash_and_repeat() {
        let m = parse(&["--env", "-x=1", "-e", "B=2", "id"]).unwrap();
        assert_eq!(m.strings("env").unwrap(), ["-x=1", "B=2"]);
    }

    #[test]
    fn trailing_arguments_are_taken_verbatim() {
        let m = parse_command(&["-d", "id", "sh", "-c", "--tty", "echo"]).unwrap();
        assert!(m.switch("detach") && !m.switch("tty"));
        assert_eq!(m.trailing("command").unwrap(), ["sh", "-c", "--tty", "echo"]);
        let m = parse_command(&["id", "--", "-weird"]).unwrap();
        assert_eq!(m.trailing("command").unwrap(), ["-weird"]);
        // Flags right after the positionals belong to the trailing command too (runc's `ps ID -o`).
        let m = parse_command(&["id", "-o", "pid,args"]).unwrap();
        assert_eq!(m.trailing("command").unwrap(), ["-o", "pid,args"]);
        assert_eq!(parse_command(&["--", "id", "-t"]).unwrap().trailing("command").unwrap(), ["-t"]);
        // Without trailing arguments, a second positional is an error.
        assert!(matches!(parse(&["id", "sh"]), Err(UsageError::Unexpected { .. })));
    }

    #[test]
    fn errors_name_the_flag_or_argument() {
        assert!(
            matches!(parse(&["--nope", "id"]), Err(UsageError::UnknownFlag { flag, .. }) if flag == "--nope")
        );
        assert!(matches!(parse(&["-x", "id"]), Err(UsageError::UnknownFlag { flag, .. }) if flag == "-x"));
        assert!(matches!(parse(&["id", "--bundle"]), Err(UsageError::MissingValue { .. })));
        assert!(matches!(parse(&["-d"]), Err(UsageError::MissingArgument { name: "container-id", .. })));
        assert!(matches!(parse(&["--detach=maybe", "id"]), Err(UsageError::InvalidValue { .. })));
        let e = parse(&["--cpu-share", "x", "id"]).unwrap().parsed::<u64>("cpu-share").unwrap_err();
        assert!(e.to_string().contains("--cpu-share"), "{e}");
        assert!(matches!(parse(&["--help"]), Err(UsageError::Help(h)) if h.contains("--bundle <DIR>")));
    }
}
