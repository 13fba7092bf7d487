//! The HTML report page, its share links and `readiness report --html`: the page shows the
//! JSON reports' figures, suppressed cells carry no figures, and links open without a key.

use chrono::{Duration, Utc};
use readiness_api::domain::share_token::ShareSigner;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, FINE_TUNE, OWN_MODEL_EXTRA, Reply, TestApp, answers, assert_problem, dated_submission,
    pointers, spawn_app_with,
};

const PAGE: &str = "/api/v1/reports/readiness.html";
const SHARE: &str = "/api/v1/reports/share";

/// Seven small and six micro firms over three months; September has a single firm.
async fn seed(app: &TestApp) {
    let t1 = answers(&[]);
    let t3 = answers(&[FINE_TUNE]);
    let t4 = answers(&[FINE_TUNE, OWN_MODEL_EXTRA]);
    let mut items = vec![dated_submission(
        "s1",
        "small",
        t4.clone(),
        "2026-09-15T10:00:00Z",
    )];
    for (index, tier) in [&t1, &t3, &t3, &t4, &t1, &t1].into_iter().enumerate() {
        let at = format!("2026-10-{:02}T10:00:00Z", index + 2);
        items.push(dated_submission(
            &format!("s{}", index + 2),
            "small",
            tier.clone(),
            &at,
        ));
    }
    for (index, tier) in [&t1, &t3, &t1, &t1, &t1, &t1].into_iter().enumerate() {
        let at = format!("2026-11-{:02}T10:00:00Z", index + 2);
        items.push(dated_submission(
            &format!("m{}", index + 1),
            "micro",
            tier.clone(),
            &at,
        ));
    }
    let body: Value = app
        .submit_batch(&json!({ "responses": items }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["created"], 13);
}

/// Nine firms: by size band, micro (2) is below 5 and small (7) is hidden with it.
async fn seed_small(app: &TestApp) {
    let mut items = Vec::new();
    for index in 0..7 {
        let tier = if index < 3 {
            answers(&[FINE_TUNE])
        } else {
            answers(&[])
        };
        items.push(dated_submission(
            &format!("s{index}"),
            "small",
            tier,
            "2026-10-05T10:00:00Z",
        ));
    }
    for index in 0..2 {
        items.push(dated_submission(
            &format!("m{index}"),
            "micro",
            answers(&[FINE_TUNE]),
            "2026-10-06T10:00:00Z",
        ));
    }
    let body: Value = app
        .submit_batch(&json!({ "responses": items }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["created"], 9);
}

async fn json_report(app: &TestApp, path: &str) -> Value {
    let response = app.get_as(&app.analyst_key, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Asserts a 200 HTML page with the page's headers and returns it.
async fn html(response: Reply) -> String {
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "private, no-cache");
    response.text().await.unwrap()
}

fn percent(share: &Value) -> String {
    format!("{:.1} %", share.as_f64().unwrap() * 100.0)
}

/// The value of `data-share` on the headline figure.
fn headline_share(page: &str) -> f64 {
    let start = page
        .find("data-figure=\"ready\" data-share=\"")
        .expect("a headline share")
        + "data-figure=\"ready\" data-share=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].parse().unwrap()
}

/// The `<td>` contents of every row marked suppressed, outside the unlock rankings (whose
/// figures `unlock.rs` checks).
fn suppressed_cells(page: &str) -> Vec<String> {
    let mut outside = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<div class=\"unlock\"") {
        outside.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = &rest[rest.find("</div>").unwrap()..];
    }
    outside.push_str(rest);
    let page = outside.as_str();
    page.match_indices("<tr class=\"suppressed\"")
        .map(|(start, _)| {
            let row = &page[start..start + page[start..].find("</tr>").unwrap()];
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..];
                    inner[..inner.find("</td>").unwrap()].to_owned()
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn the_page_shows_the_figures_of_the_json_reports(app: TestApp) {
    seed(&app).await;
    let readiness = json_report(&app, "/api/v1/reports/readiness?by=size_band").await;
    let blockers = json_report(&app, "/api/v1/reports/blockers?by=size_band").await;
    let page = html(
        app.get_as(&app.analyst_key, &format!("{PAGE}?by=size_band"))
            .await,
    )
    .await;

    let ready = &readiness["overall"]["ready_to_customise"];
    assert_eq!(headline_share(&page), ready["share"].as_f64().unwrap());
    assert!(page.contains(&percent(&ready["share"])), "{page}");
    let interval = format!(
        "95 % CI {:.1}–{:.1} %",
        ready["ci_low"].as_f64().unwrap() * 100.0,
        ready["ci_high"].as_f64().unwrap() * 100.0
    );
    assert!(page.contains(&interval), "{interval}");
    assert!(page.contains("<strong data-figure=\"n\">13</strong>"));
    // Every segment's tier shares are in its row of the table.
    for (segment, label) in readiness["segments"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["micro (1–9)", "small (10–49)"])
    {
        assert_eq!(segment["suppressed"], false);
        let row_start = page.find(&format!("<tr><th>{label}</th>")).unwrap();
        let row = &page[row_start..row_start + page[row_start..].find("</tr>").unwrap()];
        for tier in segment["tiers"].as_array().unwrap() {
            assert!(row.contains(&percent(&tier["share"])), "{row}");
        }
    }
    // The top blocker of each tier with its reason and share.
    for tier in blockers["tiers"].as_array().unwrap() {
        if tier["overall"]["suppressed"] == false {
            let top = &tier["overall"]["gates"][0];
            assert!(page.contains(top["reason"].as_str().unwrap()));
            assert!(page.contains(&percent(&top["share"])));
        }
    }
    for chart in [
        "tiers",
        "trend",
        "dimensions",
        "reference",
        "blockers-vendor_rag",
    ] {
        assert!(
            page.contains(&format!("<svg data-chart=\"{chart}\"")),
            "{chart}"
        );
    }
    assert!(page.contains("OECD D4SME survey"));
    assert!(page.contains("Suppression rule: a cell with fewer than <b>3</b> firms"));
    // September has one firm: its period is suppressed, and said to be.
    assert!(page.contains("Trend: 1 of 3 periods: 2026-09."), "{page}");
    assert_eq!(suppressed_cells(&page), ["suppressed"]);
    // Self-contained: no script, no external resource.
    assert!(!page.contains("<script"));
    assert!(!page.contains(" src="));
    assert!(!page.contains("@import") && !page.contains("url("));

    // Weighted, the headline also gives the weighted share.
    let margins = json!({"name": "eu", "margins": {"size_band": {"micro": 900, "small": 100}}});
    let saved = app
        .post_as(&app.admin_key, "/api/v1/populations", &margins)
        .await;
    assert_eq!(saved.status(), 201);
    let weighted = json_report(&app, "/api/v1/reports/readiness?weights=eu").await;
    let weighted = &weighted["overall"]["weighted"];
    let page = html(
        app.get_as(&app.analyst_key, &format!("{PAGE}?weights=eu"))
            .await,
    )
    .await;
    let line = format!(
        "Weighted to <code>eu</code> (effective sample size {:.0}): {} ready to customise",
        weighted["n_eff"].as_f64().unwrap(),
        percent(&weighted["ready_to_customise"]["share"])
    );
    assert!(page.contains(&line), "{line}");
}

async fn suppressed_cells_show_no_figures(app: TestApp) {
    seed_small(&app).await;
    let readiness = json_report(&app, "/api/v1/reports/readiness?by=size_band").await;
    assert!(
        readiness["segments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["suppressed"] == true)
    );
    let page = html(
        app.get_as(&app.analyst_key, &format!("{PAGE}?by=size_band"))
            .await,
    )
    .await;
    // Both segments in the tier table and in the means table: the word, nothing else.
    assert_eq!(suppressed_cells(&page), ["suppressed"; 4]);
    assert!(page.contains("Segments: 2 of 2: micro (1–9), small (10–49)."));
    let tiers_chart = &page[page.find("<svg data-chart=\"tiers\"").unwrap()..];
    let tiers_chart = &tiers_chart[..tiers_chart.find("</svg>").unwrap()];
    assert_eq!(
        tiers_chart.matches(">\nsuppressed\n<").count(),
        2,
        "{tiers_chart}"
    );
    // The overall cell is published.
    assert_eq!(headline_share(&page), 5.0 / 9.0);

    // With min_cell 10 the whole sample is hidden: no headline figure at all.
    let page = html(
        app.get_as(
            &app.analyst_key,
            &format!("{PAGE}?by=size_band&min_cell=10"),
        )
        .await,
    )
    .await;
    assert!(page.contains("The sample has fewer than 10 firms, so every figure is suppressed."));
    assert!(!page.contains("data-share="));
    assert!(!page.contains("data-figure=\"n\""));
    assert_eq!(suppressed_cells(&page), ["suppressed"; 6]);
}

async fn the_page_needs_an_analyst_and_checks_its_parameters(app: TestApp) {
    assert_problem(app.get(PAGE).await, 401, "unauthorized").await;
    assert_problem(app.get_as(&app.collector_key, PAGE).await, 403, "forbidden").await;
    assert_eq!(app.get_as(&app.admin_key, PAGE).await.status(), 200);
    let problem = assert_problem(
        app.get_as(
            &app.analyst_key,
            &format!("{PAGE}?by=colour&interval=week&expires_in=5"),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        pointers(&problem),
        ["/query/expires_in", "/query/by", "/query/interval"]
    );
    // An empty database gives a page that says everything is suppressed.
    let page = html(app.get_as(&app.analyst_key, PAGE).await).await;
    assert!(page.contains("every figure is suppressed"));
}

async fn create_share(app: &TestApp, query: &str) -> Value {
    let response = app
        .send(
            app.client
                .post(app.url(&format!("{SHARE}{query}")))
                .bearer_auth(&app.analyst_key),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], location);
    body
}

async fn a_share_link_opens_the_page_without_a_key(app: TestApp) {
    seed(&app).await;
    let before = Utc::now();
    let link = create_share(&app, "?by=size_band&interval=quarter&expires_in=600").await;
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("/api/v1/reports/shared/"), "{url}");
    assert!(!url.contains("rdy_"));
    let expires_at: chrono::DateTime<Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at > before + Duration::seconds(598));
    assert!(expires_at <= Utc::now() + Duration::seconds(600));

    let shared = html(app.get(url).await).await;
    let direct = html(
        app.get_as(
            &app.analyst_key,
            &format!("{PAGE}?by=size_band&interval=quarter"),
        )
        .await,
    )
    .await;
    assert_eq!(headline_share(&shared), headline_share(&direct));
    assert!(shared.contains("Read-only shared view"));
    assert!(
        shared.contains("Trend: 1 of 2 periods: 2026-Q3."),
        "{shared}"
    );
    assert!(shared.contains("by size band"));

    // The default lifetime is a day; the creation is audited without the link itself.
    let link = create_share(&app, "").await;
    let expires_at: chrono::DateTime<Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at > before + Duration::hours(24) - Duration::seconds(2));
    let audit: Value = app
        .get_as(&app.admin_key, "/api/v1/audit?action=report.share")
        .await
        .json()
        .await
        .unwrap();
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{audit}");
    let token = url.rsplit('/').next().unwrap();
    assert!(!audit.to_string().contains(token));
    assert_eq!(
        events[1]["details"]["query"],
        json!([["by", "size_band"], ["interval", "quarter"]])
    );
}

async fn share_links_are_checked_and_refused_alike(app: TestApp) {
    assert_problem(
        app.send(app.client.post(app.url(SHARE))).await,
        401,
        "unauthorized",
    )
    .await;
    let collector = app
        .send(
            app.client
                .post(app.url(SHARE))
                .bearer_auth(&app.collector_key),
        )
        .await;
    assert_problem(collector, 403, "forbidden").await;
    // Bad values are `422`; parameters naming what does not exist, `404`; each named.
    let invalid = (422, "validation_failed");
    let unknown = (404, "not_found");
    for (query, (status, code), expected) in [
        (
            "?by=nope&expires_in=0",
            invalid,
            vec!["/query/by", "/query/expires_in"],
        ),
        ("?expires_in=2592001", invalid, vec!["/query/expires_in"]),
        ("?expires_in=soon", invalid, vec!["/query/expires_in"]),
        ("?weights=missing", unknown, vec!["/query/weights"]),
        ("?survey=missing", unknown, vec!["/query/survey"]),
        ("?version=9", unknown, vec!["/query/version"]),
    ] {
        let response = app
            .send(
                app.client
                    .post(app.url(&format!("{SHARE}{query}")))
                    .bearer_auth(&app.analyst_key),
            )
            .await;
        let problem = assert_problem(response, status, code).await;
        assert_eq!(pointers(&problem), expected, "{query}");
    }

    let link = create_share(&app, "?by=size_band").await;
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (claims, signature) = token.split_once('.').unwrap();
    let mut altered = claims.to_owned().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let foreign = ShareSigner::random().unwrap().sign(
        link["id"].as_str().unwrap().parse().unwrap(),
        &[],
        Utc::now() + Duration::hours(1),
    );
    let mut bodies = Vec::new();
    for bad in [
        format!("{altered}.{signature}"),
        format!("{claims}.{}", &signature[2..]),
        foreign,
        "garbage".to_owned(),
    ] {
        let response = app.get(&format!("/api/v1/reports/shared/{bad}")).await;
        bodies.push(assert_problem(response, 404, "not_found").await);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    // A key that is sent must still be valid.
    let unknown = app
        .send(
            app.client
                .get(app.url(link["url"].as_str().unwrap()))
                .bearer_auth("rdy_not-a-key"),
        )
        .await;
    assert_problem(unknown, 401, "unauthorized").await;
}

const SECRET: &str = "a share secret for the tests, 32+ bytes";

async fn an_expired_link_is_gone(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.share_secret = Some(readiness_api::settings::Secret::new(SECRET));
    })
    .await
    else {
        return;
    };
    let link = create_share(&app, "?by=size_band").await;
    let id: uuid::Uuid = link["id"].as_str().unwrap().parse().unwrap();
    let signer = ShareSigner::new(SECRET.as_bytes()).unwrap();
    let pairs = [("by".to_owned(), "size_band".to_owned())];
    let expired = signer.sign(id, &pairs, Utc::now() - Duration::seconds(1));
    let response = app.get(&format!("/api/v1/reports/shared/{expired}")).await;
    let problem = assert_problem(response, 410, "share_link_expired").await;
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
    // The same secret, unexpired: the configured secret signs links the server opens.
    let fresh = signer.sign(id, &pairs, Utc::now() + Duration::hours(1));
    html(app.get(&format!("/api/v1/reports/shared/{fresh}")).await).await;
    // A genuine signature is not enough: a link the server never issued has no row.
    let unissued = signer.sign(
        uuid::Uuid::new_v4(),
        &pairs,
        Utc::now() + Duration::hours(1),
    );
    let response = app.get(&format!("/api/v1/reports/shared/{unissued}")).await;
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_gone_on_sqlite() {
    an_expired_link_is_gone(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_gone_on_postgres() {
    an_expired_link_is_gone(Backend::Postgres).await;
}

/// Runs `readiness` with `args` on a thread of its own (it builds its own runtime).
async fn readiness(args: Vec<String>) -> String {
    let code = tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || {
            let mut argv = vec!["readiness".to_owned()];
            argv.extend(args);
            readiness_api::cli::run_from(argv)
        })
        .join()
        .unwrap()
    })
    .await
    .unwrap();
    format!("{code:?}")
}

async fn the_command_line_writes_the_same_page(app: TestApp) {
    seed(&app).await;
    let dir = std::env::temp_dir().join(format!("readiness-html-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.html");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["report", "--html", out.to_str().unwrap(), "--database-url"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.push(app.database_url.clone());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let success = format!("{:?}", std::process::ExitCode::SUCCESS);
    assert_eq!(readiness(args(&["--by", "size_band"])).await, success);
    let written = std::fs::read_to_string(&out).unwrap();
    let served = html(
        app.get_as(&app.analyst_key, &format!("{PAGE}?by=size_band"))
            .await,
    )
    .await;
    assert_eq!(headline_share(&written), headline_share(&served));
    assert!(written.contains("Written by <code>readiness report</code>"));
    // Apart from the header's access note and time, the pages are the same.
    let body =
        |page: &str| page[page.find("<main>").unwrap()..page.find("<footer>").unwrap()].to_owned();
    assert_eq!(body(&written), body(&served));
    // Segment filters narrow the page as the query parameters do.
    let narrowed = ["--by", "size_band", "--industry", "C", "--country", "DE,FR"];
    assert_eq!(readiness(args(&narrowed)).await, success);
    let written = std::fs::read_to_string(&out).unwrap();
    let served = html(
        app.get_as(
            &app.analyst_key,
            &format!("{PAGE}?by=size_band&industry=C&country=FR&country=DE"),
        )
        .await,
    )
    .await;
    assert!(written.contains(
        "only firms with industry <code>C</code> and country <code>DE</code> or <code>FR</code>"
    ));
    assert_eq!(body(&written), body(&served));

    // Refused parameters are usage errors (2), naming the flag; nothing is written.
    std::fs::remove_file(&out).unwrap();
    let usage = format!("{:?}", std::process::ExitCode::from(2));
    assert_eq!(readiness(args(&["--weights", "missing"])).await, usage);
    assert_eq!(readiness(args(&["--min-cell", "2"])).await, usage);
    assert_eq!(readiness(args(&["--industry", "Z"])).await, usage);
    assert_eq!(readiness(args(&["--region", "DE-XX"])).await, usage);
    assert!(!out.exists());
    // Margins with a category the sample lacks: refused on request, else named on the page.
    let margins = json!({"name": "with-medium",
                         "margins": {"size_band": {"micro": 50, "small": 30, "medium": 20}}});
    let saved = app
        .post_as(&app.admin_key, "/api/v1/populations", &margins)
        .await;
    assert_eq!(saved.status(), 201);
    let refusing = ["--weights", "with-medium", "--dropped-categories", "refuse"];
    assert_eq!(readiness(args(&refusing)).await, usage);
    assert!(!out.exists());
    assert_eq!(
        readiness(args(&["--weights", "with-medium"])).await,
        success
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("<li><code>size_band</code> medium: 20.0 % of the population</li>"));
    // A file that cannot be written is a failure (1).
    let failure = format!("{:?}", std::process::ExitCode::FAILURE);
    let mut unwritable = args(&[]);
    unwritable[2] = dir.join("missing/report.html").to_str().unwrap().to_owned();
    assert_eq!(readiness(unwritable).await, failure);
    std::fs::remove_dir_all(&dir).unwrap();
}

crate::on_both_databases!(
    the_page_shows_the_figures_of_the_json_reports,
    suppressed_cells_show_no_figures,
    the_page_needs_an_analyst_and_checks_its_parameters,
    a_share_link_opens_the_page_without_a_key,
    share_links_are_checked_and_refused_alike,
);

/// The command line publishes with the configured table, as the server does: both read the
/// firms' record keys from the database, so both show the same perturbed figures.
async fn the_command_line_writes_the_same_page_on(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |settings| {
        settings.disclosure_table = readiness_api::settings::Settings::default().disclosure_table;
        settings.disclosure_threshold = None;
    })
    .await
    else {
        return;
    };
    the_command_line_writes_the_same_page(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_writes_the_same_page_on_sqlite() {
    the_command_line_writes_the_same_page_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_writes_the_same_page_on_postgres() {
    the_command_line_writes_the_same_page_on(Backend::Postgres).await;
}
