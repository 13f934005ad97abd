//! Parquet input through arrow-rs, one row group per work unit.
//!
//! Timestamp columns without a zone are local wall-clock times (zone from the mapping or the zone
//! column); timestamps with a zone are instants. Every other column type is cast to text. Text
//! columns that are only looked up (segments, the zone) are read as dictionary codes, so that a
//! value is looked up once per batch, not once per row, and never copied out of its dictionary.

use std::fs::File;
use std::path::Path;

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray, TimestampSecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};

use crate::Progress;
use crate::error::IngestError;
use crate::mapping::Mapping;
use crate::parallel::run_ordered;
use crate::row::{Assembler, Cell, Columns, Context, Ingested, Unit, UnitBuilder};
use crate::stamp_format::CellTime;

enum Column {
    Text(StringArray),
    /// Dictionary keys and the dictionary's values.
    Coded(Int32Array, StringArray),
    Local(TimestampSecondArray),
    Instant(TimestampSecondArray),
}

impl Column {
    fn from_array(array: &ArrayRef) -> Result<Column, arrow_schema::ArrowError> {
        let cast_seconds = |tz: Option<std::sync::Arc<str>>| {
            arrow_cast::cast(array, &DataType::Timestamp(TimeUnit::Second, tz)).map(|a| {
                a.as_any()
                    .downcast_ref::<TimestampSecondArray>()
                    .expect("cast to Timestamp(Second)")
                    .clone()
            })
        };
        Ok(match array.data_type() {
            DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 => {
                Column::Local(cast_seconds(None)?)
            }
            DataType::Timestamp(_, Some(_)) => Column::Instant(cast_seconds(Some("UTC".into()))?),
            DataType::Dictionary(key, value)
                if **key == DataType::Int32 && **value == DataType::Utf8 =>
            {
                let dictionary = array
                    .as_any()
                    .downcast_ref::<DictionaryArray<Int32Type>>()
                    .expect("a Dictionary(Int32, Utf8) array");
                let values = dictionary
                    .values()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("Utf8 dictionary values")
                    .clone();
                Column::Coded(dictionary.keys().clone(), values)
            }
            _ => Column::Text(
                arrow_cast::cast(array, &DataType::Utf8)?
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("cast to Utf8")
                    .clone(),
            ),
        })
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Column::Text(a) if a.is_valid(row) => Cell::Text(a.value(row)),
            Column::Coded(keys, values) if keys.is_valid(row) => {
                let key = keys.value(row);
                match usize::try_from(key) {
                    Ok(k) if k < values.len() && values.is_valid(k) => Cell::Coded {
                        text: values.value(k),
                        key: key as u32,
                    },
                    _ => Cell::Empty,
                }
            }
            Column::Local(a) if a.is_valid(row) => Cell::Time(CellTime::Local(a.value(row))),
            Column::Instant(a) if a.is_valid(row) => Cell::Time(CellTime::Instant(a.value(row))),
            _ => Cell::Empty,
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
    let parquet_err = |e: &dyn std::fmt::Display| IngestError::Format {
        file: file_name.clone(),
        message: e.to_string(),
    };
    let open = || {
        File::open(path).map_err(|source| IngestError::Io {
            path: file_name.clone(),
            source,
        })
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(open()?).map_err(|e| parquet_err(&e))?;
    let header: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let columns = Columns::resolve(&header, mapping, &file_name)?;
    // The file's schema, with the text columns that are only looked up read as dictionaries.
    let looked_up: Vec<usize> = columns.looked_up().collect();
    let schema = Arc::new(Schema::new(
        builder
            .schema()
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if looked_up.contains(&i) && *f.data_type() == DataType::Utf8 {
                    let coded =
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                    Arc::new(Field::new(f.name(), coded, f.is_nullable()))
                } else {
                    f.clone()
                }
            })
            .collect::<Vec<_>>(),
    ));
    let metadata = builder.metadata().clone();
    let row_groups = metadata.num_row_groups();
    let mut first_rows = Vec::with_capacity(row_groups);
    let mut total = 0u64;
    for rg in metadata.row_groups() {
        first_rows.push(total);
        total += rg.num_rows() as u64;
    }
    progress.start(total);
    let ctx = Context {
        mapping,
        file: file_name.clone(),
        columns,
        header,
    };
    let mut assembler = Assembler::new(&ctx, threads);
    assembler.reserve(total as usize);
    let work = |rg: usize| -> Result<Unit, IngestError> {
        let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(
            open()?,
            ArrowReaderOptions::new().with_schema(schema.clone()),
        )
        .map_err(|e| parquet_err(&e))?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), ctx.columns.used.clone());
        let reader = builder
            .with_row_groups(vec![rg])
            .with_projection(mask)
            .with_batch_size(65_536)
            .build()
            .map_err(|e| parquet_err(&e))?;
        let mut unit = UnitBuilder::new(&ctx);
        unit.reserve(metadata.row_group(rg).num_rows() as usize);
        let mut row_number = first_rows[rg];
        for batch in reader {
            let batch: RecordBatch = batch.map_err(|e| parquet_err(&e))?;
            // Projected columns come in file order, i.e. the order of `used`.
            let mut by_index: Vec<Option<Column>> = (0..ctx.header.len()).map(|_| None).collect();
            for (k, &c) in ctx.columns.used.iter().enumerate() {
                by_index[c] = Some(
                    Column::from_array(batch.column(k))
                        .map_err(|e| parquet_err(&format!("column \"{}\": {e}", ctx.header[c])))?,
                );
            }
            unit.new_dictionaries();
            for r in 0..batch.num_rows() {
                row_number += 1;
                unit.row(row_number, |c| match &by_index[c] {
                    Some(col) => col.cell(r),
                    None => Cell::Empty,
                });
            }
            progress.advance(batch.num_rows() as u64);
        }
        Ok(unit.finish())
    };
    run_ordered(threads, (0..row_groups).map(Ok), work, |unit| {
        assembler.add(unit)
    })?;
    Ok(assembler.finish())
}
