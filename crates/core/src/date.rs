//! Calendar dates as teachers write them (`YYYY-MM-DD`) and unix times. Pure: no clock here.

use std::fmt;
use std::str::FromStr;

/// A calendar day, such as a homework due date. Orders chronologically.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03")]
pub struct DateError(pub String);

impl Date {
    /// The date of `year`-`month`-`day`, if that day exists (leap years included).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if is_leap(year) => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month).contains(&day).then_some(Date { year, month, day })
    }

    /// Year, month (1-12) and day (1-31).
    pub fn parts(&self) -> (u16, u8, u8) {
        (self.year, self.month, self.day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days-from-civil algorithm, the inverse of `from_unix`.
        let (month, day) = (i64::from(self.month), i64::from(self.day));
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// Day of the week, 0 for Monday to 6 for Sunday.
    pub fn weekday(&self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }

    /// The day that contains the unix time `seconds` (UTC).
    pub fn from_unix(seconds: i64) -> Date {
        // Howard Hinnant's days-to-civil algorithm.
        let days = seconds.div_euclid(86_400) + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (year_of_era + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

/// The unix time (seconds) of an HTTP-date in its preferred form, IMF-fixdate
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 §5.6.7), or `None` for anything else. The day name is
/// checked for form only, as HTTP recipients do.
pub fn http_date_unix(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let (day_name, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else { return None };
    if !DAYS.contains(&day_name) || day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    let month = MONTHS.iter().position(|name| *name == month)? as u8 + 1;
    let date = Date::new(digits(year)?, month, digits(day)? as u8)?;
    let clock: Vec<&str> = time.split(':').collect();
    let [hours, minutes, seconds] = clock[..] else { return None };
    if [hours, minutes, seconds].iter().any(|part| part.len() != 2) {
        return None;
    }
    let (hours, minutes, seconds) = (digits(hours)?, digits(minutes)?, digits(seconds)?);
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let clock = i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(seconds);
    Some(date.days_since_epoch() * 86_400 + clock)
}

/// A short run of ASCII digits (no sign, no spaces) as a number.
fn digits(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Date, DateError> {
        let error = || DateError(text.to_owned());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u16, DateError> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| error())
            } else {
                Err(error())
            }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        Date::new(year, month as u8, day as u8).ok_or_else(error)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, valid: bool) {
        assert_eq!(text.parse::<Date>().is_ok(), valid, "{text}");
        if valid {
            assert_eq!(text.parse::<Date>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn parses_only_real_days() {
        check("2026-12-03", true);
        check("2028-02-29", true);
        check("2000-02-29", true);
        check("2027-02-29", false);
        check("1900-02-29", false);
        check("2026-13-01", false);
        check("2026-04-31", false);
        check("2026-00-10", false);
        check("2026-1-10", false);
        check("03/12/2026", false);
        check("2026-+1-10", false);
        check("", false);
    }

    #[test]
    fn orders_chronologically() {
        let a: Date = "2026-12-31".parse().unwrap();
        let b: Date = "2027-01-01".parse().unwrap();
        assert!(a < b);
    }

    #[test]
    fn knows_the_day_of_the_week() {
        let weekday = |text: &str| text.parse::<Date>().unwrap().weekday();
        assert_eq!(weekday("1970-01-01"), 3, "a Thursday");
        assert_eq!(weekday("2021-04-06"), 1, "a Tuesday");
        assert_eq!(weekday("2026-12-03"), 3, "a Thursday");
        assert_eq!(weekday("2000-02-29"), 1, "a Tuesday");
        assert_eq!(weekday("1969-12-31"), 2, "a Wednesday");
        for days in [-700_000, -1, 0, 59, 11_016, 20_789, 2_900_000] {
            assert_eq!(Date::from_unix(days * 86_400).days_since_epoch(), days);
        }
    }

    #[test]
    fn converts_unix_times() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Date::from_unix(1_617_692_400).to_string(), "2021-04-06");
        assert_eq!(Date::from_unix(-1).to_string(), "1969-12-31");
    }
}
