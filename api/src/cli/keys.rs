//! `readiness keys create|list|revoke`: API keys (migrations are applied first, so the first
//! admin key can be made before the server has ever run).

use chrono::Utc;
use clap::Subcommand;
use uuid::Uuid;

use super::{DatabaseArgs, migrated, refusal, same_name};
use crate::domain::api_key::Role;
use crate::services::keys::{check_name, issue_key};
use crate::store::audit::AuditContext;
use crate::store::keys::{KeyStore, MAX_KEY_RATE_LIMIT, NewKey};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it. The key is shown only now; only its hash is stored.
    #[command(
        after_help = "Examples:\n  readiness keys create --role admin --name ops\n  readiness keys create --role analyst --name dashboard --expires-in-days 90"
    )]
    Create {
        /// What the key is for (1–100 characters).
        #[arg(long)]
        name: String,
        /// admin, analyst, collector or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The key stops working after this many days; never when absent.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_in_days: Option<u32>,
        /// Requests a minute this key may send, in place of the server-wide
        /// `--rate-limit-per-minute` (e.g. for a trusted collector) [default: the server's]
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_KEY_RATE_LIMIT)))]
        rate_limit_per_minute: Option<u32>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List keys (never their secrets).
    #[command(
        after_help = "Example:\n  readiness keys list --database-url postgres://app@db/readiness"
    )]
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by id; it stops working at once.
    #[command(
        after_help = "Example:\n  readiness keys revoke 0192f0c1-0000-7000-8000-000000000000"
    )]
    Revoke {
        id: Uuid,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    // Writes from the command line are audited without an actor.
    let context = AuditContext::default();
    match command {
        KeysCommand::Create {
            name,
            role,
            expires_in_days,
            rate_limit_per_minute,
            database,
        } => {
            check_name(&name).map_err(|e| refusal(e, same_name))?;
            let db = migrated(&database).await?;
            let expires_at =
                expires_in_days.map(|days| Utc::now() + chrono::Duration::days(i64::from(days)));
            let issued = issue_key(
                &db,
                NewKey {
                    name,
                    role,
                    expires_at,
                    rate_limit_per_minute,
                },
                &context,
            )
            .await?;
            eprintln!(
                "created {} key `{}` (id {}); it is shown only now:",
                issued.key.role, issued.key.name, issued.key.id
            );
            println!("{}", issued.token);
            Ok(())
        }
        KeysCommand::List { database } => {
            let db = migrated(&database).await?;
            println!(
                "id\tname\trole\tprefix\tcreated_at\texpires_at\trevoked_at\tlast_used_at\trate_limit_per_minute"
            );
            let show =
                |at: Option<chrono::DateTime<Utc>>| at.map_or("-".to_owned(), |at| at.to_rfc3339());
            for key in KeyStore::list(&db).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.name,
                    key.role,
                    key.prefix,
                    key.created_at.to_rfc3339(),
                    show(key.expires_at),
                    show(key.revoked_at),
                    show(key.last_used_at),
                    key.rate_limit_per_minute
                        .map_or("-".to_owned(), |n| n.to_string()),
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { id, database } => {
            let db = migrated(&database).await?;
            KeyStore::revoke(&db, id, &context)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no key with id {id}"))?;
            println!("key {id} is revoked");
            Ok(())
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| {
        format!("`{raw}` is not a role; expected admin, analyst, collector or viewer")
    })
}
