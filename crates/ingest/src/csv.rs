//! CSV input, read in parallel.
//!
//! The file is cut into blocks of whole records on a reader thread: a cut is made only after a
//! newline at which the number of quote characters seen since the start of the file is even, so a
//! quoted field that contains a newline is never split. Each block remembers the line it starts
//! on, so every finding names its real line.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::Progress;
use crate::error::IngestError;
use crate::mapping::Mapping;
use crate::parallel::run_ordered;
use crate::row::{Assembler, Cell, Columns, Context, Ingested, UnitBuilder};

const BLOCK_BYTES: usize = 8 << 20;

/// Offset just past the last record boundary in `buf` (which starts at a record boundary).
fn last_boundary(buf: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', buf).is_none() {
        return memchr::memrchr(b'\n', buf).map(|i| i + 1);
    }
    let mut in_quotes = false;
    let mut last = None;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            last = Some(i + 1);
        }
    }
    last
}

/// Offset just past the first record boundary in `buf`.
fn first_boundary(buf: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            return Some(i + 1);
        }
    }
    None
}

struct Block {
    bytes: Vec<u8>,
    first_line: u64,
}

struct Blocks<'p> {
    file: File,
    path: String,
    carry: Vec<u8>,
    next_line: u64,
    eof: bool,
    progress: &'p dyn Progress,
}

impl Blocks<'_> {
    fn fill(&mut self, want: usize) -> Result<(), IngestError> {
        let start = self.carry.len();
        self.carry.resize(start + want, 0);
        let mut filled = start;
        while filled < self.carry.len() {
            let n = self
                .file
                .read(&mut self.carry[filled..])
                .map_err(|source| IngestError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                self.eof = true;
                break;
            }
            filled += n;
        }
        self.carry.truncate(filled);
        self.progress.advance((filled - start) as u64);
        Ok(())
    }

    /// The header record (without its line end) and the line the data starts on.
    fn header(&mut self) -> Result<Vec<u8>, IngestError> {
        loop {
            if let Some(end) = first_boundary(&self.carry) {
                let rest = self.carry.split_off(end);
                let header = std::mem::replace(&mut self.carry, rest);
                self.next_line = 1 + memchr::memchr_iter(b'\n', &header).count() as u64;
                return Ok(header);
            }
            if self.eof {
                self.next_line = 2;
                return Ok(std::mem::take(&mut self.carry));
            }
            self.fill(BLOCK_BYTES)?;
        }
    }

    fn next_block(&mut self) -> Result<Option<Block>, IngestError> {
        loop {
            if self.eof && self.carry.is_empty() {
                return Ok(None);
            }
            let cut = if self.eof {
                Some(self.carry.len())
            } else if self.carry.len() >= BLOCK_BYTES {
                last_boundary(&self.carry)
            } else {
                None
            };
            if let Some(cut) = cut {
                let rest = self.carry[cut..].to_vec();
                let mut bytes = std::mem::replace(&mut self.carry, rest);
                bytes.truncate(cut);
                let first_line = self.next_line;
                self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                return Ok(Some(Block { bytes, first_line }));
            }
            self.fill(BLOCK_BYTES)?;
        }
    }
}

pub(crate) fn read(
    path: &Path,
    mapping: &Mapping,
    progress: &dyn Progress,
    threads: usize,
) -> Result<Ingested, IngestError> {
    let file_name = path.display().to_string();
    let io_err = |source| IngestError::Io {
        path: file_name.clone(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let file_bytes = file.metadata().map_err(io_err)?.len();
    progress.start(file_bytes);
    let mut blocks = Blocks {
        file,
        path: file_name.clone(),
        carry: Vec::new(),
        next_line: 1,
        eof: false,
        progress,
    };
    let mut header_bytes = blocks.header()?;
    if header_bytes.starts_with(b"\xEF\xBB\xBF") {
        header_bytes.drain(..3);
    }
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(mapping.delimiter)
        .from_reader(header_bytes.as_slice())
        .records()
        .next()
        .transpose()
        .map_err(|e| IngestError::Format {
            file: file_name.clone(),
            message: format!("line 1: the header cannot be read: {e}"),
        })?
        .map(|r| r.iter().map(|f| f.trim().to_string()).collect())
        .unwrap_or_default();
    let columns = Columns::resolve(&header, mapping, &file_name)?;
    let ctx = Context {
        mapping,
        file: file_name,
        columns,
        header,
    };
    let mut assembler = Assembler::new(&ctx, threads);
    let items = std::iter::from_fn(|| blocks.next_block().transpose());
    let mut first = true;
    run_ordered(
        threads,
        items,
        |block: Block| Ok(parse_block(&ctx, &block)),
        |unit| {
            if first {
                // Room for the whole file up front, estimated from the first block, so the
                // columns and the duplicate index never grow by copying.
                let blocks = file_bytes.div_ceil(BLOCK_BYTES as u64) as usize;
                assembler.reserve(unit.len() * blocks.max(1));
                first = false;
            }
            assembler.add(unit)
        },
    )?;
    Ok(assembler.finish())
}

fn parse_block(ctx: &Context<'_>, block: &Block) -> crate::row::Unit {
    if memchr::memchr(b'"', &block.bytes).is_none() {
        return parse_unquoted_block(ctx, block);
    }
    let mut builder = UnitBuilder::new(ctx);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(ctx.mapping.delimiter)
        .from_reader(block.bytes.as_slice());
    let mut record = csv::ByteRecord::new();
    let width = ctx.header.len();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = block.first_line + record.position().map_or(1, |p| p.line()) - 1;
                if record.len() != width {
                    builder.malformed(
                        line,
                        format!(
                            "the row has {} fields, the header has {width}; missing cells are \
                             read as empty",
                            record.len()
                        ),
                    );
                }
                builder.row(line, |i| match record.get(i) {
                    None | Some(b"") => Cell::Empty,
                    Some(bytes) => Cell::Raw(bytes),
                });
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or(block.first_line, |p| block.first_line + p.line() - 1);
                builder.malformed(line, format!("the rest of this block cannot be read: {e}"));
                break;
            }
        }
    }
    builder.finish()
}

/// A block without a single quote character: every newline ends a record and every delimiter
/// ends a field (RFC 4180), so records are split with `memchr` instead of the general CSV state
/// machine. Same rules as the general path: `\r\n` line ends, empty lines skipped.
fn parse_unquoted_block(ctx: &Context<'_>, block: &Block) -> crate::row::Unit {
    let mut builder = UnitBuilder::new(ctx);
    let width = ctx.header.len();
    let delimiter = ctx.mapping.delimiter;
    let bytes = block.bytes.as_slice();
    let mut ends: Vec<usize> = Vec::with_capacity(width);
    let mut start = 0;
    let mut line = block.first_line;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let mut record = &bytes[start..end];
        if let [rest @ .., b'\r'] = record {
            record = rest;
        }
        if !record.is_empty() {
            ends.clear();
            ends.extend(memchr::memchr_iter(delimiter, record));
            ends.push(record.len());
            if ends.len() != width {
                builder.malformed(
                    line,
                    format!(
                        "the row has {} fields, the header has {width}; missing cells are read \
                         as empty",
                        ends.len()
                    ),
                );
            }
            builder.row(line, |i| {
                let Some(&to) = ends.get(i) else {
                    return Cell::Empty;
                };
                let from = if i == 0 { 0 } else { ends[i - 1] + 1 };
                if from == to {
                    Cell::Empty
                } else {
                    Cell::Raw(&record[from..to])
                }
            });
        }
        line += 1;
        start = end + 1;
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_respect_quotes() {
        let buf = b"a,\"x\ny\",b\nc,d\ne,\"f\n";
        // The newline inside "x\ny" is not a boundary; the one after `c,d` is the last.
        assert_eq!(last_boundary(buf), Some(14));
        assert_eq!(first_boundary(buf), Some(10));
        assert_eq!(last_boundary(b"no newline"), None);
        assert_eq!(last_boundary(b"a\nb\n"), Some(4));
    }
}
