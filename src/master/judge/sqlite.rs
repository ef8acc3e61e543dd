//! The judge's store in an embedded SQLite database (rusqlite, the library
//! bundled): one file on the master, migrated at open
//! (migrations/judge/), in WAL mode so that a killed master loses nothing
//! it had committed. Each call runs on tokio's blocking pool against the
//! one connection (SQLite serialises writers anyway).

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, Row, params};
use rusqlite_migration::{M, Migrations};

use super::store::{
    CallbackAttempt, JudgeOutcome, ListQuery, StoreResult, StoredSubmission, SubmissionStatus,
    SubmissionStore,
};

/// The schema's versions, oldest first; a new one is appended, never edited.
const MIGRATIONS: &[&str] = &[include_str!(
    "../../../migrations/judge/0001_submissions.sql"
)];

const COLUMNS: &str =
    "id, owner, status, created_at_ms, started_at_ms, finished_at_ms, request, outcome, callbacks";

#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating it and its folder) and migrates the database.
    pub fn open(path: &Path) -> anyhow::Result<SqliteStore> {
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).with_context(|| {
                format!(
                    "cannot create the judge's folder {} (judge.database)",
                    folder.display()
                )
            })?;
        }
        let mut connection = Connection::open(path).with_context(|| {
            format!(
                "cannot open the judge's database {} (judge.database)",
                path.display()
            )
        })?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .context("cannot put the judge's database in WAL mode")?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .context("cannot set the judge's database's synchronous mode")?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .context("cannot set the judge's database's busy timeout")?;
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        migrations
            .to_latest(&mut connection)
            .with_context(|| format!("cannot migrate the judge's database {}", path.display()))?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection on the blocking pool.
    fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> BoxFuture<'static, StoreResult<T>> {
        let connection = self.connection.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                // A panic while holding it poisons it; the data is SQLite's.
                let mut connection = connection
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                work(&mut connection)
            })
            .await
            .context("the judge's database call stopped")?
        }
        .boxed()
    }
}

fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn from_row(
    row: &Row<'_>,
) -> rusqlite::Result<(StoredSubmissionRow, String, Option<String>, String)> {
    Ok((
        StoredSubmissionRow {
            id: row.get(0)?,
            owner: row.get(1)?,
            status: row.get(2)?,
            created_at_ms: row.get(3)?,
            started_at_ms: row.get(4)?,
            finished_at_ms: row.get(5)?,
        },
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

struct StoredSubmissionRow {
    id: String,
    owner: Option<String>,
    status: String,
    created_at_ms: i64,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
}

fn decode(
    (row, request, outcome, callbacks): (StoredSubmissionRow, String, Option<String>, String),
) -> StoreResult<StoredSubmission> {
    let status = SubmissionStatus::parse(&row.status)
        .with_context(|| format!("submission {} has an unknown status {}", row.id, row.status))?;
    let unsigned = |value: i64| u64::try_from(value).unwrap_or(0);
    Ok(StoredSubmission {
        status,
        owner: row.owner,
        created_at_ms: unsigned(row.created_at_ms),
        started_at_ms: row.started_at_ms.map(unsigned),
        finished_at_ms: row.finished_at_ms.map(unsigned),
        request: serde_json::from_str(&request)
            .with_context(|| format!("submission {}'s request does not decode", row.id))?,
        outcome: outcome
            .map(|outcome| serde_json::from_str(&outcome))
            .transpose()
            .with_context(|| format!("submission {}'s outcome does not decode", row.id))?,
        callbacks: serde_json::from_str(&callbacks)
            .with_context(|| format!("submission {}'s callbacks do not decode", row.id))?,
        id: row.id,
    })
}

fn query(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<StoredSubmission>> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map(params, from_row)?;
    rows.map(|row| decode(row?)).collect()
}

impl SubmissionStore for SqliteStore {
    fn insert(&self, submission: StoredSubmission) -> BoxFuture<'_, StoreResult<()>> {
        self.with(move |connection| {
            let request = serde_json::to_string(&submission.request)?;
            let outcome = submission
                .outcome
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?;
            let callbacks = serde_json::to_string(&submission.callbacks)?;
            connection.execute(
                &format!("INSERT INTO submissions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    submission.id,
                    submission.owner,
                    submission.status.as_str(),
                    ms(submission.created_at_ms),
                    submission.started_at_ms.map(ms),
                    submission.finished_at_ms.map(ms),
                    request,
                    outcome,
                    callbacks
                ],
            )?;
            Ok(())
        })
    }

    fn get(&self, id: String) -> BoxFuture<'_, StoreResult<Option<StoredSubmission>>> {
        self.with(move |connection| {
            let row = connection
                .query_row(
                    &format!("SELECT {COLUMNS} FROM submissions WHERE id = ?1"),
                    params![id],
                    from_row,
                )
                .optional()?;
            row.map(decode).transpose()
        })
    }

    fn list(&self, list: ListQuery) -> BoxFuture<'_, StoreResult<Vec<StoredSubmission>>> {
        self.with(move |connection| {
            // NULL filters match everything; an unknown `after` matches
            // nothing (its seq is NULL).
            let sql = format!(
                "SELECT {COLUMNS} FROM submissions \
                 WHERE (?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR status = ?2) \
                 AND (?3 IS NULL OR seq < (SELECT seq FROM submissions WHERE id = ?3)) \
                 ORDER BY seq DESC LIMIT ?4"
            );
            query(
                connection,
                &sql,
                params![
                    list.owner,
                    list.status.map(SubmissionStatus::as_str),
                    list.after,
                    i64::try_from(list.limit).unwrap_or(i64::MAX)
                ],
            )
        })
    }

    fn delete(&self, id: String) -> BoxFuture<'_, StoreResult<bool>> {
        self.with(move |connection| {
            Ok(connection.execute("DELETE FROM submissions WHERE id = ?1", params![id])? > 0)
        })
    }

    fn mark_running(&self, id: String, at_ms: u64) -> BoxFuture<'_, StoreResult<()>> {
        self.with(move |connection| {
            connection.execute(
                "UPDATE submissions SET status = 'running', started_at_ms = ?2 WHERE id = ?1",
                params![id, ms(at_ms)],
            )?;
            Ok(())
        })
    }

    fn finish(
        &self,
        id: String,
        status: SubmissionStatus,
        outcome: JudgeOutcome,
        at_ms: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.with(move |connection| {
            let outcome = serde_json::to_string(&outcome)?;
            connection.execute(
                "UPDATE submissions SET status = ?2, outcome = ?3, finished_at_ms = ?4 WHERE id = ?1",
                params![id, status.as_str(), outcome, ms(at_ms)],
            )?;
            Ok(())
        })
    }

    fn add_callback_attempt(
        &self,
        id: String,
        attempt: CallbackAttempt,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.with(move |connection| {
            let transaction = connection.transaction()?;
            let callbacks: Option<String> = transaction
                .query_row(
                    "SELECT callbacks FROM submissions WHERE id = ?1",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            // Deleted meanwhile: nothing to record on.
            let Some(callbacks) = callbacks else {
                return Ok(());
            };
            let mut attempts: Vec<CallbackAttempt> = serde_json::from_str(&callbacks)?;
            attempts.push(attempt);
            transaction.execute(
                "UPDATE submissions SET callbacks = ?2 WHERE id = ?1",
                params![id, serde_json::to_string(&attempts)?],
            )?;
            transaction.commit()?;
            Ok(())
        })
    }

    fn unfinished(&self) -> BoxFuture<'_, StoreResult<Vec<StoredSubmission>>> {
        self.with(move |connection| {
            query(
                connection,
                &format!(
                    "SELECT {COLUMNS} FROM submissions WHERE status IN ('queued', 'running') ORDER BY seq"
                ),
                [],
            )
        })
    }

    fn delete_finished_before(&self, at_ms: u64) -> BoxFuture<'_, StoreResult<usize>> {
        self.with(move |connection| {
            Ok(connection.execute(
                "DELETE FROM submissions WHERE finished_at_ms IS NOT NULL AND finished_at_ms < ?1",
                params![ms(at_ms)],
            )?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::judge::compare::Comparison;
    use crate::master::judge::store::{JudgeRequest, TestCase};
    use crate::master::judge::verdict::Verdict;

    fn submission(id: &str, owner: Option<&str>, created_at_ms: u64) -> StoredSubmission {
        StoredSubmission {
            id: id.into(),
            owner: owner.map(str::to_string),
            status: SubmissionStatus::Queued,
            created_at_ms,
            started_at_ms: None,
            finished_at_ms: None,
            request: JudgeRequest {
                language: "python".into(),
                files: Vec::new(),
                limits: Default::default(),
                tests: vec![TestCase {
                    stdin: "1".into(),
                    args: Vec::new(),
                    expected_output: Some("1".into()),
                }],
                comparison: Comparison::default(),
                stop_on_failure: false,
                callback_url: None,
            },
            outcome: None,
            callbacks: Vec::new(),
        }
    }

    fn outcome() -> JudgeOutcome {
        JudgeOutcome {
            verdict: Some(Verdict::Accepted),
            compile: None,
            tests: Vec::new(),
            node: Some("worker-1".into()),
            error: None,
        }
    }

    fn store() -> (SqliteStore, std::path::PathBuf) {
        let path = std::env::temp_dir()
            .join(format!("braindrill-judge-{}", uuid::Uuid::new_v4()))
            .join("judge.sqlite");
        (SqliteStore::open(&path).expect("opens"), path)
    }

    #[tokio::test]
    async fn keeps_pages_statuses_owners_and_retention() {
        let (store, path) = store();
        for (index, owner) in ["a", "b", "a", "a"].into_iter().enumerate() {
            store
                .insert(submission(&format!("s{index}"), Some(owner), index as u64))
                .await
                .expect("inserts");
        }
        let ids = |page: Vec<StoredSubmission>| page.into_iter().map(|s| s.id).collect::<Vec<_>>();
        let page = |owner: Option<&str>, after: Option<&str>| ListQuery {
            owner: owner.map(str::to_string),
            status: None,
            limit: 2,
            after: after.map(str::to_string),
        };
        assert_eq!(
            ids(store.list(page(None, None)).await.expect("lists")),
            ["s3", "s2"]
        );
        assert_eq!(
            ids(store.list(page(None, Some("s2"))).await.expect("lists")),
            ["s1", "s0"]
        );
        assert_eq!(
            ids(store
                .list(page(Some("a"), Some("s2")))
                .await
                .expect("lists")),
            ["s0"]
        );
        assert!(
            store
                .list(page(None, Some("nope")))
                .await
                .expect("lists")
                .is_empty()
        );

        store.mark_running("s1".into(), 10).await.expect("marks");
        store
            .finish("s0".into(), SubmissionStatus::Done, outcome(), 100)
            .await
            .expect("finishes");
        let unfinished = ids(store.unfinished().await.expect("lists"));
        assert_eq!(unfinished, ["s1", "s2", "s3"]);
        let running = ListQuery {
            status: Some(SubmissionStatus::Running),
            limit: 10,
            ..ListQuery::default()
        };
        assert_eq!(ids(store.list(running).await.expect("lists")), ["s1"]);

        let attempt = CallbackAttempt {
            at_ms: 5,
            status_code: Some(500),
            error: None,
        };
        store
            .add_callback_attempt("s0".into(), attempt.clone())
            .await
            .expect("records");
        let done = store.get("s0".into()).await.expect("reads").expect("there");
        assert_eq!(done.status, SubmissionStatus::Done);
        assert_eq!(done.outcome, Some(outcome()));
        assert_eq!(done.callbacks, vec![attempt]);

        // Reopened (a restarted master), everything is there.
        drop(store);
        let store = SqliteStore::open(&path).expect("reopens");
        assert_eq!(store.unfinished().await.expect("lists").len(), 3);
        assert_eq!(store.delete_finished_before(100).await.expect("deletes"), 0);
        assert_eq!(store.delete_finished_before(101).await.expect("deletes"), 1);
        assert!(store.get("s0".into()).await.expect("reads").is_none());
        assert!(store.delete("s1".into()).await.expect("deletes"));
        assert!(!store.delete("s1".into()).await.expect("deletes"));
        if let Some(folder) = path.parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
