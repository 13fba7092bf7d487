//! Every firm gets a record key: a random number from 0 to 255, drawn once when the firm is
//! stored and never shown. Reports perturb each published count by a noise that the sum of
//! its firms' record keys (modulo 256) picks from a perturbation table (the cell key method),
//! so the same set of firms always gets the same noise. The key goes with the firm's row
//! when the firm is erased.
//!
//! PostgreSQL draws the key as a volatile column default, so existing firms each get their
//! own and every insert draws one. SQLite cannot add a column with such a default, so the
//! column is added empty, existing firms are given keys, and a trigger draws the key of each
//! firm inserted without one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: [&str; 3] = [
    "ALTER TABLE firms ADD COLUMN record_key INTEGER",
    "UPDATE firms SET record_key = abs(random()) % 256",
    "CREATE TRIGGER firms_record_key AFTER INSERT ON firms WHEN NEW.record_key IS NULL \
     BEGIN UPDATE firms SET record_key = abs(random()) % 256 WHERE rowid = NEW.rowid; END",
];

const SQLITE_DOWN: [&str; 2] = [
    "DROP TRIGGER IF EXISTS firms_record_key",
    "ALTER TABLE firms DROP COLUMN record_key",
];

const POSTGRES_UP: &str = "ALTER TABLE firms ADD COLUMN record_key SMALLINT NOT NULL \
     DEFAULT floor(random() * 256)::smallint CHECK (record_key BETWEEN 0 AND 255)";

const POSTGRES_DOWN: &str = "ALTER TABLE firms DROP COLUMN record_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Sqlite {
            for statement in SQLITE_UP {
                db.execute_unprepared(statement).await?;
            }
        } else {
            db.execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Sqlite {
            for statement in SQLITE_DOWN {
                db.execute_unprepared(statement).await?;
            }
        } else {
            db.execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
