//! Logs as hclog JSON lines on stderr, the format Terraform parses from its plugins.
//!
//! Each event becomes one line with `@level`, `@message`, `@module` (`kore`) and
//! `@timestamp` (six fractional digits, UTC as `Z`), followed by the event's fields and
//! those of the spans around it. Terraform re-logs the line under
//! `provider.terraform-provider-kore` and filters it with `TF_LOG` or `TF_LOG_PROVIDER`,
//! so this layer writes every level of the provider's own events and only warnings and
//! errors of its libraries. `KORE_LOG` (an `EnvFilter` directive such as
//! `debug,aws_smithy_runtime=trace`) replaces that default filter.
//!
//! Credentials must never reach a log: provider code must not put secrets in log fields
//! or messages. As a second line of defence this layer drops every field whose name
//! contains `secret`, `token`, `password` or `credential`.

use std::io::Write;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// hclog module name written with every line.
const MODULE: &str = "kore";

/// Filter used when `KORE_LOG` is unset.
const DEFAULT_FILTER: &str = "warn,terraform_provider_kore=trace";

/// Environment variable that overrides [`DEFAULT_FILTER`].
pub const FILTER_VARIABLE: &str = "KORE_LOG";

/// Field names containing one of these words are never written.
const REDACTED_WORDS: [&str; 4] = ["secret", "token", "password", "credential"];

/// Installs the hclog layer on stderr as the global subscriber, and a panic hook that logs
/// panics as error lines. Does nothing if a global subscriber is already set (for
/// example by a test).
pub fn init() {
    let filter = std::env::var(FILTER_VARIABLE)
        .ok()
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let installed = tracing_subscriber::registry()
        .with(HclogLayer::new(std::io::stderr).with_filter(filter))
        .try_init()
        .is_ok();
    if installed {
        install_panic_hook();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|location| format!("{}:{}", location.file(), location.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(location, "panic: {message}");
        previous(info);
    }));
}

/// A tracing layer that writes hclog JSON lines to the writers `make_writer` returns.
pub struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W> {
    pub fn new(make_writer: W) -> HclogLayer<W> {
        HclogLayer { make_writer }
    }
}

/// Fields recorded on a span, kept in its extensions until the span closes.
struct SpanFields(Map<String, Json>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut visitor = FieldVisitor::default();
        attributes.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(visitor.fields));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut visitor = FieldVisitor::default();
        values.record(&mut visitor);
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            fields.extend(visitor.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    line.extend(fields.clone());
                }
            }
        }
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        line.extend(visitor.fields);
        let message = visitor.message.unwrap_or_default();

        line.insert(
            "@level".into(),
            Json::from(level_name(event.metadata().level())),
        );
        line.insert("@message".into(), Json::from(message));
        line.insert("@module".into(), Json::from(MODULE));
        line.insert("@timestamp".into(), Json::from(timestamp_now()));

        let mut text = Json::Object(line).to_string();
        text.push('\n');
        // One write call per line keeps lines from concurrent threads whole. A failed
        // write to stderr has nowhere to be reported.
        let _ = self.make_writer.make_writer().write_all(text.as_bytes());
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Formats the current UTC time as `2006-01-02T15:04:05.000000Z`, the only layout
/// go-plugin parses in `@timestamp`.
fn timestamp_now() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

fn format_timestamp(moment: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    let utc = moment.to_offset(time::UtcOffset::UTC);
    // `format` fails only on I/O errors or when the value lacks a component of the
    // description. Neither can happen for an OffsetDateTime written to a String.
    utc.format(&format).unwrap_or_default()
}

fn is_redacted(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    REDACTED_WORDS.iter().any(|word| lower.contains(word))
}

#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Map<String, Json>,
}

impl FieldVisitor {
    fn insert(&mut self, field: &Field, value: Json) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Json::String(text) => text,
                other => other.to_string(),
            });
        } else if !is_redacted(name) {
            // `r#type` and similar raw identifiers arrive with their prefix.
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.fields.insert(name.to_string(), value);
        }
    }
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Json::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Json::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Json::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, Json::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.insert(field, Json::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("capture lock")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<Map<String, Json>> {
            let bytes = self.0.lock().expect("capture lock").clone();
            String::from_utf8(bytes)
                .expect("UTF-8 output")
                .lines()
                .map(
                    |line| match serde_json::from_str(line).expect("JSON line") {
                        Json::Object(map) => map,
                        other => panic!("log line is not an object: {other}"),
                    },
                )
                .collect()
        }
    }

    fn capture(emit: impl FnOnce()) -> Vec<Map<String, Json>> {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(HclogLayer::new(captured.clone()));
        tracing::subscriber::with_default(subscriber, emit);
        captured.lines()
    }

    #[test]
    fn line_has_hclog_keys_and_fields() {
        let lines = capture(|| {
            tracing::info!(
                record_id = "rec-1",
                attempt = 3_u64,
                ok = true,
                "provisioning account"
            );
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["@level"], "info");
        assert_eq!(line["@message"], "provisioning account");
        assert_eq!(line["@module"], "kore");
        assert_eq!(line["record_id"], "rec-1");
        assert_eq!(line["attempt"], 3);
        assert_eq!(line["ok"], true);
        assert!(!line.contains_key("message"));
    }

    #[test]
    fn every_level_maps_to_hclog_names() {
        let lines = capture(|| {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
        let levels: Vec<&str> = lines
            .iter()
            .map(|line| line["@level"].as_str().expect("level"))
            .collect();
        assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
    }

    #[test]
    fn timestamp_has_six_fractional_digits() {
        let lines = capture(|| tracing::info!("tick"));
        let stamp = lines[0]["@timestamp"].as_str().expect("timestamp");
        let layout =
            regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$").expect("regex");
        assert!(layout.is_match(stamp), "{stamp}");

        let fixed = time::macros::datetime!(2026-12-04 10:15:30.1234567 +01:00);
        assert_eq!(format_timestamp(fixed), "2026-12-04T09:15:30.123456Z");
    }

    #[test]
    fn secret_fields_never_written() {
        let lines = capture(|| {
            tracing::info!(
                aws_secret_access_key = "AKIA-not-real",
                session_token = "tok",
                Password = "pw",
                credentials = "c",
                account_name = "dev",
                "configured"
            );
        });
        let line = &lines[0];
        assert_eq!(line["account_name"], "dev");
        for key in [
            "aws_secret_access_key",
            "session_token",
            "Password",
            "credentials",
        ] {
            assert!(!line.contains_key(key), "{key} was logged");
        }
        assert!(!serde_json::to_string(line)
            .expect("json")
            .contains("AKIA-not-real"));
    }

    #[test]
    fn span_fields_are_included() {
        let lines = capture(|| {
            let span = tracing::info_span!("rpc", tf_rpc = "ReadResource");
            let _entered = span.enter();
            let inner = tracing::info_span!("inner", tf_type_name = "kore_cloud_account");
            let _inner = inner.enter();
            tracing::debug!(duration_ms = 5_u64, "served request");
        });
        let line = &lines[0];
        assert_eq!(line["tf_rpc"], "ReadResource");
        assert_eq!(line["tf_type_name"], "kore_cloud_account");
        assert_eq!(line["duration_ms"], 5);
    }

    #[test]
    fn debug_and_error_values_are_strings() {
        let failure = std::io::Error::other("connection reset");
        let lines = capture(|| {
            tracing::warn!(ids = ?vec![7, 8], error = &failure as &(dyn std::error::Error + 'static), "retrying");
        });
        assert_eq!(lines[0]["ids"], "[7, 8]");
        assert_eq!(lines[0]["error"], "connection reset");
    }
}
