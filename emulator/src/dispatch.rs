//! The AWS side of the HTTP server. For each request it finds the service and operation from
//! `X-Amz-Target` (awsJson services), the path (Account Management) or the form `Action` (STS).
//! It rejects requests without an `Authorization` header and applies injected faults and latency.
//! Then it runs the operation, renders the protocol's response, and logs and counts the outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::Value;
use tracing::{info, warn};

use crate::context::{parse_credential_scope, RequestContext};
use crate::faults::RequestFault;
use crate::protocol::{self, AwsError};
use crate::runtime::{Emulator, Runtime};
use crate::telemetry::EventDetail;
use crate::{account, ids, organizations, servicecatalog, sts};

/// The emulated services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    ServiceCatalog,
    Organizations,
    Sts,
    Account,
}

/// The encoding a service uses for requests and responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    AwsJson,
    AwsQuery,
    RestJson,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceCatalog => "servicecatalog",
            Self::Organizations => "organizations",
            Self::Sts => "sts",
            Self::Account => "account",
        }
    }

    fn protocol(self) -> Protocol {
        match self {
            Self::ServiceCatalog | Self::Organizations => Protocol::AwsJson,
            Self::Sts => Protocol::AwsQuery,
            Self::Account => Protocol::RestJson,
        }
    }

    /// Builds the error each service sends for an injected request fault.
    fn fault_error(self, fault: RequestFault) -> AwsError {
        match fault {
            RequestFault::Scripted(failure) => {
                let mut error = AwsError::new(failure.status, &failure.code, failure.message);
                error.reason = failure.reason;
                error
            }
            RequestFault::Throttle => match self {
                Self::ServiceCatalog => AwsError::client("ThrottlingException", "Rate exceeded"),
                Self::Organizations => AwsError::client("TooManyRequestsException", "Rate exceeded"),
                Self::Sts => AwsError::client("Throttling", "Rate exceeded"),
                Self::Account => AwsError::new(429, "TooManyRequestsException", "Rate exceeded"),
            },
            RequestFault::ServerError => match self {
                Self::Organizations => AwsError::new(
                    500,
                    "ServiceException",
                    "AWS Organizations can't complete your request because of an internal service error. Try again later.",
                ),
                Self::Account => AwsError::new(500, "InternalServerException", "Internal server error."),
                Self::ServiceCatalog | Self::Sts => {
                    AwsError::new(500, "InternalFailure", "The request processing has failed because of an unknown error.")
                }
            },
            RequestFault::ServiceUnavailable => AwsError::new(
                503,
                "ServiceUnavailable",
                "The service is unavailable. Try again later.",
            ),
        }
    }
}

/// A recognised AWS request.
struct Call {
    service: Service,
    operation: String,
    input: Input,
}

enum Input {
    Json(Value),
    Form(BTreeMap<String, String>),
}

/// A successful operation's output, in its protocol's form.
enum Output {
    Json(Value),
    Rest(Option<Value>),
    Xml(String),
}

/// Handles every request outside the control prefix.
pub async fn handle_aws_request(
    State(emulator): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = ids::request_id();
    let call = match classify(&method, &uri, &headers, &body) {
        Ok(call) => call,
        Err((protocol, error)) => {
            warn!(method = %method, path = uri.path(), request_id, error = %error, "unrecognised request");
            return render_error(protocol, &request_id, &error);
        }
    };
    let protocol = call.service.protocol();

    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.trim().is_empty());
    let Some(authorization) = authorization else {
        let error = missing_authentication(protocol);
        record_outcome(&emulator, &call, &request_id, Err(&error), None);
        return render_error(protocol, &request_id, &error);
    };
    let (access_key_id, region) = parse_credential_scope(authorization);
    let context = RequestContext {
        request_id: request_id.clone(),
        access_key_id,
        region,
    };

    let (fault, latency) = emulator.with(|runtime| {
        let fault = runtime.faults.take_request_fault(&call.operation);
        (fault, runtime.faults.request_latency_seconds)
    });
    if latency > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(latency)).await;
    }

    let outcome = match fault {
        Some(fault) => Err(call.service.fault_error(fault)),
        None => emulator.with(|runtime| execute(runtime, &context, &call)),
    };
    let output_json = match &outcome {
        Ok(Output::Json(value)) | Ok(Output::Rest(Some(value))) => Some(value),
        _ => None,
    };
    record_outcome(
        &emulator,
        &call,
        &request_id,
        outcome.as_ref().map(|_| ()),
        output_json,
    );

    match outcome {
        Ok(Output::Json(value)) => protocol::json::success(&request_id, &without_nulls(value)),
        Ok(Output::Rest(value)) => {
            protocol::rest::success(&request_id, value.map(without_nulls).as_ref())
        }
        Ok(Output::Xml(result)) => protocol::query::success(&request_id, &call.operation, &result),
        Err(error) => render_error(protocol, &request_id, &error),
    }
}

/// Finds the service and operation of a request, or the error to send in the protocol it looks
/// like it speaks.
fn classify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Call, (Protocol, AwsError)> {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
        let service = match prefix {
            servicecatalog::TARGET_PREFIX => Service::ServiceCatalog,
            organizations::TARGET_PREFIX => Service::Organizations,
            _ => {
                return Err((
                    Protocol::AwsJson,
                    AwsError::client(
                        "UnknownOperationException",
                        format!("The emulator serves no operation for X-Amz-Target {target:?}."),
                    ),
                ))
            }
        };
        let input = protocol::json::parse_body(body).map_err(|error| (Protocol::AwsJson, error))?;
        return Ok(Call {
            service,
            operation: operation.to_string(),
            input: Input::Json(input),
        });
    }

    if let Some(operation) = account::operation_for_path(uri.path()) {
        let input =
            protocol::json::parse_body(body).map_err(|error| (Protocol::RestJson, error))?;
        return Ok(Call {
            service: Service::Account,
            operation: operation.to_string(),
            input: Input::Json(input),
        });
    }

    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let query = uri.query().unwrap_or_default();
    if uri.path() == "/" && (is_form || query.contains("Action=")) {
        let mut fields = protocol::query::parse_form(query.as_bytes());
        if *method == Method::POST {
            fields.extend(protocol::query::parse_form(body));
        }
        let Some(action) = fields.get("Action").cloned() else {
            return Err((
                Protocol::AwsQuery,
                AwsError::client("MissingAction", "The request has no Action parameter."),
            ));
        };
        return Ok(Call {
            service: Service::Sts,
            operation: action,
            input: Input::Form(fields),
        });
    }

    Err((
        Protocol::AwsJson,
        AwsError::new(
            404,
            "UnknownOperationException",
            format!(
                "The emulator serves no AWS operation at {method} {}; AWS requests need X-Amz-Target, an Account Management path or a form Action, and control endpoints live under /_emulator/.",
                uri.path()
            ),
        ),
    ))
}

fn missing_authentication(protocol: Protocol) -> AwsError {
    match protocol {
        Protocol::AwsQuery => AwsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        Protocol::AwsJson | Protocol::RestJson => AwsError::new(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
    }
}

fn execute(
    runtime: &mut Runtime,
    context: &RequestContext,
    call: &Call,
) -> Result<Output, AwsError> {
    match (&call.service, &call.input) {
        (Service::ServiceCatalog, Input::Json(input)) => {
            servicecatalog::handle(runtime, context, &call.operation, input).map(Output::Json)
        }
        (Service::Organizations, Input::Json(input)) => {
            organizations::handle(runtime, context, &call.operation, input).map(Output::Json)
        }
        (Service::Account, Input::Json(input)) => {
            account::handle(runtime, context, &call.operation, input).map(Output::Rest)
        }
        (Service::Sts, Input::Form(fields)) => {
            sts::handle(runtime, context, &call.operation, fields).map(Output::Xml)
        }
        _ => Err(AwsError::new(
            500,
            "InternalFailure",
            "The request was routed to the wrong protocol.",
        )),
    }
}

fn render_error(protocol: Protocol, request_id: &str, error: &AwsError) -> Response {
    match protocol {
        Protocol::AwsJson => protocol::json::error(request_id, error),
        Protocol::AwsQuery => protocol::query::error(request_id, error),
        Protocol::RestJson => protocol::rest::error(request_id, error),
    }
}

/// Counts the call, adds it to the event log and logs it through tracing.
fn record_outcome(
    emulator: &Emulator,
    call: &Call,
    request_id: &str,
    outcome: Result<(), &AwsError>,
    output: Option<&Value>,
) {
    let ids = request_ids(&call.input, output);
    let (status, error_code) = match outcome {
        Ok(()) => (200, None),
        Err(error) => (error.status, Some(error.code.clone())),
    };
    info!(
        service = call.service.name(),
        operation = %call.operation,
        request_id,
        status,
        error_code = error_code.as_deref().unwrap_or(""),
        ids = ?ids,
        "request"
    );
    emulator.with(|runtime| {
        runtime
            .telemetry
            .count_call(&call.operation, error_code.is_some());
        runtime.log(EventDetail::Request {
            service: call.service.name().to_string(),
            operation: call.operation.clone(),
            request_id: request_id.to_string(),
            status,
            error_code,
            ids,
        });
    });
}

/// Request members that identify what a call touched, for logs and the event log.
const ID_MEMBERS: [&str; 16] = [
    "AccountId",
    "Id",
    "Name",
    "ProvisionedProductId",
    "ProvisionedProductName",
    "ProductId",
    "ParentId",
    "ChildId",
    "ResourceId",
    "OrganizationalUnitId",
    "SourceParentId",
    "DestinationParentId",
    "RoleArn",
    "RoleSessionName",
    "AccountName",
    "PortfolioId",
];

fn request_ids(input: &Input, output: Option<&Value>) -> BTreeMap<String, String> {
    let mut ids = BTreeMap::new();
    for member in ID_MEMBERS {
        let value = match input {
            Input::Json(json) => json.get(member).and_then(Value::as_str).map(str::to_string),
            Input::Form(fields) => fields.get(member).cloned(),
        };
        if let Some(value) = value {
            ids.insert(member.to_string(), value);
        }
    }
    if let Some(record) = output.and_then(|output| output.get("RecordDetail")) {
        for member in ["RecordId", "ProvisionedProductId"] {
            if let Some(value) = record.get(member).and_then(Value::as_str) {
                ids.insert(member.to_string(), value.to_string());
            }
        }
    }
    ids
}

/// Drops `null` members, which AWS leaves out of responses instead of sending.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(key, member)| (key, without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_are_dropped_recursively() {
        let value = json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]});
        assert_eq!(without_nulls(value), json!({"b": {"d": 1}, "e": [{}]}));
    }

    #[test]
    fn classifies_each_protocol() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-target",
            "AWSOrganizationsV20161128.ListRoots"
                .parse()
                .expect("header"),
        );
        let call = classify(&Method::POST, &"/".parse().expect("uri"), &headers, b"{}")
            .expect("json call");
        assert_eq!(call.service, Service::Organizations);
        assert_eq!(call.operation, "ListRoots");

        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .expect("header"),
        );
        let call = classify(
            &Method::POST,
            &"/".parse().expect("uri"),
            &headers,
            b"Action=GetCallerIdentity&Version=2011-06-15",
        )
        .expect("query call");
        assert_eq!(call.service, Service::Sts);
        assert_eq!(call.operation, "GetCallerIdentity");

        let call = classify(
            &Method::POST,
            &"/putAccountName".parse().expect("uri"),
            &HeaderMap::new(),
            b"{}",
        )
        .expect("rest call");
        assert_eq!(call.service, Service::Account);
    }

    #[test]
    fn unknown_target_is_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-target",
            "AmazonEC2.DescribeInstances".parse().expect("header"),
        );
        let Err((_, error)) = classify(&Method::POST, &"/".parse().expect("uri"), &headers, b"{}")
        else {
            panic!("expected an error");
        };
        assert_eq!(error.code, "UnknownOperationException");
    }
}
