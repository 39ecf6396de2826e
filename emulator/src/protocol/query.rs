//! awsQuery as STS uses it: form-encoded requests with `Action` and `Version`, XML responses in
//! `<Action>Response/<Action>Result`, and `ErrorResponse` documents for errors. The request id goes
//! both in the `x-amzn-RequestId` header (the Rust SDK) and in the XML (botocore).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::{AwsError, REQUEST_ID_HEADER};

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Decodes a form body (or query string) into its fields. A repeated field keeps its last value.
pub fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// Wraps an operation's result elements in the response document.
pub fn success(request_id: &str, action: &str, result_xml: &str) -> Response {
    let body = format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">\n  <{action}Result>\n{result_xml}  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        escape(request_id)
    );
    respond(StatusCode::OK, request_id, body)
}

pub fn error(request_id: &str, error: &AwsError) -> Response {
    let fault = if error.is_server_fault() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{fault}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        escape(&error.code),
        escape(&error.message),
        escape(request_id)
    );
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, request_id, body)
}

/// Formats one `<name>value</name>` line at the given indentation, with the value escaped.
pub fn element(indent: usize, name: &str, value: &str) -> String {
    format!("{:indent$}<{name}>{}</{name}>\n", "", escape(value))
}

/// Escapes text for XML element content.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn respond(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_form_fields() {
        let fields = parse_form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx");
        assert_eq!(fields["Action"], "AssumeRole");
        assert_eq!(fields["RoleArn"], "arn:aws:iam::1:role/x");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }

    #[test]
    fn server_faults_are_receiver_errors() {
        let response = error("r", &AwsError::new(500, "InternalFailure", "boom"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
