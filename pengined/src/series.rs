//! Saved scheduler inputs, as Pacemaker keeps them: `DIR/pe-input-N.bz2`
//! (`pe-warn-N`, `pe-error-N` when the configuration had warnings or
//! errors), the next number of each series in `DIR/<series>.last`, numbers
//! wrapping to 0 at the series' maximum (cluster options
//! `pe-input-series-max` 4000, `pe-warn-series-max` 5000,
//! `pe-error-series-max` -1: Pacemaker 2.1.5's defaults). A maximum of 0
//! saves nothing; a negative one never wraps.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The three series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Input,
    Warn,
    Error,
}

impl Series {
    /// The file name prefix (`pe-input`...).
    pub fn name(self) -> &'static str {
        match self {
            Series::Input => "pe-input",
            Series::Warn => "pe-warn",
            Series::Error => "pe-error",
        }
    }

    /// The cluster option bounding the series.
    pub fn option(self) -> &'static str {
        match self {
            Series::Input => "pe-input-series-max",
            Series::Warn => "pe-warn-series-max",
            Series::Error => "pe-error-series-max",
        }
    }

    /// Pacemaker 2.1.5's default for [`Series::option`].
    pub fn default_max(self) -> i64 {
        match self {
            Series::Input => 4000,
            Series::Warn => 5000,
            Series::Error => -1,
        }
    }

    /// The maximum given by the option's value (Pacemaker reads it as an
    /// integer; unreadable text means the default).
    pub fn max_from(self, value: Option<&str>) -> i64 {
        value.and_then(|v| v.trim().parse().ok()).unwrap_or(self.default_max())
    }
}

/// The number stored after using `used`: the next one, back to 0 at `max`.
pub fn next_after(used: u64, max: i64) -> u64 {
    let next = used + 1;
    if max > 0 && next >= max as u64 {
        0
    } else {
        next
    }
}

/// Where an input went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub path: PathBuf,
    /// False when the series max is 0: the name is reported, nothing written.
    pub written: bool,
}

/// The directory of saved inputs (`$HA_VARLIB/pengine`).
#[derive(Debug, Clone)]
pub struct SeriesDir {
    pub dir: PathBuf,
}

impl SeriesDir {
    pub fn new(dir: impl Into<PathBuf>) -> SeriesDir {
        SeriesDir { dir: dir.into() }
    }

    fn last_file(&self, s: Series) -> PathBuf {
        self.dir.join(format!("{}.last", s.name()))
    }

    /// `DIR/<series>-N.bz2`
    pub fn file(&self, s: Series, n: u64) -> PathBuf {
        self.dir.join(format!("{}-{n}.bz2", s.name()))
    }

    /// The number the next input of `s` gets (0 when nothing was saved yet
    /// or the .last file is unreadable, as in Pacemaker). A stored number
    /// at or over a lowered maximum starts again at 0.
    pub fn current(&self, s: Series, max: i64) -> u64 {
        let n = std::fs::read_to_string(self.last_file(s)).ok().and_then(|t| t.trim().parse::<u64>().ok()).unwrap_or(0);
        if max > 0 && n >= max as u64 {
            0
        } else {
            n
        }
    }

    /// Saves `xml` as the next input of `s` (bzip2, written to a temporary
    /// file and renamed so a reader never sees half a file) and advances
    /// the series.
    pub fn save(&self, s: Series, max: i64, xml: &str) -> io::Result<Saved> {
        let n = self.current(s, max);
        let path = self.file(s, n);
        if max == 0 {
            return Ok(Saved { path, written: false });
        }
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(&path, &compress(xml.as_bytes())?)?;
        write_atomic(&self.last_file(s), format!("{}", next_after(n, max)).as_bytes())?;
        Ok(Saved { path, written: true })
    }
}

/// bzip2 at the best level, as Pacemaker writes its inputs.
pub fn compress(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    enc.write_all(data)?;
    enc.finish()
}

fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_wrap_at_the_max() {
        assert_eq!(next_after(0, 3), 1);
        assert_eq!(next_after(2, 3), 0);
        assert_eq!(next_after(2, -1), 3);
        assert_eq!(next_after(4999, 5000), 0);
        assert_eq!(Series::Input.max_from(None), 4000);
        assert_eq!(Series::Warn.max_from(Some(" 7 ")), 7);
        assert_eq!(Series::Error.max_from(Some("lots")), -1);
    }

    #[test]
    fn saving_advances_and_wraps() {
        let tmp = tempfile::tempdir().unwrap();
        let d = SeriesDir::new(tmp.path().join("pengine"));
        let names: Vec<String> = (0..4)
            .map(|i| {
                let s = d.save(Series::Input, 3, &format!("<cib n=\"{i}\"/>")).unwrap();
                assert!(s.written);
                s.path.file_name().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        assert_eq!(names, ["pe-input-0.bz2", "pe-input-1.bz2", "pe-input-2.bz2", "pe-input-0.bz2"]);
        // The wrapped file holds the newest input.
        let mut text = String::new();
        std::io::Read::read_to_string(&mut bzip2::read::BzDecoder::new(std::fs::File::open(d.file(Series::Input, 0)).unwrap()), &mut text).unwrap();
        assert_eq!(text, "<cib n=\"3\"/>");
        // Series are independent; max 0 writes nothing.
        assert_eq!(d.save(Series::Warn, -1, "<cib/>").unwrap().path, d.file(Series::Warn, 0));
        let off = d.save(Series::Error, 0, "<cib/>").unwrap();
        assert!(!off.written && !off.path.exists());
        // A lowered maximum restarts the numbering.
        assert_eq!(d.current(Series::Input, 1), 0);
    }
}
