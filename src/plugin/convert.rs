//! Conversions from the provider-facing types (schemas, diagnostics, function signatures)
//! to their tfplugin6 messages.
//!
//! Every description is sent as Markdown. Attributes and nested blocks keep their
//! declared order. Attributes never set `nested_type`, because Terraform 1.0 panics on a
//! schema attribute that sets both `type` and `nested_type`.

use super::proto::tfplugin6 as pb;
use super::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, FunctionSignature, NestedBlock,
    Nesting, PathStep, Schema, Severity, Type,
};

/// Encodes a type constraint as the cty JSON bytes that `Schema.Attribute.type` carries.
pub(crate) fn type_bytes(ty: &Type) -> Vec<u8> {
    ty.to_json().to_string().into_bytes()
}

pub(crate) fn schema(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block(&schema.block, schema.version)),
    }
}

fn block(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute).collect(),
        block_types: block.blocks.iter().map(nested_block).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: block.deprecated,
    }
}

fn attribute(attribute: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: attribute.name.clone(),
        r#type: type_bytes(&attribute.ty),
        nested_type: None,
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: attribute.deprecated,
    }
}

fn nested_block(nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match nested.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block(&nested.block, 0)),
        nesting: nesting as i32,
        min_items: nested.min_items,
        max_items: nested.max_items,
    }
}

pub(crate) fn function(signature: &FunctionSignature) -> pb::Function {
    pb::Function {
        parameters: signature
            .parameters
            .iter()
            .map(|parameter| pb::function::Parameter {
                name: parameter.name.clone(),
                r#type: type_bytes(&parameter.ty),
                allow_null_value: parameter.allow_null,
                // Unknown arguments make Terraform skip the call and return unknown.
                allow_unknown_values: false,
                description: parameter.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
            })
            .collect(),
        variadic_parameter: None,
        r#return: Some(pb::function::Return {
            r#type: type_bytes(&signature.return_type),
        }),
        summary: signature.summary.clone(),
        description: signature.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

pub(crate) fn attribute_path(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::ElementKeyInt(index) => Selector::ElementKeyInt(*index),
                }),
            })
            .collect(),
    }
}

pub(crate) fn diagnostic(diagnostic: &Diagnostic) -> pb::Diagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: diagnostic.summary.clone(),
        detail: diagnostic.detail.clone(),
        // A path without steps names no attribute, so it is sent as no path at all.
        attribute: diagnostic
            .attribute
            .as_ref()
            .filter(|path| !path.0.is_empty())
            .map(attribute_path),
    }
}

pub(crate) fn diagnostics(diagnostics: &Diagnostics) -> Vec<pb::Diagnostic> {
    diagnostics.0.iter().map(diagnostic).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{Attribute, Block, FunctionParameter, Nesting, Schema, Type};

    fn sample_schema() -> Schema {
        let endpoint = Block::new()
            .description("Custom endpoints.")
            .attribute(Attribute::string("sts").optional());
        let block = Block::new()
            .description("The **kore** provider.")
            .attribute(
                Attribute::string("zeta")
                    .required()
                    .description("Comes first."),
            )
            .attribute(Attribute::string("alpha").optional().sensitive())
            .attribute(
                Attribute::new("tags", Type::map(Type::String))
                    .optional()
                    .computed(),
            )
            .attribute(Attribute::bool("old").optional().deprecated())
            .block("endpoints", Nesting::List, endpoint.clone())
            .required_block("assume_role", endpoint);
        Schema::new(3, block)
    }

    #[test]
    fn schema_keeps_declared_order_and_flags() {
        let encoded = schema(&sample_schema());
        assert_eq!(encoded.version, 3);
        let block = encoded.block.expect("block");
        assert_eq!(block.version, 3);
        assert_eq!(block.description, "The **kore** provider.");
        assert_eq!(block.description_kind, pb::StringKind::Markdown as i32);

        let names: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "tags", "old"]);

        let zeta = &block.attributes[0];
        assert!(zeta.required);
        assert!(!zeta.optional);
        assert!(!zeta.computed);
        assert_eq!(zeta.description, "Comes first.");
        assert_eq!(zeta.description_kind, pb::StringKind::Markdown as i32);
        assert_eq!(zeta.r#type, br#""string""#);
        assert!(block.attributes[1].sensitive);
        let tags = &block.attributes[2];
        assert!(tags.optional);
        assert!(tags.computed);
        assert_eq!(tags.r#type, br#"["map","string"]"#);
        assert!(block.attributes[3].deprecated);
        assert!(block.attributes.iter().all(|a| a.nested_type.is_none()));
    }

    #[test]
    fn schema_encodes_nested_blocks() {
        use pb::schema::nested_block::NestingMode;
        let block = schema(&sample_schema()).block.expect("block");
        assert_eq!(block.block_types.len(), 2);

        let endpoints = &block.block_types[0];
        assert_eq!(endpoints.type_name, "endpoints");
        assert_eq!(endpoints.nesting, NestingMode::List as i32);
        assert_eq!((endpoints.min_items, endpoints.max_items), (0, 0));
        let inner = endpoints.block.as_ref().expect("nested block");
        assert_eq!(inner.attributes[0].name, "sts");
        assert_eq!(inner.description, "Custom endpoints.");

        let assume_role = &block.block_types[1];
        assert_eq!(assume_role.nesting, NestingMode::Single as i32);
        assert_eq!((assume_role.min_items, assume_role.max_items), (1, 1));
    }

    #[test]
    fn diagnostic_carries_attribute_path() {
        use pb::attribute_path::step::Selector;
        let mut diagnostics = Diagnostics::default();
        diagnostics.attribute_error(
            AttributePath::root("endpoints")
                .index(0)
                .attribute("sts")
                .key("k"),
            "Invalid endpoint",
            "Use an http or https URL.",
        );
        diagnostics.warning("Careful", "");
        let encoded = super::diagnostics(&diagnostics);

        assert_eq!(encoded[0].severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(encoded[0].summary, "Invalid endpoint");
        assert_eq!(encoded[0].detail, "Use an http or https URL.");
        let steps: Vec<_> = encoded[0]
            .attribute
            .as_ref()
            .expect("path")
            .steps
            .iter()
            .map(|s| s.selector.clone().expect("selector"))
            .collect();
        assert_eq!(
            steps,
            [
                Selector::AttributeName("endpoints".into()),
                Selector::ElementKeyInt(0),
                Selector::AttributeName("sts".into()),
                Selector::ElementKeyString("k".into()),
            ]
        );
        assert_eq!(
            encoded[1].severity,
            pb::diagnostic::Severity::Warning as i32
        );
        assert!(encoded[1].attribute.is_none());
    }

    #[test]
    fn function_signature_encodes_types() {
        let signature = FunctionSignature {
            parameters: vec![FunctionParameter {
                name: "email".into(),
                ty: Type::String,
                description: "Base address.".into(),
                allow_null: false,
            }],
            return_type: Type::list(Type::String),
            summary: "Builds an alias".into(),
            description: "Adds a `+tag`.".into(),
        };
        let encoded = function(&signature);
        assert_eq!(encoded.parameters.len(), 1);
        assert_eq!(encoded.parameters[0].r#type, br#""string""#);
        assert!(!encoded.parameters[0].allow_null_value);
        assert_eq!(
            encoded.r#return.expect("return").r#type,
            br#"["list","string"]"#
        );
        assert_eq!(encoded.summary, "Builds an alias");
        assert_eq!(encoded.description_kind, pb::StringKind::Markdown as i32);
    }
}
