//! The headlines and links of a run's articles, kept apart from the articles.
//!
//! Every article of a run stays in memory until the outputs are written, and its headline and
//! link were most of what it held (a news headline is about 70 bytes, its heap block more).
//! Only the outputs read them, so a run keeps them here: in one buffer, or, when the run spills
//! ([`crate::pipeline::DedupConfig::spill_dir`]), in an unnamed temporary file beside the
//! outputs, with 8 bytes per article in memory.
//!
//! Each article's record is a flags byte (bit 0: a headline, bit 1: a link), the headline's
//! length (4 bytes, little-endian), the headline and the link.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// A headline and a link, either possibly absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headline {
    /// The headline.
    pub title: Option<String>,
    /// The link.
    pub url: Option<String>,
}

/// The headlines and links of a run's articles, by document number.
#[derive(Debug)]
pub struct Headlines {
    /// Where each record starts; one more entry than there are records.
    starts: Vec<u64>,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Memory(Vec<u8>),
    /// Records up to `written` bytes are in the file; those after, in `pending`.
    File {
        file: File,
        written: u64,
        pending: Vec<u8>,
    },
}

/// Records are written to the file in pieces of about this size.
const PIECE_BYTES: usize = 64 << 10;

const TITLE: u8 = 1;
const URL: u8 = 2;

impl Default for Headlines {
    fn default() -> Self {
        Headlines::in_memory()
    }
}

impl Headlines {
    /// An empty store in memory.
    pub fn in_memory() -> Headlines {
        Headlines {
            starts: vec![0],
            place: Place::Memory(Vec::new()),
        }
    }

    /// An empty store in `file` (empty, and private to this store: an unnamed temporary file).
    pub fn in_file(file: File) -> Headlines {
        Headlines {
            starts: vec![0],
            place: Place::File {
                file,
                written: 0,
                pending: Vec::new(),
            },
        }
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the next document's record.
    ///
    /// # Panics
    ///
    /// If the headline reaches 4 GiB (a line cannot).
    pub fn push(&mut self, title: Option<&str>, url: Option<&str>) -> std::io::Result<()> {
        let flags = if title.is_some() { TITLE } else { 0 } | if url.is_some() { URL } else { 0 };
        let title = title.unwrap_or("");
        let url = url.unwrap_or("");
        let title_len = u32::try_from(title.len()).expect("a headline is under 4 GiB");
        let buf = match &mut self.place {
            Place::Memory(bytes) => bytes,
            Place::File { pending, .. } => pending,
        };
        buf.push(flags);
        buf.extend_from_slice(&title_len.to_le_bytes());
        buf.extend_from_slice(title.as_bytes());
        buf.extend_from_slice(url.as_bytes());
        let start = *self.starts.last().expect("starts holds 0 at least");
        self.starts
            .push(start + 5 + title.len() as u64 + url.len() as u64);
        if let Place::File {
            file,
            written,
            pending,
        } = &mut self.place
            && pending.len() >= PIECE_BYTES
        {
            file.write_all_at(pending, *written)?;
            *written += pending.len() as u64;
            pending.clear();
        }
        Ok(())
    }

    /// Document `doc`'s record.
    ///
    /// # Panics
    ///
    /// If `doc` has no record.
    pub fn get(&self, doc: usize) -> std::io::Result<Headline> {
        let (start, end) = (self.starts[doc], self.starts[doc + 1]);
        match &self.place {
            Place::Memory(bytes) => decode(&bytes[start as usize..end as usize]),
            Place::File {
                file,
                written,
                pending,
            } => {
                if start >= *written {
                    let at = (start - written) as usize;
                    return decode(&pending[at..at + (end - start) as usize]);
                }
                let mut record = vec![0; (end - start) as usize];
                file.read_exact_at(&mut record, start)?;
                decode(&record)
            }
        }
    }

    /// Calls `f` with each record in document order (reading the file sequentially, a piece at
    /// a time), stopping at the first error; `io_error` makes the caller's error of a failed
    /// read.
    pub fn for_each<E>(
        &self,
        io_error: impl Fn(std::io::Error) -> E,
        mut f: impl FnMut(usize, Headline) -> Result<(), E>,
    ) -> Result<(), E> {
        let (file, written, pending) = match &self.place {
            Place::Memory(bytes) => {
                for doc in 0..self.len() {
                    let record = &bytes[self.starts[doc] as usize..self.starts[doc + 1] as usize];
                    f(doc, decode(record).map_err(&io_error)?)?;
                }
                return Ok(());
            }
            Place::File {
                file,
                written,
                pending,
            } => (file, *written, pending),
        };
        // `piece` holds the file's bytes from `piece_start`.
        let mut piece: Vec<u8> = Vec::new();
        let mut piece_start = 0u64;
        for doc in 0..self.len() {
            let (start, end) = (self.starts[doc], self.starts[doc + 1]);
            let record = if start >= written {
                let at = (start - written) as usize;
                &pending[at..at + (end - start) as usize]
            } else {
                if end > piece_start + piece.len() as u64 {
                    let size = (end - start).max(PIECE_BYTES as u64).min(written - start);
                    piece.resize(size as usize, 0);
                    file.read_exact_at(&mut piece, start).map_err(&io_error)?;
                    piece_start = start;
                }
                let at = (start - piece_start) as usize;
                &piece[at..at + (end - start) as usize]
            };
            f(doc, decode(record).map_err(&io_error)?)?;
        }
        Ok(())
    }
}

/// A record's headline and link; an error if the record is not one this store wrote.
fn decode(record: &[u8]) -> std::io::Result<Headline> {
    let damaged =
        || std::io::Error::new(std::io::ErrorKind::InvalidData, "damaged headline record");
    let (&flags, rest) = record.split_first().ok_or_else(damaged)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(damaged)?;
    let title_len = u32::from_le_bytes(*len) as usize;
    if title_len > rest.len() {
        return Err(damaged());
    }
    let (title, url) = rest.split_at(title_len);
    let text = |bytes: &[u8], flag: u8| -> std::io::Result<Option<String>> {
        if flags & flag == 0 {
            return Ok(None);
        }
        let s = std::str::from_utf8(bytes).map_err(|_| damaged())?;
        Ok(Some(s.to_string()))
    };
    Ok(Headline {
        title: text(title, TITLE)?,
        url: text(url, URL)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Headline> {
        (0..n)
            .map(|i| Headline {
                title: (i % 3 != 0)
                    .then(|| format!("Headline number {i} — {}", "x".repeat(i % 50))),
                url: (i % 4 != 1).then(|| format!("https://example.com/{i}")),
            })
            .collect()
    }

    fn filled(mut store: Headlines, records: &[Headline]) -> Headlines {
        for r in records {
            store.push(r.title.as_deref(), r.url.as_deref()).unwrap();
        }
        store
    }

    /// Records come back as pushed, by number and in order, from memory and from a file
    /// (records written out in pieces and records still pending alike).
    #[test]
    fn records_come_back_as_pushed() {
        let want = records(20_000);
        let stores = [
            filled(Headlines::in_memory(), &want),
            filled(Headlines::in_file(tempfile::tempfile().unwrap()), &want),
        ];
        for store in &stores {
            assert_eq!(store.len(), want.len());
            for doc in [0, 1, 2, 3, 777, 12_345, 19_999] {
                assert_eq!(store.get(doc).unwrap(), want[doc], "doc {doc}");
            }
            let mut seen = Vec::new();
            store
                .for_each(
                    |e| e,
                    |doc, h| {
                        assert_eq!(doc, seen.len());
                        seen.push(h);
                        Ok(())
                    },
                )
                .unwrap();
            assert_eq!(seen, want);
        }
        let Place::File { written, .. } = &stores[1].place else {
            panic!("the second store is a file");
        };
        assert!(*written > 0, "some records were written to the file");
    }

    /// An empty headline is a headline: absent and empty stay apart.
    #[test]
    fn empty_and_absent_differ() {
        let store = filled(
            Headlines::in_memory(),
            &[
                Headline::default(),
                Headline {
                    title: Some(String::new()),
                    url: Some(String::new()),
                },
            ],
        );
        assert_eq!(store.get(0).unwrap(), Headline::default());
        assert_eq!(store.get(1).unwrap().title.as_deref(), Some(""));
        assert_eq!(store.get(1).unwrap().url.as_deref(), Some(""));
    }

    /// A damaged record is an error, not a panic.
    #[test]
    fn damaged_records_are_errors() {
        for record in [&[][..], &[1, 9, 0, 0, 0, b'a'], &[1, 1, 0, 0, 0, 0xff]] {
            assert!(decode(record).is_err(), "{record:?}");
        }
    }
}
