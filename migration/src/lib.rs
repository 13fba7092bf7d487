//! The database schema of Readiness, as sea-orm migrations that run on SQLite and PostgreSQL.
//!
//! **Architecture Invariant:** migrations never import entities or domain code; each one is
//! frozen as it shipped.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_tables;
mod m20261128_000002_install_ai_readiness_v1;
mod m20261128_000003_populations_and_report_index;
mod m20261128_000004_server_secrets;
mod m20261129_000001_key_rate_limits;
mod m20261129_000002_sqlite_drops_firm_index;
mod m20261204_000001_firm_record_keys;
mod m20261205_000001_scoped_keys_and_tombstones;
mod m20261205_000002_share_links;
mod m20261205_000003_audit_client_request_id;
mod m20261206_000001_changes;
mod m20261206_000002_webhooks;
mod m20261207_000001_assessment_drafts;
mod m20261208_000001_store_group_function;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_tables::Migration),
            Box::new(m20261128_000002_install_ai_readiness_v1::Migration),
            Box::new(m20261128_000003_populations_and_report_index::Migration),
            Box::new(m20261128_000004_server_secrets::Migration),
            Box::new(m20261129_000001_key_rate_limits::Migration),
            Box::new(m20261129_000002_sqlite_drops_firm_index::Migration),
            Box::new(m20261204_000001_firm_record_keys::Migration),
            Box::new(m20261205_000001_scoped_keys_and_tombstones::Migration),
            Box::new(m20261205_000002_share_links::Migration),
            Box::new(m20261205_000003_audit_client_request_id::Migration),
            Box::new(m20261206_000001_changes::Migration),
            Box::new(m20261206_000002_webhooks::Migration),
            Box::new(m20261207_000001_assessment_drafts::Migration),
            Box::new(m20261208_000001_store_group_function::Migration),
        ]
    }
}
