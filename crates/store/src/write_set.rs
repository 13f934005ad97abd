//! The statements a writer batch ends with, sent in as few round trips as the engine allows.
//!
//! Every statement to SQLite is a hand-off to sqlx's worker thread and back, which costs more
//! than the statement itself (0.15 to 0.25 ms on the benchmark machine). SQLite runs the
//! statements of one query string one after another, binding `?` parameters in order across
//! them, so the batch's multi-row writes go as one query. PostgreSQL prepares one statement per
//! query, so there they go one by one.

use sqlx::{Any, Transaction};

use crate::{Backend, StoreError};

/// A value bound to a statement.
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(v)
    }
}

impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(v)
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(v.to_string())
    }
}

/// Statements with their parameters, in execution order.
pub(crate) struct WriteSet {
    backend: Backend,
    statements: Vec<(String, Vec<Param>)>,
}

impl WriteSet {
    pub(crate) fn new(backend: Backend) -> WriteSet {
        WriteSet {
            backend,
            statements: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, sql: String, params: Vec<Param>) {
        self.statements.push((sql, params));
    }

    /// `prefix (p, ..., p), (...), ...` for `rows` rows of `columns` columns, with this
    /// backend's placeholders (each statement numbers its own from 1).
    pub(crate) fn multi_row(&self, prefix: &str, columns: usize, rows: usize) -> String {
        let mut sql = String::from(prefix);
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.backend.placeholder(r * columns + c + 1));
            }
            sql.push(')');
        }
        sql
    }

    pub(crate) async fn execute(self, tx: &mut Transaction<'_, Any>) -> Result<(), StoreError> {
        fn bind<'q>(
            mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
            params: Vec<Param>,
        ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
            for p in params {
                q = match p {
                    Param::Int(v) => q.bind(v),
                    Param::Text(v) => q.bind(v),
                };
            }
            q
        }
        match self.backend {
            Backend::Sqlite => {
                if self.statements.is_empty() {
                    return Ok(());
                }
                let sql = self
                    .statements
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(";\n");
                let params = self.statements.into_iter().flat_map(|(_, p)| p).collect();
                bind(sqlx::query(&sql), params).execute(&mut **tx).await?;
            }
            Backend::Postgres => {
                for (sql, params) in self.statements {
                    bind(sqlx::query(&sql), params).execute(&mut **tx).await?;
                }
            }
        }
        Ok(())
    }
}
