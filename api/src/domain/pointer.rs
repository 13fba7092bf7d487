//! JSON pointers (RFC 6901) that name offending fields.

/// One reference token: `~` becomes `~0` and `/` becomes `~1` (RFC 6901 §3), so a field
/// named `a/b` is `/a~1b`, not the two levels `/a/b`.
pub fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `base` followed by the token of `key`.
pub fn child(base: &str, key: &str) -> String {
    format!("{base}/{}", token(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_and_slash_are_escaped_in_that_order() {
        assert_eq!(token("a/b"), "a~1b");
        assert_eq!(token("~1"), "~01");
        assert_eq!(child("/firm", "x~/y"), "/firm/x~0~1y");
        assert_eq!(child("", "plain"), "/plain");
    }
}
