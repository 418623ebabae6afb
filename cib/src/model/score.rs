//! Scores: integers bounded by ±INFINITY (1,000,000), with Pacemaker's
//! arithmetic.
//!
//! Pacemaker's rules, which the engine relies on:
//! - a sum saturates at ±INFINITY;
//! - anything plus -INFINITY is -INFINITY, *including* +INFINITY (a ban
//!   beats a preference);
//! - otherwise anything plus +INFINITY is +INFINITY.
//!
//! Parsing follows Pacemaker's `char2score`: "INFINITY", "+INFINITY" and
//! "-INFINITY", or an integer (leading part only, clamped); anything else
//! is 0. Heartbeat 2.x compared the INFINITY words case-insensitively, so
//! this does too (Pacemaker 2.1 would read a lowercase "infinity" as 0).

use std::fmt;
use std::ops::{Add, AddAssign, Neg};
use std::str::FromStr;

/// A score in `-INFINITY..=INFINITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(i32);

/// The value Pacemaker calls INFINITY.
const INF: i32 = 1_000_000;

/// Why a score string is not in the schema's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a score (an integer, INFINITY, +INFINITY or -INFINITY)")]
pub struct ScoreParseError(pub String);

impl Score {
    pub const ZERO: Score = Score(0);
    pub const INFINITY: Score = Score(INF);
    pub const MINUS_INFINITY: Score = Score(-INF);

    /// A score from any integer, clamped to ±INFINITY.
    pub fn new(value: i64) -> Score {
        Score(value.clamp(-(INF as i64), INF as i64) as i32)
    }

    pub fn value(self) -> i32 {
        self.0
    }

    pub fn is_infinity(self) -> bool {
        self.0 >= INF
    }

    pub fn is_minus_infinity(self) -> bool {
        self.0 <= -INF
    }

    /// Either infinity.
    pub fn is_infinite(self) -> bool {
        self.is_infinity() || self.is_minus_infinity()
    }

    /// Pacemaker's `char2score`: never fails; what it cannot read is 0.
    pub fn parse(text: &str) -> Score {
        match infinity_word(text) {
            Some(s) => s,
            None => Score::new(leading_integer(text).unwrap_or(0)),
        }
    }

    /// The schema's form only: an optionally signed integer (clamped) or
    /// one of the INFINITY words. For validation, where `parse` would
    /// silently read garbage as 0.
    pub fn parse_strict(text: &str) -> Result<Score, ScoreParseError> {
        if let Some(s) = infinity_word(text) {
            return Ok(s);
        }
        let t = text.trim();
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScoreParseError(text.to_string()));
        }
        // Long digit strings overflow i64; they are beyond INFINITY anyway.
        let value = t.parse::<i64>().unwrap_or(if t.starts_with('-') { i64::MIN } else { i64::MAX });
        Ok(Score::new(value))
    }

    /// `self` taken `times` times, as in Heartbeat's
    /// `failcount * resource_failure_stickiness`. Infinity stays infinite
    /// (with the sign of the product); zero times anything is zero.
    pub fn times(self, times: i64) -> Score {
        if times == 0 {
            return Score::ZERO;
        }
        if self.is_infinite() {
            return if times > 0 { self } else { -self };
        }
        Score::new((self.0 as i64).saturating_mul(times))
    }
}

fn infinity_word(text: &str) -> Option<Score> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("-INFINITY") {
        Some(Score::MINUS_INFINITY)
    } else if t.eq_ignore_ascii_case("INFINITY") || t.eq_ignore_ascii_case("+INFINITY") {
        Some(Score::INFINITY)
    } else {
        None
    }
}

/// strtoll's reading: optional blanks and sign, then digits; the rest is
/// ignored. `None` when there are no digits. Saturates on overflow.
fn leading_integer(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

impl Add for Score {
    type Output = Score;

    /// Pacemaker's `pcmk__add_scores`.
    fn add(self, other: Score) -> Score {
        if self.is_minus_infinity() || other.is_minus_infinity() {
            Score::MINUS_INFINITY
        } else if self.is_infinity() || other.is_infinity() {
            Score::INFINITY
        } else {
            Score::new(self.0 as i64 + other.0 as i64)
        }
    }
}

impl AddAssign for Score {
    fn add_assign(&mut self, other: Score) {
        *self = *self + other;
    }
}

impl Neg for Score {
    type Output = Score;
    fn neg(self) -> Score {
        Score(-self.0)
    }
}

impl std::iter::Sum for Score {
    fn sum<I: Iterator<Item = Score>>(iter: I) -> Score {
        iter.fold(Score::ZERO, Add::add)
    }
}

impl From<i32> for Score {
    fn from(v: i32) -> Score {
        Score::new(v as i64)
    }
}

impl FromStr for Score {
    type Err = ScoreParseError;
    /// Strict: see [`Score::parse_strict`].
    fn from_str(s: &str) -> Result<Score, ScoreParseError> {
        Score::parse_strict(s)
    }
}

impl fmt::Display for Score {
    /// As Pacemaker prints scores: `INFINITY`, `-INFINITY` or the integer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_infinity() {
            f.pad("INFINITY")
        } else if self.is_minus_infinity() {
            f.pad("-INFINITY")
        } else {
            f.pad(&self.0.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_char2score() {
        assert_eq!(Score::parse("INFINITY"), Score::INFINITY);
        assert_eq!(Score::parse("+INFINITY"), Score::INFINITY);
        assert_eq!(Score::parse("-INFINITY"), Score::MINUS_INFINITY);
        assert_eq!(Score::parse("infinity"), Score::INFINITY, "Heartbeat 2.x accepted any case");
        assert_eq!(Score::parse("100"), Score::from(100));
        assert_eq!(Score::parse("-100"), Score::from(-100));
        assert_eq!(Score::parse("+7"), Score::from(7));
        assert_eq!(Score::parse(" 42"), Score::from(42));
        assert_eq!(Score::parse("12abc"), Score::from(12), "strtoll stops at the first non-digit");
        assert_eq!(Score::parse("100.9"), Score::from(100));
        assert_eq!(Score::parse("abc"), Score::ZERO);
        assert_eq!(Score::parse(""), Score::ZERO);
        assert_eq!(Score::parse("5000000"), Score::INFINITY);
        assert_eq!(Score::parse("-5000000"), Score::MINUS_INFINITY);
        assert_eq!(Score::parse("99999999999999999999999"), Score::INFINITY);
    }

    #[test]
    fn strict_parse_rejects_what_the_schema_rejects() {
        assert_eq!("-INFINITY".parse::<Score>(), Ok(Score::MINUS_INFINITY));
        assert_eq!("-20".parse::<Score>(), Ok(Score::from(-20)));
        assert_eq!("2000000".parse::<Score>(), Ok(Score::INFINITY));
        assert!("12abc".parse::<Score>().is_err());
        assert!("".parse::<Score>().is_err());
        assert!("-".parse::<Score>().is_err());
        assert!("1.5".parse::<Score>().is_err());
    }

    #[test]
    fn addition_saturates_and_minus_infinity_wins() {
        let inf = Score::INFINITY;
        let ninf = Score::MINUS_INFINITY;
        assert_eq!(inf + ninf, ninf);
        assert_eq!(ninf + inf, ninf);
        assert_eq!(inf + Score::from(-999_999), inf);
        assert_eq!(ninf + Score::from(999_999), ninf);
        assert_eq!(Score::from(999_999) + Score::from(2), inf);
        assert_eq!(Score::from(-999_999) + Score::from(-2), ninf);
        assert_eq!(Score::from(200) + Score::from(-150), Score::from(50));
        let total: Score = [200, 100, -100].into_iter().map(Score::from).sum();
        assert_eq!(total, Score::from(200));
        let mut s = Score::from(1);
        s += inf;
        assert_eq!(s, inf);
    }

    #[test]
    fn multiplication_for_failure_stickiness() {
        // Seed 002: node + stickiness + failcount * failure-stickiness.
        let node = Score::from(200);
        let stickiness = Score::from(100);
        let fail = Score::from(-100);
        assert_eq!(node + stickiness + fail.times(2), Score::from(100));
        assert_eq!(fail.times(0), Score::ZERO);
        assert_eq!(Score::MINUS_INFINITY.times(3), Score::MINUS_INFINITY);
        assert_eq!(Score::INFINITY.times(-1), Score::MINUS_INFINITY);
        assert_eq!(Score::from(-400_000).times(3), Score::MINUS_INFINITY);
    }

    #[test]
    fn displays_as_pacemaker_prints() {
        assert_eq!(Score::INFINITY.to_string(), "INFINITY");
        assert_eq!(Score::MINUS_INFINITY.to_string(), "-INFINITY");
        assert_eq!(Score::from(-17).to_string(), "-17");
        assert_eq!(Score::new(7_000_000).to_string(), "INFINITY");
        assert_eq!(-Score::INFINITY, Score::MINUS_INFINITY);
    }
}
