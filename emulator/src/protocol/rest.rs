//! restJson1 as the Account Management API uses it: the operation is the path (`POST
//! /putAccountName`), bodies are JSON, and errors carry the code in the `X-Amzn-ErrorType` header
//! and the text in the body's lower-case `message`.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{AwsError, REQUEST_ID_HEADER};

const CONTENT_TYPE: &str = "application/json";

/// Builds a 200 response. `None` sends an empty body, as operations without output do.
pub fn success(request_id: &str, output: Option<&Value>) -> Response {
    let body = output.map(Value::to_string).unwrap_or_default();
    respond(StatusCode::OK, request_id, None, body)
}

pub fn error(request_id: &str, error: &AwsError) -> Response {
    let body = json!({"message": error.message}).to_string();
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, request_id, Some(&error.code), body)
}

fn respond(
    status: StatusCode,
    request_id: &str,
    error_type: Option<&str>,
    body: String,
) -> Response {
    let mut response = Response::new(Body::from(body));
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
