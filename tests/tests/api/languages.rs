//! Texts in English and Simplified Chinese: `lang` wins over `Accept-Language`, English is
//! the default, `Content-Language` says what was served, and the rubric never changes.

use serde_json::Value;

use crate::helpers::{TestApp, answers, assert_problem, pointers, submission};

const ZH: &str = include_str!("../../../analytics/instruments/texts/ai-readiness-v1.zh-Hans.json");
const EN: &str = include_str!("../../../analytics/instruments/texts/ai-readiness-v1.en.json");

fn text(catalog: &str, key: &str) -> String {
    let catalog: Value = serde_json::from_str(catalog).unwrap();
    catalog[key].as_str().unwrap().to_owned()
}

async fn survey(
    app: &TestApp,
    query: &str,
    accept: Option<&str>,
) -> (u16, Option<String>, String, Value) {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/surveys/ai-readiness{query}")));
    if let Some(accept) = accept {
        request = request.header("Accept-Language", accept);
    }
    let reply = app.send(request).await;
    let status = reply.status().as_u16();
    let language = reply
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned());
    let vary = reply
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(", ");
    (status, language, vary, reply.json().await.unwrap())
}

fn rules(definition: &Value) -> Vec<(Value, Value)> {
    definition["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["gates"].as_array().unwrap().iter())
        .map(|g| (g["id"].clone(), g["rule"].clone()))
        .collect()
}

async fn a_definition_is_served_in_the_language_asked_for(app: TestApp) {
    let (status, language, vary, english) = survey(&app, "", None).await;
    assert_eq!((status, language.as_deref()), (200, Some("en")));
    assert!(vary.contains("Accept-Language"), "{vary}");
    assert_eq!(english["title"], text(EN, "title"));

    let (status, language, _, chinese) = survey(&app, "", Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    assert_eq!((status, language.as_deref()), (200, Some("zh-Hans")));
    assert_eq!(chinese["title"], text(ZH, "title"));
    assert_eq!(chinese["definition"]["title"], text(ZH, "title"));
    assert_eq!(
        chinese["definition"]["questions"][0]["text"],
        text(ZH, "question.business_age")
    );
    assert_eq!(
        chinese["definition"]["questions"][0]["options"][0]["label"],
        text(ZH, "option.business_age.lt_1y")
    );
    assert_eq!(
        chinese["definition"]["tiers"][1]["gates"][0]["reason"],
        text(ZH, "gate.vendor_rag.task_definition.reason")
    );
    // Keys, order and rules are the same in every language.
    assert_eq!(rules(&chinese["definition"]), rules(&english["definition"]));
    let keys = |d: &Value| {
        d["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["key"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&chinese["definition"]), keys(&english["definition"]));

    // `lang` wins over the header; a pinned version negotiates the same way.
    let (_, language, _, body) = survey(&app, "?lang=en", Some("zh-CN")).await;
    assert_eq!(
        (language.as_deref(), &body["title"]),
        (Some("en"), &english["title"])
    );
    let (_, language, _, body) = survey(&app, "/versions/1?lang=zh-Hans", None).await;
    assert_eq!(
        (language.as_deref(), &body["definition"]),
        (Some("zh-Hans"), &chinese["definition"])
    );
    // A language not offered falls back to English.
    let (_, language, _, body) = survey(&app, "", Some("fr-FR, de;q=0.5")).await;
    assert_eq!(
        (language.as_deref(), &body["title"]),
        (Some("en"), &english["title"])
    );
}

async fn the_list_of_surveys_has_titles_in_the_language_asked_for(app: TestApp) {
    let reply = app.get("/api/v1/surveys?lang=zh-Hans").await;
    assert_eq!(reply.headers().get("content-language").unwrap(), "zh-Hans");
    let etag = reply
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let chinese: Value = reply.json().await.unwrap();
    assert_eq!(chinese["surveys"][0]["title"], text(ZH, "title"));
    let reply = app.get("/api/v1/surveys").await;
    assert_eq!(reply.headers().get("content-language").unwrap(), "en");
    assert_ne!(reply.headers().get("etag").unwrap().to_str().unwrap(), etag);
    let english: Value = reply.json().await.unwrap();
    assert_eq!(english["surveys"][0]["title"], text(EN, "title"));
    let problem = assert_problem(
        app.get("/api/v1/surveys?lang=fr").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/lang"]);
}

async fn an_unknown_lang_is_refused_by_name(app: TestApp) {
    for path in [
        "/api/v1/surveys/ai-readiness?lang=fr",
        "/api/v1/surveys/ai-readiness/versions/1?lang=zh-TW",
        "/api/v1/surveys/ai-readiness?lang=en&lang=en",
    ] {
        let problem = assert_problem(app.get(path).await, 422, "validation_failed").await;
        assert_eq!(pointers(&problem), ["/query/lang"]);
    }
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/surveys/ai-readiness/responses?lang=xx"))
                .bearer_auth(&app.collector_key)
                .json(&submission("lang-refused", answers(&[]))),
        )
        .await;
    let problem = assert_problem(reply, 422, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/query/lang"]);
    assert_eq!(app.response_rows().await, 0, "nothing is stored");
}

async fn each_language_has_its_own_validator(app: TestApp) {
    let english = app.get("/api/v1/surveys/ai-readiness").await;
    let etag = english
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let reply = app
        .send(
            app.client
                .get(app.url("/api/v1/surveys/ai-readiness?lang=zh-Hans"))
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(
        reply.status().as_u16(),
        200,
        "another language is another representation"
    );
    let same = app
        .send(
            app.client
                .get(app.url("/api/v1/surveys/ai-readiness"))
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(same.status().as_u16(), 304);
    let vary = same
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        vary.iter().any(|v| v.contains("Accept-Language")),
        "{vary:?}"
    );
}

async fn the_assessment_is_told_in_the_language_asked_for(app: TestApp) {
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/surveys/ai-readiness/responses"))
                .bearer_auth(&app.collector_key)
                .header("Accept-Language", "zh-CN")
                .header("Idempotency-Key", "zh-1")
                .json(&submission("zh-firm", answers(&[]))),
        )
        .await;
    assert_eq!(reply.status().as_u16(), 201);
    assert_eq!(reply.headers().get("content-language").unwrap(), "zh-Hans");
    let created: Value = reply.json().await.unwrap();
    assert_eq!(created["tier"]["key"], "vendor_prompting");
    assert_eq!(
        created["tier"]["label"],
        text(ZH, "tier.vendor_prompting.label")
    );
    assert_eq!(
        created["tier"]["advice"],
        text(ZH, "tier.vendor_prompting.advice")
    );
    assert_eq!(
        created["next_tier"]["label"],
        text(ZH, "tier.vendor_rag.label")
    );
    assert_eq!(created["blockers"][0]["gate"], "vendor_rag.task_definition");
    assert_eq!(
        created["blockers"][0]["reason"],
        text(ZH, "gate.vendor_rag.task_definition.reason")
    );

    // A replay in English tells the same verdict in English.
    let replay = app
        .send(
            app.client
                .post(app.url("/api/v1/surveys/ai-readiness/responses?lang=en"))
                .bearer_auth(&app.collector_key)
                .header("Accept-Language", "zh-CN")
                .header("Idempotency-Key", "zh-1")
                .json(&submission("zh-firm", answers(&[]))),
        )
        .await;
    assert_eq!(replay.status().as_u16(), 200);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["id"], created["id"]);
    assert_eq!(
        replayed["tier"]["label"],
        text(EN, "tier.vendor_prompting.label")
    );

    let id = created["id"].as_str().unwrap();
    let stored: Value = app
        .get_as(
            &app.analyst_key,
            &format!("/api/v1/responses/{id}?lang=zh-Hans"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["tier"]["label"], created["tier"]["label"]);
    assert_eq!(stored["blockers"], created["blockers"]);
    assert_eq!(
        stored["answers"]["business_age"], "lt_1y",
        "answers are keys, in no language"
    );
    assert_eq!(app.response_rows().await, 1);
}

crate::on_both_databases!(
    a_definition_is_served_in_the_language_asked_for,
    the_list_of_surveys_has_titles_in_the_language_asked_for,
    an_unknown_lang_is_refused_by_name,
    each_language_has_its_own_validator,
    the_assessment_is_told_in_the_language_asked_for,
);
