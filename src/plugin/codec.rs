//! Wire encoding of Terraform values: msgpack and JSON `DynamicValue` bytes to and from
//! [`Value`], guided by the schema's type.
//!
//! Decoding reads any msgpack extension as an unknown value, so refined unknowns
//! (extension 12) lose their refinements, which Terraform documents as always safe.
//! Encoding writes unknowns as extension 0 and numbers as integers, floats or decimal
//! strings. [`conform_block`] fills what a provider left out of an outgoing object
//! (missing attributes become null, missing nested blocks null or empty) so that the
//! encoded value has exactly the schema's shape.

use std::collections::BTreeMap;
use std::fmt;

use super::{AttributePath, Block, Nesting, Number, PathStep, Type, Value};

/// msgpack extension code of an unrefined unknown value.
const UNKNOWN_EXTENSION: i8 = 0;

/// A cty type as it appears on the wire. It is wider than [`Type`] because values of
/// `dynamic` attributes carry their own type, which may be a tuple.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Shape>),
    Set(Box<Shape>),
    Map(Box<Shape>),
    Object(Vec<(String, Shape)>),
    Tuple(Vec<Shape>),
}

impl From<&Type> for Shape {
    fn from(ty: &Type) -> Shape {
        match ty {
            Type::String => Shape::String,
            Type::Number => Shape::Number,
            Type::Bool => Shape::Bool,
            Type::Dynamic => Shape::Dynamic,
            Type::List(element) => Shape::List(Box::new(Shape::from(element.as_ref()))),
            Type::Set(element) => Shape::Set(Box::new(Shape::from(element.as_ref()))),
            Type::Map(element) => Shape::Map(Box::new(Shape::from(element.as_ref()))),
            Type::Object(attributes) => Shape::Object(
                attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), Shape::from(ty)))
                    .collect(),
            ),
        }
    }
}

impl Shape {
    /// Parses a cty JSON type constraint, for example `["map","string"]`. Optional
    /// attribute markers of object types (a third array element) are ignored.
    pub(crate) fn from_cty_json(json: &serde_json::Value) -> Result<Shape, CodecError> {
        use serde_json::Value as Json;
        let invalid = || CodecError::new(format!("invalid type constraint {json}"));
        match json {
            Json::String(name) => match name.as_str() {
                "string" => Ok(Shape::String),
                "number" => Ok(Shape::Number),
                "bool" => Ok(Shape::Bool),
                "dynamic" => Ok(Shape::Dynamic),
                _ => Err(invalid()),
            },
            Json::Array(parts) if parts.len() >= 2 => {
                let kind = parts[0].as_str().ok_or_else(invalid)?;
                let element = || Shape::from_cty_json(&parts[1]).map(Box::new);
                match kind {
                    "list" => Ok(Shape::List(element()?)),
                    "set" => Ok(Shape::Set(element()?)),
                    "map" => Ok(Shape::Map(element()?)),
                    "object" => {
                        let fields = parts[1].as_object().ok_or_else(invalid)?;
                        let attributes = fields
                            .iter()
                            .map(|(name, ty)| Ok((name.clone(), Shape::from_cty_json(ty)?)))
                            .collect::<Result<_, CodecError>>()?;
                        Ok(Shape::Object(attributes))
                    }
                    "tuple" => {
                        let elements = parts[1].as_array().ok_or_else(invalid)?;
                        let shapes = elements
                            .iter()
                            .map(Shape::from_cty_json)
                            .collect::<Result<_, _>>()?;
                        Ok(Shape::Tuple(shapes))
                    }
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    /// Returns the cty JSON form of this type.
    pub(crate) fn to_cty_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Shape::String => json!("string"),
            Shape::Number => json!("number"),
            Shape::Bool => json!("bool"),
            Shape::Dynamic => json!("dynamic"),
            Shape::List(element) => json!(["list", element.to_cty_json()]),
            Shape::Set(element) => json!(["set", element.to_cty_json()]),
            Shape::Map(element) => json!(["map", element.to_cty_json()]),
            Shape::Object(attributes) => {
                let fields: serde_json::Map<String, serde_json::Value> = attributes
                    .iter()
                    .map(|(name, shape)| (name.clone(), shape.to_cty_json()))
                    .collect();
                json!(["object", fields])
            }
            Shape::Tuple(elements) => {
                let shapes: Vec<serde_json::Value> =
                    elements.iter().map(Shape::to_cty_json).collect();
                json!(["tuple", shapes])
            }
        }
    }

    /// Infers the type of a value stored in a `dynamic` attribute. Lists become tuples
    /// and maps become objects, because [`Value`] does not record which one it was.
    fn infer(value: &Value) -> Shape {
        match value {
            Value::Null | Value::Unknown => Shape::Dynamic,
            Value::Bool(_) => Shape::Bool,
            Value::Number(_) => Shape::Number,
            Value::String(_) => Shape::String,
            Value::List(items) => Shape::Tuple(items.iter().map(Shape::infer).collect()),
            Value::Map(entries) => Shape::Object(
                entries
                    .iter()
                    .map(|(name, item)| (name.clone(), Shape::infer(item)))
                    .collect(),
            ),
        }
    }
}

impl Block {
    /// Returns the object type that values of this block have on the wire: one attribute
    /// per attribute and per nested block type.
    pub(crate) fn shape(&self) -> Shape {
        let mut attributes: Vec<(String, Shape)> = self
            .attributes
            .iter()
            .map(|attribute| (attribute.name.clone(), Shape::from(&attribute.ty)))
            .collect();
        for nested in &self.blocks {
            let object = nested.block.shape();
            let shape = match nested.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => Shape::List(Box::new(object)),
                Nesting::Set => Shape::Set(Box::new(object)),
                Nesting::Map => Shape::Map(Box::new(object)),
            };
            attributes.push((nested.type_name.clone(), shape));
        }
        Shape::Object(attributes)
    }
}

/// A value that does not match its type, or bytes that are not valid msgpack or JSON.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct CodecError {
    /// Path to the failing part of the value, empty when the whole value fails.
    pub path: AttributePath,
    pub message: String,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl CodecError {
    fn new(message: impl Into<String>) -> CodecError {
        CodecError {
            path: AttributePath::default(),
            message: message.into(),
        }
    }

    /// Prefixes the path with the step that led into the failing value.
    fn within(mut self, step: PathStep) -> CodecError {
        self.path.0.insert(0, step);
        self
    }
}

fn attribute_step(name: &str) -> PathStep {
    PathStep::Attribute(name.to_string())
}

fn index_step(index: usize) -> PathStep {
    PathStep::ElementKeyInt(i64::try_from(index).unwrap_or(i64::MAX))
}

fn key_step(key: &str) -> PathStep {
    PathStep::ElementKeyString(key.to_string())
}

/// Decodes msgpack bytes holding a value of type `shape`.
pub(crate) fn decode_msgpack(bytes: &[u8], shape: &Shape) -> Result<Value, CodecError> {
    let mut reader = bytes;
    let raw = rmpv::decode::read_value(&mut reader)
        .map_err(|error| CodecError::new(format!("invalid msgpack: {error}")))?;
    if !reader.is_empty() {
        return Err(CodecError::new(format!(
            "invalid msgpack: {} bytes after the value",
            reader.len()
        )));
    }
    from_msgpack(raw, shape)
}

fn from_msgpack(raw: rmpv::Value, shape: &Shape) -> Result<Value, CodecError> {
    use rmpv::Value as Raw;
    match raw {
        Raw::Nil => return Ok(Value::Null),
        // Extension 0 is an unknown; 12 is an unknown with refinements. Any other code
        // is read as unknown too, as the wire format requires of decoders.
        Raw::Ext(_, _) => return Ok(Value::Unknown),
        _ => {}
    }
    match shape {
        Shape::String => match raw {
            Raw::String(text) => text
                .into_str()
                .map(Value::String)
                .ok_or_else(|| CodecError::new("string is not valid UTF-8")),
            other => Err(mismatch("a string", &other)),
        },
        Shape::Number => number_from_msgpack(raw).map(Value::Number),
        Shape::Bool => match raw {
            Raw::Boolean(flag) => Ok(Value::Bool(flag)),
            other => Err(mismatch("a bool", &other)),
        },
        Shape::List(element) | Shape::Set(element) => match raw {
            Raw::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    from_msgpack(item, element).map_err(|e| e.within(index_step(index)))
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(mismatch("an array", &other)),
        },
        Shape::Tuple(elements) => match raw {
            Raw::Array(items) if items.len() == elements.len() => items
                .into_iter()
                .zip(elements)
                .enumerate()
                .map(|(index, (item, element))| {
                    from_msgpack(item, element).map_err(|e| e.within(index_step(index)))
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(mismatch(
                &format!("an array of {} elements", elements.len()),
                &other,
            )),
        },
        Shape::Map(element) => match raw {
            Raw::Map(pairs) => {
                let mut entries = BTreeMap::new();
                for (key, item) in pairs {
                    let key = msgpack_key(key)?;
                    let value =
                        from_msgpack(item, element).map_err(|e| e.within(key_step(&key)))?;
                    entries.insert(key, value);
                }
                Ok(Value::Map(entries))
            }
            other => Err(mismatch("a map", &other)),
        },
        Shape::Object(attributes) => match raw {
            Raw::Map(pairs) => {
                let mut entries = BTreeMap::new();
                for (key, item) in pairs {
                    let name = msgpack_key(key)?;
                    let Some((_, attribute_shape)) = attributes.iter().find(|(n, _)| *n == name)
                    else {
                        return Err(CodecError::new(format!("unsupported attribute {name:?}")));
                    };
                    let value = from_msgpack(item, attribute_shape)
                        .map_err(|e| e.within(attribute_step(&name)))?;
                    entries.insert(name, value);
                }
                Ok(Value::Map(entries))
            }
            other => Err(mismatch("a map", &other)),
        },
        Shape::Dynamic => match raw {
            Raw::Array(mut parts) if parts.len() == 2 => {
                let value = parts.pop().unwrap_or(Raw::Nil);
                let type_json = match parts.pop() {
                    Some(Raw::Binary(bytes)) => bytes,
                    Some(Raw::String(text)) => text.into_bytes(),
                    _ => return Err(CodecError::new("dynamic value without a type")),
                };
                let type_json: serde_json::Value = serde_json::from_slice(&type_json)
                    .map_err(|error| CodecError::new(format!("invalid dynamic type: {error}")))?;
                from_msgpack(value, &Shape::from_cty_json(&type_json)?)
            }
            other => Err(mismatch("a [type, value] array", &other)),
        },
    }
}

fn msgpack_key(key: rmpv::Value) -> Result<String, CodecError> {
    match key {
        rmpv::Value::String(text) => text
            .into_str()
            .ok_or_else(|| CodecError::new("map key is not valid UTF-8")),
        other => Err(mismatch("a string map key", &other)),
    }
}

fn number_from_msgpack(raw: rmpv::Value) -> Result<Number, CodecError> {
    match raw {
        rmpv::Value::Integer(integer) => Ok(match integer.as_i64() {
            Some(small) => Number::Int(small),
            None => Number::Decimal(integer.to_string()),
        }),
        rmpv::Value::F32(float) => Ok(Number::Float(f64::from(float))),
        rmpv::Value::F64(float) => Ok(Number::Float(float)),
        rmpv::Value::String(text) => {
            let text = text
                .into_str()
                .ok_or_else(|| CodecError::new("number is not valid UTF-8"))?;
            parse_decimal(&text)
        }
        other => Err(mismatch("a number", &other)),
    }
}

/// Parses a decimal number as Terraform writes one that exceeds float precision.
/// Integers that fit 64 bits become [`Number::Int`] so that equal values compare equal.
pub(crate) fn parse_decimal(text: &str) -> Result<Number, CodecError> {
    if let Ok(integer) = text.parse::<i64>() {
        return Ok(Number::Int(integer));
    }
    if is_decimal_syntax(text) {
        Ok(Number::Decimal(text.to_string()))
    } else {
        Err(CodecError::new(format!("{text:?} is not a number")))
    }
}

/// Checks `-?digits(.digits)?([eE][+-]?digits)?`, the form cty writes.
fn is_decimal_syntax(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(position) => (&unsigned[..position], Some(&unsigned[position + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    digits(whole) && fraction.is_none_or(digits) && exponent_ok
}

fn mismatch(expected: &str, raw: &rmpv::Value) -> CodecError {
    let found = match raw {
        rmpv::Value::Nil => "nil",
        rmpv::Value::Boolean(_) => "a bool",
        rmpv::Value::Integer(_) | rmpv::Value::F32(_) | rmpv::Value::F64(_) => "a number",
        rmpv::Value::String(_) => "a string",
        rmpv::Value::Binary(_) => "binary data",
        rmpv::Value::Array(_) => "an array",
        rmpv::Value::Map(_) => "a map",
        rmpv::Value::Ext(_, _) => "an extension value",
    };
    CodecError::new(format!("expected {expected}, found {found}"))
}

/// Encodes `value` as msgpack of type `shape`. Object attributes missing from the value
/// are written as null; attributes the type does not have are an error.
pub(crate) fn encode_msgpack(value: &Value, shape: &Shape) -> Result<Vec<u8>, CodecError> {
    let raw = to_msgpack(value, shape)?;
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &raw)
        .map_err(|error| CodecError::new(format!("msgpack encoding failed: {error}")))?;
    Ok(bytes)
}

fn to_msgpack(value: &Value, shape: &Shape) -> Result<rmpv::Value, CodecError> {
    use rmpv::Value as Raw;
    match value {
        Value::Null => return Ok(Raw::Nil),
        // The payload of extension 0 is ignored by readers; cty writes one zero byte.
        Value::Unknown => return Ok(Raw::Ext(UNKNOWN_EXTENSION, vec![0])),
        _ => {}
    }
    match shape {
        Shape::String => match value {
            Value::String(text) => Ok(Raw::from(text.as_str())),
            Value::Bool(flag) => Ok(Raw::from(flag.to_string())),
            Value::Number(number) => Ok(Raw::from(number_text(number))),
            other => Err(value_mismatch("a string", other)),
        },
        Shape::Number => match value {
            Value::Number(number) => number_to_msgpack(number),
            Value::String(text) => number_to_msgpack(&parse_decimal(text)?),
            other => Err(value_mismatch("a number", other)),
        },
        Shape::Bool => match value {
            Value::Bool(flag) => Ok(Raw::Boolean(*flag)),
            Value::String(text) if text == "true" || text == "false" => {
                Ok(Raw::Boolean(text == "true"))
            }
            other => Err(value_mismatch("a bool", other)),
        },
        Shape::List(element) | Shape::Set(element) => match value {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    to_msgpack(item, element).map_err(|e| e.within(index_step(index)))
                })
                .collect::<Result<_, _>>()
                .map(Raw::Array),
            other => Err(value_mismatch("a list", other)),
        },
        Shape::Tuple(elements) => match value {
            Value::List(items) if items.len() == elements.len() => items
                .iter()
                .zip(elements)
                .enumerate()
                .map(|(index, (item, element))| {
                    to_msgpack(item, element).map_err(|e| e.within(index_step(index)))
                })
                .collect::<Result<_, _>>()
                .map(Raw::Array),
            other => Err(value_mismatch(
                &format!("a tuple of {} elements", elements.len()),
                other,
            )),
        },
        Shape::Map(element) => match value {
            Value::Map(entries) => entries
                .iter()
                .map(|(key, item)| {
                    let encoded = to_msgpack(item, element).map_err(|e| e.within(key_step(key)))?;
                    Ok((Raw::from(key.as_str()), encoded))
                })
                .collect::<Result<_, _>>()
                .map(Raw::Map),
            other => Err(value_mismatch("a map", other)),
        },
        Shape::Object(attributes) => match value {
            Value::Map(entries) => {
                if let Some(extra) = entries
                    .keys()
                    .find(|key| !attributes.iter().any(|(name, _)| name == *key))
                {
                    return Err(CodecError::new(format!(
                        "attribute {extra:?} is not in the schema"
                    )));
                }
                attributes
                    .iter()
                    .map(|(name, attribute_shape)| {
                        let item = entries.get(name).unwrap_or(&Value::Null);
                        let encoded = to_msgpack(item, attribute_shape)
                            .map_err(|e| e.within(attribute_step(name)))?;
                        Ok((Raw::from(name.as_str()), encoded))
                    })
                    .collect::<Result<_, _>>()
                    .map(Raw::Map)
            }
            other => Err(value_mismatch("an object", other)),
        },
        Shape::Dynamic => {
            let inferred = Shape::infer(value);
            let type_json = inferred.to_cty_json().to_string().into_bytes();
            Ok(Raw::Array(vec![
                Raw::Binary(type_json),
                to_msgpack(value, &inferred)?,
            ]))
        }
    }
}

fn number_to_msgpack(number: &Number) -> Result<rmpv::Value, CodecError> {
    match number {
        Number::Int(integer) => Ok(rmpv::Value::from(*integer)),
        Number::Float(float) if float.is_finite() => Ok(rmpv::Value::F64(*float)),
        Number::Float(float) => Err(CodecError::new(format!(
            "{float} is not a number Terraform can store"
        ))),
        Number::Decimal(text) => match parse_decimal(text)? {
            Number::Int(integer) => Ok(rmpv::Value::from(integer)),
            _ => Ok(rmpv::Value::from(text.as_str())),
        },
    }
}

fn number_text(number: &Number) -> String {
    match number {
        Number::Int(integer) => integer.to_string(),
        Number::Float(float) => float.to_string(),
        Number::Decimal(text) => text.clone(),
    }
}

fn value_mismatch(expected: &str, value: &Value) -> CodecError {
    let found = match value {
        Value::Null => "null",
        Value::Unknown => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map or object",
    };
    CodecError::new(format!("expected {expected}, found {found}"))
}

/// Decodes JSON bytes holding a value of type `shape`. JSON has no unknown values; a
/// `dynamic` value is an object with `value` and `type` properties.
pub(crate) fn decode_json(bytes: &[u8], shape: &Shape) -> Result<Value, CodecError> {
    let json: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| CodecError::new(format!("invalid JSON: {error}")))?;
    from_json(json, shape)
}

fn from_json(json: serde_json::Value, shape: &Shape) -> Result<Value, CodecError> {
    use serde_json::Value as Json;
    if json.is_null() {
        return Ok(Value::Null);
    }
    match (shape, json) {
        (Shape::String, Json::String(text)) => Ok(Value::String(text)),
        (Shape::Number, Json::Number(number)) => {
            Ok(Value::Number(match (number.as_i64(), number.as_f64()) {
                (Some(integer), _) => Number::Int(integer),
                (None, Some(float)) => Number::Float(float),
                (None, None) => parse_decimal(&number.to_string())?,
            }))
        }
        (Shape::Number, Json::String(text)) => parse_decimal(&text).map(Value::Number),
        (Shape::Bool, Json::Bool(flag)) => Ok(Value::Bool(flag)),
        (Shape::List(element) | Shape::Set(element), Json::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| from_json(item, element).map_err(|e| e.within(index_step(index))))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Shape::Tuple(elements), Json::Array(items)) if items.len() == elements.len() => items
            .into_iter()
            .zip(elements)
            .enumerate()
            .map(|(index, (item, element))| {
                from_json(item, element).map_err(|e| e.within(index_step(index)))
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Shape::Map(element), Json::Object(fields)) => fields
            .into_iter()
            .map(|(key, item)| {
                let value = from_json(item, element).map_err(|e| e.within(key_step(&key)))?;
                Ok((key, value))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Shape::Object(attributes), Json::Object(fields)) => fields
            .into_iter()
            .map(|(name, item)| {
                let Some((_, attribute_shape)) = attributes.iter().find(|(n, _)| *n == name) else {
                    return Err(CodecError::new(format!("unsupported attribute {name:?}")));
                };
                let value = from_json(item, attribute_shape)
                    .map_err(|e| e.within(attribute_step(&name)))?;
                Ok((name, value))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Shape::Dynamic, Json::Object(mut fields)) => {
            let type_json = fields
                .remove("type")
                .ok_or_else(|| CodecError::new("dynamic value without a type"))?;
            let value = fields.remove("value").unwrap_or(Json::Null);
            from_json(value, &Shape::from_cty_json(&type_json)?)
        }
        (shape, json) => Err(CodecError::new(format!(
            "expected a value of type {}, found {json}",
            shape.to_cty_json()
        ))),
    }
}

/// Treatment of map keys that the schema does not declare, in [`conform_block`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UndeclaredAttributes {
    /// Fail: a provider returned an attribute its own schema lacks.
    Reject,
    /// Drop silently: state written by an older schema may hold removed attributes.
    Drop,
}

/// Fills out an object of `block` so it has every attribute and nested block.
/// Missing attributes and `Single` blocks become null, and a missing `Group` block an
/// object of nulls. Missing `List` and `Set` blocks become an empty list, and `Map`
/// blocks an empty map. Null and unknown objects are returned unchanged.
pub(crate) fn conform_block(
    block: &Block,
    value: Value,
    undeclared: UndeclaredAttributes,
) -> Result<Value, CodecError> {
    let mut entries = match value {
        Value::Null | Value::Unknown => return Ok(value),
        Value::Map(entries) => entries,
        other => return Err(value_mismatch("an object", &other)),
    };
    let mut conformed = BTreeMap::new();
    for attribute in &block.attributes {
        let item = entries.remove(&attribute.name).unwrap_or(Value::Null);
        conformed.insert(attribute.name.clone(), item);
    }
    for nested in &block.blocks {
        let name = &nested.type_name;
        let item = entries.remove(name).unwrap_or(Value::Null);
        let item =
            conform_nested(nested, item, undeclared).map_err(|e| e.within(attribute_step(name)))?;
        conformed.insert(name.clone(), item);
    }
    if let Some(extra) = entries.keys().next() {
        if undeclared == UndeclaredAttributes::Reject {
            return Err(CodecError::new(format!(
                "attribute {extra:?} is not in the schema"
            )));
        }
    }
    Ok(Value::Map(conformed))
}

fn conform_nested(
    nested: &super::NestedBlock,
    item: Value,
    undeclared: UndeclaredAttributes,
) -> Result<Value, CodecError> {
    let block = &nested.block;
    match (nested.nesting, item) {
        (_, Value::Unknown) => Ok(Value::Unknown),
        (Nesting::Single, item) => conform_block(block, item, undeclared),
        (Nesting::Group, Value::Null) => {
            conform_block(block, Value::Map(BTreeMap::new()), undeclared)
        }
        (Nesting::Group, item) => conform_block(block, item, undeclared),
        (Nesting::List | Nesting::Set, Value::Null) => Ok(Value::List(Vec::new())),
        (Nesting::List | Nesting::Set, Value::List(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                conform_block(block, item, undeclared).map_err(|e| e.within(index_step(index)))
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Nesting::Map, Value::Null) => Ok(Value::Map(BTreeMap::new())),
        (Nesting::Map, Value::Map(entries)) => entries
            .into_iter()
            .map(|(key, item)| {
                let item =
                    conform_block(block, item, undeclared).map_err(|e| e.within(key_step(&key)))?;
                Ok((key, item))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Nesting::List | Nesting::Set, other) => Err(value_mismatch("a list of blocks", &other)),
        (Nesting::Map, other) => Err(value_mismatch("a map of blocks", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{Attribute, Block, Nesting, Type};

    fn encode_raw(raw: &rmpv::Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, raw).expect("encode raw msgpack");
        bytes
    }

    fn round_trip(value: &Value, shape: &Shape) -> Value {
        let bytes = encode_msgpack(value, shape).expect("encode");
        decode_msgpack(&bytes, shape).expect("decode")
    }

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(key, value)| (key.to_string(), value.clone()))
                .collect(),
        )
    }

    #[test]
    fn primitives_round_trip() {
        let cases = [
            (Value::string("héllo"), Shape::String),
            (Value::Bool(true), Shape::Bool),
            (Value::Number(Number::Int(-42)), Shape::Number),
            (Value::Number(Number::Int(i64::MAX)), Shape::Number),
            (Value::Number(Number::Float(1.5)), Shape::Number),
            (Value::Null, Shape::String),
            (Value::Unknown, Shape::Number),
        ];
        for (value, shape) in cases {
            assert_eq!(round_trip(&value, &shape), value, "{value:?} as {shape:?}");
        }
    }

    #[test]
    fn collections_round_trip() {
        let list = Value::List(vec!["a".into(), Value::Unknown, Value::Null]);
        let list_shape = Shape::List(Box::new(Shape::String));
        assert_eq!(round_trip(&list, &list_shape), list);

        let set_shape = Shape::Set(Box::new(Shape::Number));
        let set = Value::List(vec![1.into(), 2.into()]);
        assert_eq!(round_trip(&set, &set_shape), set);

        let map = object(&[("x", "1".into()), ("y", Value::Unknown)]);
        let map_shape = Shape::Map(Box::new(Shape::String));
        assert_eq!(round_trip(&map, &map_shape), map);

        let tuple = Value::List(vec!["a".into(), true.into()]);
        let tuple_shape = Shape::Tuple(vec![Shape::String, Shape::Bool]);
        assert_eq!(round_trip(&tuple, &tuple_shape), tuple);
    }

    #[test]
    fn object_missing_attributes_encode_as_null() {
        let shape = Shape::Object(vec![
            ("a".to_string(), Shape::String),
            ("b".to_string(), Shape::Number),
        ]);
        let decoded = round_trip(&object(&[("a", "x".into())]), &shape);
        assert_eq!(decoded, object(&[("a", "x".into()), ("b", Value::Null)]));
    }

    #[test]
    fn object_undeclared_attribute_rejected() {
        let shape = Shape::Object(vec![("a".to_string(), Shape::String)]);
        let error = encode_msgpack(&object(&[("zzz", "x".into())]), &shape).unwrap_err();
        assert!(error.message.contains("\"zzz\""), "{error}");
    }

    #[test]
    fn unknown_encodes_as_extension_zero() {
        let bytes = encode_msgpack(&Value::Unknown, &Shape::String).expect("encode");
        assert_eq!(bytes, vec![0xd4, 0x00, 0x00]);
    }

    #[test]
    fn refined_unknown_decodes_as_unknown() {
        // Extension 12 with refinements: not null, prefix "acc-", and a length bound.
        let refinements = rmpv::Value::Map(vec![
            (rmpv::Value::from(1), rmpv::Value::Boolean(false)),
            (rmpv::Value::from(2), rmpv::Value::from("acc-")),
            (rmpv::Value::from(5), rmpv::Value::from(1)),
            (
                rmpv::Value::from(99),
                rmpv::Value::from("future refinement"),
            ),
        ]);
        let payload = encode_raw(&refinements);
        let bytes = encode_raw(&rmpv::Value::Ext(12, payload));
        assert_eq!(decode_msgpack(&bytes, &Shape::String), Ok(Value::Unknown));

        let in_object = encode_raw(&rmpv::Value::Map(vec![(
            rmpv::Value::from("id"),
            rmpv::Value::Ext(12, vec![0x80]),
        )]));
        let shape = Shape::Object(vec![("id".to_string(), Shape::String)]);
        let decoded = decode_msgpack(&in_object, &shape).expect("decode");
        assert!(decoded.get("id").is_unknown());
    }

    #[test]
    fn numbers_decode_from_every_form() {
        let cases = [
            (rmpv::Value::from(7), Number::Int(7)),
            (
                rmpv::Value::from(u64::MAX),
                Number::Decimal(u64::MAX.to_string()),
            ),
            (rmpv::Value::F32(0.5), Number::Float(0.5)),
            (rmpv::Value::F64(-2.25), Number::Float(-2.25)),
            (rmpv::Value::from("12"), Number::Int(12)),
            (
                rmpv::Value::from("123456789012345678901234567890.5"),
                Number::Decimal("123456789012345678901234567890.5".to_string()),
            ),
            (
                rmpv::Value::from("-1.5e300"),
                Number::Decimal("-1.5e300".to_string()),
            ),
        ];
        for (raw, expected) in cases {
            let decoded = decode_msgpack(&encode_raw(&raw), &Shape::Number);
            assert_eq!(decoded, Ok(Value::Number(expected)), "{raw:?}");
        }
    }

    #[test]
    fn decimal_string_that_is_not_a_number_fails() {
        let bytes = encode_raw(&rmpv::Value::from("12abc"));
        assert!(decode_msgpack(&bytes, &Shape::Number).is_err());
        assert!(parse_decimal("1.").is_err());
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("1e").is_err());
    }

    #[test]
    fn big_decimal_encodes_as_string() {
        let big = "98765432109876543210987654321";
        let bytes = encode_msgpack(&Value::Number(Number::Decimal(big.into())), &Shape::Number)
            .expect("encode");
        assert_eq!(bytes, encode_raw(&rmpv::Value::from(big)));
    }

    #[test]
    fn scalars_convert_to_the_schema_type() {
        let as_string = round_trip(&Value::Number(Number::Int(5)), &Shape::String);
        assert_eq!(as_string, Value::string("5"));
        let as_number = round_trip(&Value::string("5"), &Shape::Number);
        assert_eq!(as_number, Value::Number(Number::Int(5)));
        let as_bool = round_trip(&Value::string("true"), &Shape::Bool);
        assert_eq!(as_bool, Value::Bool(true));
        assert!(encode_msgpack(&Value::string("yes"), &Shape::Bool).is_err());
    }

    #[test]
    fn dynamic_round_trips_with_inferred_type() {
        let value = object(&[
            ("name", "x".into()),
            ("tags", Value::List(vec!["a".into(), 3.into()])),
        ]);
        let bytes = encode_msgpack(&value, &Shape::Dynamic).expect("encode");
        let raw = rmpv::decode::read_value(&mut bytes.as_slice()).expect("raw");
        let rmpv::Value::Array(parts) = raw else {
            panic!("dynamic value is not a two-element array: {raw:?}");
        };
        let rmpv::Value::Binary(type_json) = &parts[0] else {
            panic!("dynamic type is not binary: {:?}", parts[0]);
        };
        let type_json: serde_json::Value = serde_json::from_slice(type_json).expect("type json");
        assert_eq!(
            type_json,
            serde_json::json!(["object", {"name": "string", "tags": ["tuple", ["string", "number"]]}])
        );
        assert_eq!(decode_msgpack(&bytes, &Shape::Dynamic), Ok(value));
    }

    #[test]
    fn json_decodes_with_schema_types() {
        let shape = Shape::Object(vec![
            ("name".to_string(), Shape::String),
            ("count".to_string(), Shape::Number),
            ("ratio".to_string(), Shape::Number),
            ("on".to_string(), Shape::Bool),
            ("tags".to_string(), Shape::Map(Box::new(Shape::String))),
            ("any".to_string(), Shape::Dynamic),
            ("gone".to_string(), Shape::String),
        ]);
        let json = br#"{"name":"a","count":3,"ratio":0.25,"on":true,"tags":{"k":"v"},
            "any":{"value":["x"],"type":["list","string"]},"gone":null}"#;
        let decoded = decode_json(json, &shape).expect("decode");
        assert_eq!(decoded.get("name").as_str(), Some("a"));
        assert_eq!(decoded.get("count").as_i64(), Some(3));
        assert_eq!(decoded.get("ratio"), &Value::Number(Number::Float(0.25)));
        assert_eq!(decoded.get("on").as_bool(), Some(true));
        assert_eq!(decoded.get("tags").get("k").as_str(), Some("v"));
        assert_eq!(decoded.get("any"), &Value::List(vec!["x".into()]));
        assert!(decoded.get("gone").is_null());
    }

    #[test]
    fn decode_errors_name_the_path() {
        let shape = Shape::Object(vec![(
            "items".to_string(),
            Shape::List(Box::new(Shape::Bool)),
        )]);
        let bytes = encode_raw(&rmpv::Value::Map(vec![(
            rmpv::Value::from("items"),
            rmpv::Value::Array(vec![rmpv::Value::Boolean(true), rmpv::Value::from("no")]),
        )]));
        let error = decode_msgpack(&bytes, &shape).unwrap_err();
        assert_eq!(error.path, AttributePath::root("items").index(1));
        assert_eq!(
            error.to_string(),
            "items[1]: expected a bool, found a string"
        );
    }

    #[test]
    fn truncated_msgpack_fails() {
        let mut bytes = encode_raw(&rmpv::Value::from("abcdef"));
        bytes.truncate(3);
        assert!(decode_msgpack(&bytes, &Shape::String).is_err());
        let trailing = [encode_raw(&rmpv::Value::from(1)), vec![0xc0]].concat();
        assert!(decode_msgpack(&trailing, &Shape::Number).is_err());
    }

    fn sample_block() -> Block {
        let inner = Block::new().attribute(Attribute::string("value").optional());
        Block::new()
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::new("count", Type::Number).optional())
            .block("single", Nesting::Single, inner.clone())
            .block("group", Nesting::Group, inner.clone())
            .block("list", Nesting::List, inner.clone())
            .block("set", Nesting::Set, inner.clone())
            .block("map", Nesting::Map, inner)
    }

    #[test]
    fn conform_fills_missing_parts() {
        let partial = object(&[
            ("id", "abc".into()),
            ("list", Value::List(vec![object(&[])])),
        ]);
        let conformed =
            conform_block(&sample_block(), partial, UndeclaredAttributes::Reject).expect("conform");
        assert_eq!(conformed.get("id").as_str(), Some("abc"));
        assert!(conformed.get("count").is_null());
        assert!(conformed.get("single").is_null());
        assert_eq!(conformed.get("group"), &object(&[("value", Value::Null)]));
        assert_eq!(
            conformed.get("list"),
            &Value::List(vec![object(&[("value", Value::Null)])])
        );
        assert_eq!(conformed.get("set"), &Value::List(Vec::new()));
        assert_eq!(conformed.get("map"), &Value::Map(BTreeMap::new()));

        let bytes = encode_msgpack(&conformed, &sample_block().shape()).expect("encode");
        let decoded = decode_msgpack(&bytes, &sample_block().shape()).expect("decode");
        assert_eq!(decoded, conformed);
    }

    #[test]
    fn conform_keeps_null_and_unknown() {
        let block = sample_block();
        let null = conform_block(&block, Value::Null, UndeclaredAttributes::Reject);
        assert_eq!(null, Ok(Value::Null));
        let unknown = conform_block(&block, Value::Unknown, UndeclaredAttributes::Reject);
        assert_eq!(unknown, Ok(Value::Unknown));
        let unknown_list = object(&[("list", Value::Unknown)]);
        let conformed =
            conform_block(&block, unknown_list, UndeclaredAttributes::Reject).expect("conform");
        assert!(conformed.get("list").is_unknown());
    }

    #[test]
    fn conform_undeclared_attribute_rejected_or_dropped() {
        let value = object(&[("id", "a".into()), ("removed", "b".into())]);
        let rejected = conform_block(&sample_block(), value.clone(), UndeclaredAttributes::Reject);
        assert!(rejected.is_err());
        let dropped = conform_block(&sample_block(), value, UndeclaredAttributes::Drop)
            .expect("conform with drop");
        assert!(dropped.as_map().is_some_and(|m| !m.contains_key("removed")));
    }

    #[test]
    fn block_shape_includes_nested_blocks() {
        let shape = sample_block().shape();
        let inner = Shape::Object(vec![("value".to_string(), Shape::String)]);
        assert_eq!(
            shape,
            Shape::Object(vec![
                ("id".to_string(), Shape::String),
                ("count".to_string(), Shape::Number),
                ("single".to_string(), inner.clone()),
                ("group".to_string(), inner.clone()),
                ("list".to_string(), Shape::List(Box::new(inner.clone()))),
                ("set".to_string(), Shape::Set(Box::new(inner.clone()))),
                ("map".to_string(), Shape::Map(Box::new(inner))),
            ])
        );
    }

    #[test]
    fn cty_type_json_round_trips() {
        let json = serde_json::json!([
            "object",
            {"a": ["list", "string"], "b": ["tuple", ["bool", "dynamic"]], "c": ["set", ["map", "number"]]}
        ]);
        let shape = Shape::from_cty_json(&json).expect("parse type");
        assert_eq!(shape.to_cty_json(), json);
        assert!(Shape::from_cty_json(&serde_json::json!("float")).is_err());
        let with_optional = serde_json::json!(["object", {"a": "string"}, ["a"]]);
        assert!(Shape::from_cty_json(&with_optional).is_ok());
    }
}
