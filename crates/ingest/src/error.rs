//! Errors that stop a read. Problems with single rows are findings, not errors.

/// Why an input could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("mapping {file}: {message}")]
    Mapping { file: String, message: String },
    #[error(
        "{file}: column \"{column}\" ({role} in the mapping) is not in the header; columns found: {found}"
    )]
    MissingColumn {
        file: String,
        column: String,
        role: String,
        found: String,
    },
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error(
        "{file}: unsupported input type; expected .csv, .txt, .xlsx, .xlsm, .xls, .ods or .parquet"
    )]
    UnsupportedFile { file: String },
    #[error("no input file was given")]
    NoInput,
}
