//! awsJson 1.1: `POST /` with the operation in `X-Amz-Target`, JSON bodies both ways, errors as a
//! JSON object with the code in `__type`. The code is also sent in `X-Amzn-ErrorType`, which the
//! Rust SDK reads first, while botocore reads `__type`.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::{AwsError, REQUEST_ID_HEADER};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Parses a request body, treating an empty body as `{}` as AWS does.
pub fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(AwsError::client(
            "SerializationException",
            "The request body must be a JSON object.",
        )),
        Err(error) => Err(AwsError::client(
            "SerializationException",
            format!("The request body is not valid JSON: {error}."),
        )),
    }
}

/// Deserializes an operation's input structure. A member of the wrong JSON type is a
/// `SerializationException`, as the real services report it.
pub fn parse_input<T: DeserializeOwned>(input: &Value) -> Result<T, AwsError> {
    serde_json::from_value(input.clone()).map_err(|error| {
        AwsError::client(
            "SerializationException",
            format!("Cannot deserialize the request: {error}."),
        )
    })
}

pub fn success(request_id: &str, output: &Value) -> Response {
    respond(StatusCode::OK, request_id, None, output)
}

pub fn error(request_id: &str, error: &AwsError) -> Response {
    let mut body = json!({"__type": error.code, "Message": error.message});
    if let Some(reason) = &error.reason {
        body["Reason"] = Value::String(reason.clone());
    }
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, request_id, Some(&error.code), &body)
}

fn respond(
    status: StatusCode,
    request_id: &str,
    error_type: Option<&str>,
    body: &Value,
) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    if let Some(Ok(value)) = error_type.map(HeaderValue::from_str) {
        headers.insert("X-Amzn-ErrorType", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(parse_body(b"").expect("parses"), json!({}));
    }

    #[test]
    fn non_object_body_is_rejected() {
        let error = parse_body(b"[1]").expect_err("rejected");
        assert_eq!(error.code, "SerializationException");
    }

    #[test]
    fn error_carries_code_in_body_and_header() {
        let response = error(
            "req-1",
            &AwsError::client("ConstraintViolationException", "quota")
                .with_reason("CLOSE_ACCOUNT_QUOTA_EXCEEDED"),
        );
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["X-Amzn-ErrorType"],
            "ConstraintViolationException"
        );
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "req-1");
    }
}
