//! Dynamic Terraform values: the in-memory form of a `DynamicValue` after decoding.
//!
//! Lists, sets and tuples share [`Value::List`]; maps and objects share [`Value::Map`],
//! because the msgpack wire form does not tell them apart and the schema fixes the type.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Serialize};

/// A Terraform number as it arrived: msgpack sends integers, floats or decimal strings.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A decimal that may exceed 64-bit float precision, kept as its text.
    Decimal(String),
}

impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Decimal(text) => text.parse().ok(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::Float(f) => Some(*f),
            Number::Decimal(text) => text.parse().ok(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. Refinements sent by Terraform are dropped on decode.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    /// A list, set or tuple.
    List(Vec<Value>),
    /// A map or object.
    Map(BTreeMap<String, Value>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Returns true when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Returns the attribute or map element `key`, or null when absent or not a map.
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Map(entries) => entries.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets attribute `key`, turning a null value into an empty object first.
    pub fn set(&mut self, key: &str, value: Value) {
        if !matches!(self, Value::Map(_)) {
            *self = Value::Map(BTreeMap::new());
        }
        if let Value::Map(entries) = self {
            entries.insert(key.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(number) => number.as_i64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Converts JSON (state JSON, serde output) into a value. JSON has no unknowns.
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(flag),
            serde_json::Value::Number(number) => Value::Number(if let Some(i) = number.as_i64() {
                Number::Int(i)
            } else if let Some(f) = number.as_f64() {
                Number::Float(f)
            } else {
                Number::Decimal(number.to_string())
            }),
            serde_json::Value::String(text) => Value::String(text),
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, Value::from_json(value)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON, or returns `None` when anything inside is unknown.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Unknown => return None,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(Number::Int(i)) => serde_json::Value::from(*i),
            Value::Number(Number::Float(f)) => serde_json::Value::from(*f),
            Value::Number(Number::Decimal(text)) => {
                serde_json::Value::from(text.parse::<f64>().ok()?)
            }
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect::<Option<_>>()?)
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| Some((key.clone(), value.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Builds a value from a typed model through serde.
    pub fn from_serialize<T: Serialize>(model: &T) -> Result<Value, serde_json::Error> {
        Ok(Value::from_json(serde_json::to_value(model)?))
    }

    /// Reads a typed model through serde. Fails when the value contains unknowns.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let json = self.to_json().ok_or_else(|| {
            <serde_json::Error as serde::de::Error>::custom("the value contains unknown parts")
        })?;
        serde_json::from_value(json)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Value {
        Value::Bool(flag)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Number(Number::Int(number))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(option: Option<T>) -> Value {
        option.map_or(Value::Null, Into::into)
    }
}
