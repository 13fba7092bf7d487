//! The self-assessment pages over HTTP, as a browser without scripts uses them: forms,
//! a cookie, redirects. What a form stores equals what the API stores for the same answers;
//! drafts resume; links that are unknown, altered or expired get one page; a form without
//! its token saves nothing; a double submit stores one response.

use std::collections::BTreeMap;

use readiness_analytics::{AI_READINESS_V1, Dimension, Instrument, plan, validate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp, assert_problem, pointers, spawn_app_with};
use readiness_api::store::entities::response;

const SLUG: &str = "ai-readiness";

/// A browser: one cookie jar holding the form cookie.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

impl Browser {
    fn remember(&mut self, reply: &Reply) {
        if let Some(set) = reply.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> (u16, String, Option<String>) {
        let mut request = app.client.get(app.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        let reply = app.send(request).await;
        self.remember(&reply);
        let status = reply.status().as_u16();
        let location = location(&reply);
        (status, reply.text().await.unwrap(), location)
    }

    async fn post(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(String, String)],
    ) -> (u16, String, Option<String>) {
        let mut request = app.client.post(app.url(path)).form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        let reply = app.send(request).await;
        self.remember(&reply);
        let status = reply.status().as_u16();
        let location = location(&reply);
        (status, reply.text().await.unwrap(), location)
    }
}

fn location(reply: &Reply) -> Option<String> {
    reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The value of the first `name="<name>" value="…"` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Every value of an attribute in a page, in order.
fn attributes(html: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            html[at + marker.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn instrument() -> Instrument {
    Instrument::parse(AI_READINESS_V1).unwrap()
}

fn section_keys(instrument: &Instrument, dimension: Dimension) -> Vec<String> {
    instrument
        .questions()
        .iter()
        .filter(|q| q.section == dimension)
        .map(|q| q.key.clone())
        .collect()
}

/// The form fields of one section's answers.
fn section_fields(
    instrument: &Instrument,
    dimension: Dimension,
    given: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    section_keys(instrument, dimension)
        .into_iter()
        .filter_map(|key| given.get(&key).map(|v| (format!("q.{key}"), v.clone())))
        .collect()
}

/// Opens `start` (a survey's page, or an invitation's), posts its first step with `answers`
/// and returns the form token and the draft's path.
async fn start_draft(
    app: &TestApp,
    browser: &mut Browser,
    start: &str,
    answers: &[(&str, &str)],
) -> (String, String) {
    let (status, page, _) = browser.get(app, start).await;
    assert_eq!(status, 200, "{page}");
    let csrf = hidden(&page, "csrf");
    let mut form = fields(&[("csrf", &csrf), ("action", "next")]);
    if page.contains("name=\"invitation\"") {
        form.push(("invitation".into(), hidden(&page, "invitation")));
    }
    form.extend(fields(answers));
    let (status, page, next) = browser.post(app, &format!("/assess/{SLUG}"), &form).await;
    assert_eq!(status, 303, "{page}");
    let draft = next.unwrap().split('?').next().unwrap().to_owned();
    (csrf, draft)
}

/// Fills in the whole questionnaire; returns the draft's path and the result page.
async fn fill_in(
    app: &TestApp,
    browser: &mut Browser,
    given: &BTreeMap<String, String>,
    segment: [&str; 3],
    lang: &str,
) -> (String, String) {
    let instrument = instrument();
    let (csrf, draft) = start_draft(
        app,
        browser,
        &format!("/assess/{SLUG}?lang={lang}"),
        &[
            ("lang", lang),
            ("industry", segment[0]),
            ("size_band", segment[1]),
            ("country", segment[2]),
            ("region", ""),
        ],
    )
    .await;
    let sections = instrument.definition().sections.clone();
    for (index, section) in sections.iter().enumerate() {
        let step = index + 2;
        let last = index + 1 == sections.len();
        let mut form = fields(&[
            ("csrf", &csrf),
            ("lang", lang),
            ("step", &step.to_string()),
            ("action", if last { "submit" } else { "next" }),
        ]);
        form.extend(section_fields(&instrument, section.key, given));
        let (status, page, next) = browser.post(app, &draft, &form).await;
        assert_eq!(status, 303, "step {step}: {page}");
        let expected = if last {
            format!("{draft}/result")
        } else {
            format!("{draft}?step={}", step + 1)
        };
        assert_eq!(next.as_deref(), Some(expected.as_str()));
    }
    let (status, result, _) = browser.get(app, &format!("{draft}/result")).await;
    assert_eq!(status, 200, "{result}");
    (draft, result)
}

/// A small deterministic generator (SplitMix64).
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        usize::try_from((z ^ (z >> 31)) % n as u64).unwrap()
    }
}

fn random_answers(instrument: &Instrument, random: &mut Random) -> BTreeMap<String, String> {
    instrument
        .questions()
        .iter()
        .map(|q| {
            (
                q.key.clone(),
                q.options[random.below(q.options.len())].key.clone(),
            )
        })
        .collect()
}

async fn public(app: &TestApp) {
    assert_eq!(app.set_public(true).await.status().as_u16(), 200);
}

/// 500 random answer sets through the form: the stored response, its tier and blockers, and
/// the plan on the result page equal what the API stores and computes for the same answers.
async fn the_form_stores_what_the_api_would(app: TestApp) {
    public(&app).await;
    let instrument = instrument();
    let mut random = Random(500);
    let segments = [
        ["C", "small", "DE"],
        ["G", "micro", "CN"],
        ["J", "medium", "FR"],
    ];
    for round in 0..500 {
        let given = random_answers(&instrument, &mut random);
        let segment = segments[round % segments.len()];
        let mut browser = Browser::default();
        let (_, page) = fill_in(&app, &mut browser, &given, segment, "en").await;

        // The response the form stored: the newest of the web.
        let stored = response::Entity::find()
            .filter(response::Column::Source.eq("web"))
            .order_by_desc(response::Column::ReceivedAt)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let stored_answers: BTreeMap<String, String> =
            serde_json::from_value(stored.answers.clone()).unwrap();
        assert_eq!(stored_answers, given, "round {round}");
        assert_eq!(
            (stored.industry.as_str(), stored.size_band.as_str()),
            (segment[0], segment[1])
        );

        // The API, for the same answers.
        let body = json!({
            "firm": {"ref": format!("api-{round}"), "industry": segment[0], "size_band": segment[1], "country": segment[2]},
            "answers": given,
        });
        let reply = app.submit(&body, None).await;
        assert_eq!(reply.status().as_u16(), 201);
        let api: Value = reply.json().await.unwrap();
        assert_eq!(
            stored.tier,
            api["tier"]["key"].as_str().unwrap(),
            "round {round}"
        );
        let blockers: Vec<String> = api["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["gate"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(attributes(&page, "data-gate"), blockers, "round {round}");
        assert!(page.contains(&format!(
            "<p class=\"tier\">{}</p>",
            api["tier"]["label"].as_str().unwrap()
        )));

        // Every "enough to pass" on the page is the rubric's least passing answer.
        let validated = validate(&instrument, &json!(given)).unwrap();
        let assessment = readiness_analytics::assess(&instrument, &validated);
        let least: Vec<String> = plan(&instrument, &validated, &assessment)
            .into_iter()
            .flat_map(|step| step.alternatives.into_iter().map(|r| r.least))
            .collect();
        assert_eq!(attributes(&page, "data-least"), least, "round {round}");
    }
    let web = response::Entity::find()
        .filter(response::Column::Source.eq("web"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(web.len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_stores_what_the_api_would_on_sqlite() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.rate_limit_per_minute = 0)
        .await
        .unwrap();
    the_form_stores_what_the_api_would(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_stores_what_the_api_would_on_postgres() {
    if let Some(app) = spawn_app_with(Backend::Postgres, |s| s.rate_limit_per_minute = 0).await {
        the_form_stores_what_the_api_would(app).await;
    }
}

async fn errors_are_listed_in_the_pages_language_and_nothing_is_lost(app: TestApp) {
    public(&app).await;
    let mut browser = Browser::default();
    let (_, start, _) = browser
        .get(&app, &format!("/assess/{SLUG}?lang=zh-Hans"))
        .await;
    let csrf = hidden(&start, "csrf");
    // Nothing chosen, and a region of another country.
    let (status, page, _) = browser
        .post(
            &app,
            &format!("/assess/{SLUG}"),
            &fields(&[
                ("csrf", &csrf),
                ("lang", "zh-Hans"),
                ("action", "next"),
                ("country", "DE"),
                ("region", "CN-GD"),
            ]),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("<html lang=\"zh-Hans\">"));
    assert!(page.contains("class=\"error-summary\" role=\"alert\""));
    for anchor in ["#industry", "#size_band-0", "#region"] {
        assert!(
            page.contains(&format!("<a href=\"{anchor}\">")),
            "{anchor} in {page}"
        );
    }
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(
        page.contains("<option value=\"DE\" selected>"),
        "the country is kept"
    );
    let drafts = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM assessment_drafts",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(drafts, 0, "a refused first step starts no draft");

    // A section with one question unanswered and one value that is not a choice.
    let (status, _, next) = browser
        .post(
            &app,
            &format!("/assess/{SLUG}"),
            &fields(&[
                ("csrf", &csrf),
                ("lang", "zh-Hans"),
                ("action", "next"),
                ("industry", "C"),
                ("size_band", "small"),
                ("country", "CN"),
                ("region", "CN-GD"),
            ]),
        )
        .await;
    assert_eq!(status, 303);
    let draft = next.unwrap().split('?').next().unwrap().to_owned();
    let (status, page, _) = browser
        .post(
            &app,
            &draft,
            &fields(&[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "next"),
                ("q.business_age", "gt_5y"),
                ("q.revenue_trend", "sky_high"),
            ]),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("<a href=\"#q-revenue_trend-0\">"), "{page}");
    assert!(
        page.contains("name=\"q.business_age\" value=\"gt_5y\" checked"),
        "kept"
    );
    let zh: Value = serde_json::from_str(include_str!(
        "../../../analytics/instruments/texts/ai-readiness-v1.zh-Hans.json"
    ))
    .unwrap();
    assert!(page.contains(zh["question.revenue_trend"].as_str().unwrap()));
    // Answering it goes on.
    let (status, _, next) = browser
        .post(
            &app,
            &draft,
            &fields(&[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "next"),
                ("q.revenue_trend", "stable"),
            ]),
        )
        .await;
    assert_eq!(
        (status, next.as_deref()),
        (303, Some(format!("{draft}?step=3").as_str()))
    );
}

async fn a_form_without_its_token_saves_nothing(app: TestApp) {
    public(&app).await;
    let mut browser = Browser::default();
    let (_, start, _) = browser.get(&app, &format!("/assess/{SLUG}")).await;
    let csrf = hidden(&start, "csrf");
    let segment = [
        ("action", "next"),
        ("industry", "C"),
        ("size_band", "small"),
        ("country", "DE"),
    ];
    // No cookie.
    let mut stranger = Browser::default();
    let mut form = fields(&segment);
    form.push(("csrf".into(), csrf.clone()));
    let (status, page, _) = stranger.post(&app, &format!("/assess/{SLUG}"), &form).await;
    assert_eq!(status, 403, "{page}");
    // Another browser's cookie with this token.
    let (_, other, _) = stranger.get(&app, &format!("/assess/{SLUG}")).await;
    assert_ne!(hidden(&other, "csrf"), csrf);
    let (status, _, _) = stranger.post(&app, &format!("/assess/{SLUG}"), &form).await;
    assert_eq!(status, 403);
    // No token.
    let (status, _, _) = browser
        .post(&app, &format!("/assess/{SLUG}"), &fields(&segment))
        .await;
    assert_eq!(status, 403);
    // The right pair.
    let (status, _, _) = browser.post(&app, &format!("/assess/{SLUG}"), &form).await;
    assert_eq!(status, 303);
    // Not a form at all: a problem document.
    let reply = app
        .send(
            app.client
                .post(app.url(&format!("/assess/{SLUG}")))
                .json(&json!({"csrf": csrf})),
        )
        .await;
    assert_problem(reply, 400, "invalid_form").await;
}

async fn a_draft_resumes_from_its_link_and_submits_once(app: TestApp) {
    public(&app).await;
    let instrument = instrument();
    let mut browser = Browser::default();
    let (csrf, draft) = start_draft(
        &app,
        &mut browser,
        &format!("/assess/{SLUG}?lang=en"),
        &[
            ("industry", "J"),
            ("size_band", "micro"),
            ("country", "DE"),
            ("region", "DE-BY"),
        ],
    )
    .await;
    let given: BTreeMap<String, String> = instrument
        .questions()
        .iter()
        .map(|q| (q.key.clone(), q.options[1].key.clone()))
        .collect();
    let mut form = fields(&[("csrf", &csrf), ("step", "2"), ("action", "next")]);
    form.extend(section_fields(&instrument, Dimension::Maturity, &given));
    assert_eq!(browser.post(&app, &draft, &form).await.0, 303);
    let mut form = fields(&[("csrf", &csrf), ("step", "3"), ("action", "save")]);
    form.extend(section_fields(&instrument, Dimension::Clarity, &given));
    let (status, _, saved) = browser.post(&app, &draft, &form).await;
    assert_eq!(
        (status, saved.clone()),
        (303, Some(format!("{draft}/saved")))
    );
    let (status, page, _) = browser.get(&app, &saved.unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("{}{draft}</p>", app.address)),
        "the full link: {page}"
    );

    // Another browser (the first one closed): the link opens at the first open step with
    // every answer restored.
    let mut later = Browser::default();
    let (status, page, _) = later.get(&app, &draft).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<progress max=\"6\" value=\"4\""),
        "step 4 of 6: {page}"
    );
    let (_, page, _) = later.get(&app, &format!("{draft}?step=3")).await;
    for key in section_keys(&instrument, Dimension::Clarity) {
        assert!(
            page.contains(&format!(
                "name=\"q.{key}\" value=\"{}\" checked",
                given[&key]
            )),
            "{key}"
        );
    }
    let (_, page, _) = later.get(&app, &format!("{draft}?step=1")).await;
    assert!(page.contains("<option value=\"J\" selected>"));
    assert!(page.contains("value=\"DE-BY\""));

    // Finish in the other browser; submit twice, and twice at once.
    let csrf = hidden(&page, "csrf");
    let sections = instrument.definition().sections.clone();
    for (index, section) in sections.iter().enumerate().skip(2) {
        let last = index + 1 == sections.len();
        let mut form = fields(&[
            ("csrf", &csrf),
            ("step", &(index + 2).to_string()),
            ("action", if last { "submit" } else { "next" }),
        ]);
        form.extend(section_fields(&instrument, section.key, &given));
        if last {
            let mut twin = Browser {
                cookie: later.cookie.clone(),
            };
            let (first, second) = futures::join!(
                later.post(&app, &draft, &form),
                twin.post(&app, &draft, &form)
            );
            assert_eq!((first.0, second.0), (303, 303));
            assert_eq!(first.2, Some(format!("{draft}/result")));
            assert_eq!(second.2, Some(format!("{draft}/result")));
            let (again, _, location) = later.post(&app, &draft, &form).await;
            assert_eq!((again, location), (303, Some(format!("{draft}/result"))));
        } else {
            assert_eq!(later.post(&app, &draft, &form).await.0, 303);
        }
    }
    assert_eq!(app.response_rows().await, 1, "one response for the draft");
    // A submitted draft's steps lead to its result.
    let (status, _, location) = later.get(&app, &draft).await;
    assert_eq!((status, location), (303, Some(format!("{draft}/result"))));
}

async fn unknown_altered_and_expired_links_get_one_page(app: TestApp) {
    public(&app).await;
    let mut browser = Browser::default();
    let (_, draft) = start_draft(
        &app,
        &mut browser,
        &format!("/assess/{SLUG}"),
        &[("industry", "C"), ("size_band", "small"), ("country", "DE")],
    )
    .await;
    let token = draft.rsplit('/').next().unwrap().to_owned();
    let mut altered = token.clone();
    altered.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });

    let invitation: Value = app
        .post_as(
            &app.collector_key,
            "/api/v1/invitations",
            &json!({"survey": SLUG}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = invitation["url"].as_str().unwrap();
    let bad_invitation = format!("{}x", url);

    let h1 = |page: &str| {
        page.split("<h1>")
            .nth(1)
            .unwrap()
            .split("</h1>")
            .next()
            .unwrap()
            .to_owned()
    };
    let mut headings = Vec::new();
    for path in [
        format!("/assess/drafts/{altered}?lang=zh-Hans"),
        "/assess/drafts/short?lang=zh-Hans".to_owned(),
        format!("{bad_invitation}&lang=zh-Hans"),
        "/assess/no-such-survey?lang=zh-Hans".to_owned(),
    ] {
        let (status, page, _) = browser.get(&app, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("<html lang=\"zh-Hans\">"), "{path}");
        headings.push(h1(&page));
    }
    // Expired: the same page.
    app.db
        .execute_unprepared("UPDATE assessment_drafts SET expires_at = created_at")
        .await
        .unwrap();
    let (status, page, _) = browser.get(&app, &format!("{draft}?lang=zh-Hans")).await;
    assert_eq!(status, 404);
    headings.push(h1(&page));
    headings.dedup();
    assert_eq!(headings.len(), 1, "{headings:?}");
    assert!(!headings[0].is_ascii(), "in Chinese: {}", headings[0]);
    // The genuine invitation opens.
    let (status, _, _) = browser.get(&app, url).await;
    assert_eq!(status, 200);
}

async fn invitations_fix_the_firm_and_open_surveys_that_are_not_public(app: TestApp) {
    let mut browser = Browser::default();
    let (status, page, _) = browser.get(&app, &format!("/assess/{SLUG}")).await;
    assert_eq!(status, 403, "not public: {page}");
    let created = app
        .post_as(
            &app.collector_key,
            "/api/v1/invitations",
            &json!({"survey": SLUG, "firm_ref": "invited-1", "segment": {"industry": "F", "size_band": "small", "country": "AT"}, "valid_days": 7.0}),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    let url = created["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/assess/ai-readiness?invitation="));
    let (status, page, _) = browser.get(&app, &url).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("id=\"industry\""),
        "the segment is not asked"
    );
    assert!(page.contains("<progress max=\"5\" value=\"1\""));
    let instrument = instrument();
    let given: BTreeMap<String, String> = instrument
        .questions()
        .iter()
        .map(|q| (q.key.clone(), q.options[0].key.clone()))
        .collect();
    let csrf = hidden(&page, "csrf");
    let invitation_token = hidden(&page, "invitation");
    let mut form = fields(&[
        ("csrf", &csrf),
        ("invitation", &invitation_token),
        ("action", "next"),
    ]);
    form.extend(section_fields(&instrument, Dimension::Maturity, &given));
    let (status, _, next) = browser.post(&app, &format!("/assess/{SLUG}"), &form).await;
    assert_eq!(status, 303);
    let draft = next.unwrap().split('?').next().unwrap().to_owned();
    let sections = instrument.definition().sections.clone();
    for (index, section) in sections.iter().enumerate().skip(1) {
        let last = index + 1 == sections.len();
        let mut form = fields(&[
            ("csrf", &csrf),
            ("step", &(index + 1).to_string()),
            ("action", if last { "submit" } else { "next" }),
        ]);
        form.extend(section_fields(&instrument, section.key, &given));
        assert_eq!(
            browser.post(&app, &draft, &form).await.0,
            303,
            "step {}",
            index + 1
        );
    }
    let stored = response::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.industry.as_str(),
            stored.country.as_str(),
            stored.source.as_str()
        ),
        ("F", "AT", "web")
    );
    let firm_ref: Value = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses/{}", stored.id),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(firm_ref["firm"]["ref"], "invited-1");

    // Who may invite, and what is checked.
    assert_problem(
        app.post_as(
            &app.analyst_key,
            "/api/v1/invitations",
            &json!({"survey": SLUG}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let problem = assert_problem(
        app.post_as(
            &app.collector_key,
            "/api/v1/invitations",
            &json!({"survey": "nope", "firm_ref": " x", "segment": {"industry": "Z", "size_band": "small", "country": "DE"}, "valid_days": 0, "extra": 1}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let mut found = pointers(&problem);
    found.sort();
    assert_eq!(
        found,
        [
            "/extra",
            "/firm_ref",
            "/segment/industry",
            "/survey",
            "/valid_days"
        ]
    );
}

async fn erasing_a_firm_removes_its_drafts(app: TestApp) {
    let created: Value = app
        .post_as(
            &app.collector_key,
            "/api/v1/invitations",
            &json!({"survey": SLUG, "firm_ref": "to-erase"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut browser = Browser::default();
    let (_, draft) = start_draft(
        &app,
        &mut browser,
        created["url"].as_str().unwrap(),
        &[("industry", "C"), ("size_band", "small"), ("country", "DE")],
    )
    .await;
    assert_eq!(browser.get(&app, &draft).await.0, 200);
    // The firm has no response yet: the erasure finds no firm, and still removes the draft.
    let reply = app
        .delete_as(&app.admin_key, "/api/v1/firms/to-erase")
        .await;
    assert_eq!(reply.status().as_u16(), 404);
    assert_eq!(browser.get(&app, &draft).await.0, 404);
}

async fn pages_are_closed_to_scripts_and_caches(app: TestApp) {
    public(&app).await;
    let reply = app.get(&format!("/assess/{SLUG}?lang=zh-Hans")).await;
    let header = |name: &str| {
        reply
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let policy = header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("content-language").as_deref(), Some("zh-Hans"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    let cookie = header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/assess")
    );
    let page = reply.text().await.unwrap();
    assert!(!page.contains("<script"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no outside reference"
    );
}

crate::on_both_databases!(
    errors_are_listed_in_the_pages_language_and_nothing_is_lost,
    a_form_without_its_token_saves_nothing,
    a_draft_resumes_from_its_link_and_submits_once,
    unknown_altered_and_expired_links_get_one_page,
    invitations_fix_the_firm_and_open_surveys_that_are_not_public,
    erasing_a_firm_removes_its_drafts,
    pages_are_closed_to_scripts_and_caches,
);
