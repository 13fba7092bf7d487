//! Every response the black-box tests receive is held against the committed OpenAPI document:
//! the route and its status must be documented, the content type must be one the operation
//! declares, and a JSON body must match its schema. Schemas are checked strictly: an object
//! may carry only the properties its schema names, so a field added in code but not in the
//! document fails the test that sees it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

const SPEC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../openapi/openapi.json"
));

struct Operation {
    method: String,
    template: String,
    segments: Vec<Option<String>>,
    responses: Map<String, Value>,
}

/// Method, path template, status and media type of a documented response.
type ResponseKey = (String, String, String, String);

struct Contract {
    operations: Vec<Operation>,
    /// `components`, with every object schema made strict.
    components: Value,
    validators: Mutex<HashMap<ResponseKey, Arc<Validator>>>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let spec: Value = serde_json::from_str(SPEC).expect("openapi/openapi.json is JSON");
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                continue;
            };
            operations.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                segments: template
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect(),
                responses: responses.clone(),
            });
        }
    }
    // Each schema twice: strict, and open (`<name>__open`) for use as an `allOf` member,
    // whose properties are only part of an object: the object that combines them is strict.
    let mut components = spec["components"].clone();
    if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
        let originals = schemas.clone();
        for (name, original) in originals {
            let mut open = original.clone();
            strictify(&mut open, true);
            schemas.insert(format!("{name}{OPEN}"), open);
            let mut strict = original;
            strictify(&mut strict, false);
            schemas.insert(name, strict);
        }
    }
    Contract {
        operations,
        components,
        validators: Mutex::default(),
    }
});

/// The suffix of a schema's open variant.
const OPEN: &str = "__open";

/// Adds `unevaluatedProperties: false` to every object schema that names its properties (or
/// combines others with `allOf`) and says nothing about others, except `allOf` members, which
/// stay open (and refer to the open variants of the schemas they combine).
fn strictify(schema: &mut Value, member: bool) {
    let Value::Object(map) = schema else { return };
    let open =
        !map.contains_key("additionalProperties") && !map.contains_key("unevaluatedProperties");
    if !member && open && (map.contains_key("properties") || map.contains_key("allOf")) {
        map.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "allOf" => {
                if let Value::Array(items) = value {
                    for item in items {
                        if let Some(Value::String(reference)) = item.get_mut("$ref") {
                            reference.push_str(OPEN);
                        }
                        strictify(item, true);
                    }
                }
            }
            "properties" | "$defs" | "patternProperties" => {
                if let Value::Object(properties) = value {
                    properties.values_mut().for_each(|p| strictify(p, false));
                }
            }
            "items" | "additionalProperties" | "not" => strictify(value, false),
            "oneOf" | "anyOf" | "prefixItems" => {
                if let Value::Array(items) = value {
                    items.iter_mut().for_each(|item| strictify(item, false));
                }
            }
            _ => {}
        }
    }
}

/// Panics, naming the request, unless the response is what the document promises.
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) {
    let contract = &*CONTRACT;
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let operation = contract
        .operations
        .iter()
        .filter(|op| op.method == method && op.segments.len() == segments.len())
        .filter(|op| {
            op.segments
                .iter()
                .zip(&segments)
                .all(|(template, actual)| template.as_deref().is_none_or(|t| t == *actual))
        })
        // A literal segment beats a parameter: `/reports/readiness` before `/reports/{x}`.
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count());
    let Some(operation) = operation else {
        // The document itself and the Swagger UI that renders it are served beside the API.
        if path == "/openapi.json" || path == "/docs" || path.starts_with("/docs/") {
            return;
        }
        // Requests to routes that do not exist are answered by the fallback.
        assert!(
            matches!(status, 404 | 405),
            "{method} {path} is not in openapi/openapi.json but answered {status}"
        );
        return;
    };
    let documented = operation
        .responses
        .get(&status.to_string())
        .or_else(|| operation.responses.get("default"));
    let Some(documented) = documented else {
        panic!(
            "{method} {path} answered {status}, which {} {} does not document (documented: {:?})",
            operation.method,
            operation.template,
            operation.responses.keys().collect::<Vec<_>>()
        );
    };
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        assert!(
            body.is_empty(),
            "{method} {path} → {status} sent a body where the document declares none"
        );
        return;
    };
    if body.is_empty() && status == 304 {
        return;
    }
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let Some(declared) = content.get(&media) else {
        panic!(
            "{method} {path} → {status} sent {media:?}; {} {} declares {:?}",
            operation.method,
            operation.template,
            content.keys().collect::<Vec<_>>()
        );
    };
    if !(media == "application/json" || media.ends_with("+json")) {
        return;
    }
    let Some(schema) = declared.get("schema") else {
        return;
    };
    let instance: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!("{method} {path} → {status} declared {media} but sent invalid JSON: {e}")
    });
    let key = (
        operation.method.clone(),
        operation.template.clone(),
        status.to_string(),
        media.clone(),
    );
    let validator = {
        let mut cache = contract.validators.lock().expect("validator cache");
        cache
            .entry(key)
            .or_insert_with(|| {
                let mut root = schema.clone();
                strictify(&mut root, false);
                let root = match root {
                    Value::Object(mut map) => {
                        map.insert("components".into(), contract.components.clone());
                        Value::Object(map)
                    }
                    other => json!({"allOf": [other], "components": contract.components}),
                };
                Arc::new(
                    jsonschema::draft202012::new(&root)
                        .unwrap_or_else(|e| panic!("the schema of {method} {path}: {e}")),
                )
            })
            .clone()
    };
    let problems: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {path} → {status} ({media}) does not match {} {} in openapi/openapi.json:\n{}\nbody: {instance}",
        operation.method,
        operation.template,
        problems.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::check;
    use crate::helpers::{Backend, answers, spawn_app, submission};

    fn fails(method: &str, path: &str, status: u16, content_type: &str, body: &Value) -> bool {
        let body = serde_json::to_vec(body).unwrap();
        std::panic::catch_unwind(|| check(method, path, status, Some(content_type), &body)).is_err()
    }

    /// The check is strict enough to matter: an extra field, a missing field, a wrong type,
    /// an undocumented status and an undeclared content type each fail it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_check_catches_what_the_document_does_not_say() {
        let app = spawn_app(Backend::Sqlite).await.unwrap();
        let stored: Value = app
            .submit(&submission("acme", answers(&[])), None)
            .await
            .json()
            .await
            .unwrap();
        let path = "/api/v1/surveys/ai-readiness/responses";
        let json = "application/json";
        assert!(!fails("POST", path, 201, json, &stored));

        let mut extra = stored.clone();
        extra["assessment"]["undocumented"] = json!(1);
        assert!(fails("POST", path, 201, json, &extra));
        let mut missing = stored.clone();
        missing.as_object_mut().unwrap().remove("id");
        assert!(fails("POST", path, 201, json, &missing));
        let mut mistyped = stored.clone();
        mistyped["id"] = json!(42);
        assert!(fails("POST", path, 201, json, &mistyped));
        assert!(fails("POST", path, 418, json, &stored));
        assert!(fails("POST", path, 201, "text/plain", &stored));
    }
}
