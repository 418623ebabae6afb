//! Process exit codes: Pacemaker's `crm_exit_t` values, so scripts written
//! against Pacemaker's tools read ours the same way.

/// A tool's exit status. Values are Pacemaker's `crm_exit_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Ok = 0,
    Error = 1,
    InvalidParam = 2,
    Unimplemented = 3,
    InsufficientPriv = 4,
    NotInstalled = 5,
    NotConfigured = 6,
    NotRunning = 7,
    Usage = 64,
    DataErr = 65,
    NoInput = 66,
    NoHost = 68,
    Unavailable = 69,
    Software = 70,
    OsErr = 71,
    OsFile = 72,
    CantCreat = 73,
    IoErr = 74,
    TempFail = 75,
    Protocol = 76,
    NoPerm = 77,
    /// Unparseable or schema-invalid input.
    Config = 78,
    Fatal = 100,
    Panic = 101,
    /// No daemon to talk to ("Not connected").
    Disconnect = 102,
    /// An update older than the current configuration.
    Old = 103,
    Digest = 104,
    /// No such object.
    NoSuch = 105,
    Quorum = 106,
    /// Dangerous without --force.
    Unsafe = 107,
    /// The object already exists.
    Exists = 108,
    Multiple = 109,
    Expired = 110,
    NotYetInEffect = 111,
    Indeterminate = 112,
    Unsatisfied = 113,
    Timeout = 124,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Pacemaker's text for the code (`crm_exit_str`), used in messages.
    pub fn describe(self) -> &'static str {
        use ExitCode::*;
        match self {
            Ok => "OK",
            Error => "Error occurred",
            InvalidParam => "Invalid parameter",
            Unimplemented => "Unimplemented",
            InsufficientPriv => "Insufficient privileges",
            NotInstalled => "Not installed",
            NotConfigured => "Not configured",
            NotRunning => "Not running",
            Usage => "Incorrect usage",
            DataErr => "Invalid data given",
            NoInput => "Input file not available",
            NoHost => "Host does not exist",
            Unavailable => "Necessary service unavailable",
            Software => "Internal software bug",
            OsErr => "Operating system error occurred",
            OsFile => "System file not available",
            CantCreat => "Cannot create output file",
            IoErr => "I/O error occurred",
            TempFail => "Temporary failure, try again",
            Protocol => "Protocol violated",
            NoPerm => "Insufficient privileges",
            Config => "Invalid configuration",
            Fatal => "Fatal error occurred, will not respawn",
            Panic => "System panic required",
            Disconnect => "Not connected",
            Old => "Update was older than existing configuration",
            Digest => "Digest mismatch",
            NoSuch => "No such object",
            Quorum => "Quorum required",
            Unsafe => "Operation not safe",
            Exists => "Requested item already exists",
            Multiple => "Multiple items match request",
            Expired => "Requested item has expired",
            NotYetInEffect => "Requested item is not yet in effect",
            Indeterminate => "Could not determine status",
            Unsatisfied => "Not applicable under current conditions",
            Timeout => "Timeout occurred",
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code())
    }
}
