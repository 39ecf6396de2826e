//! Helpers that resources use while planning.

use super::{Block, Value};

/// Marks every computed attribute of `block` that the configuration leaves null as unknown
/// in `planned`, recursing into single nested blocks. This is the default plan for a create.
pub fn mark_computed_unknown(block: &Block, config: &Value, planned: &mut Value) {
    for attribute in &block.attributes {
        if attribute.computed && config.get(&attribute.name).is_null() {
            planned.set(&attribute.name, Value::Unknown);
        }
    }
    for nested in &block.blocks {
        let nested_config = config.get(&nested.type_name);
        if matches!(
            nested.nesting,
            super::Nesting::Single | super::Nesting::Group
        ) && !nested_config.is_null()
        {
            let mut nested_planned = planned.get(&nested.type_name).clone();
            mark_computed_unknown(&nested.block, nested_config, &mut nested_planned);
            planned.set(&nested.type_name, nested_planned);
        }
    }
}

/// Copies the prior value of each named attribute into `planned` where the plan has it
/// unknown ("use state for unknown"): values that never change after create.
pub fn use_state_for_unknown(names: &[&str], prior: &Value, planned: &mut Value) {
    for name in names {
        let prior_value = prior.get(name);
        if planned.get(name).is_unknown() && !prior_value.is_null() {
            planned.set(name, prior_value.clone());
        }
    }
}

/// Returns true when attribute `name` differs between prior state and plan, treating an
/// unknown planned value as a change.
pub fn attribute_changed(name: &str, prior: &Value, planned: &Value) -> bool {
    prior.get(name) != planned.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{Attribute, Block};

    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("email").optional().computed())
    }

    #[test]
    fn computed_null_becomes_unknown() {
        let mut config = Value::Null;
        config.set("name", "a".into());
        config.set("email", "x@example.com".into());
        let mut planned = config.clone();
        mark_computed_unknown(&block(), &config, &mut planned);
        assert!(planned.get("id").is_unknown());
        assert_eq!(planned.get("email").as_str(), Some("x@example.com"));
        assert_eq!(planned.get("name").as_str(), Some("a"));
    }

    #[test]
    fn state_for_unknown_keeps_prior() {
        let mut prior = Value::Null;
        prior.set("id", "123".into());
        let mut planned = Value::Null;
        planned.set("id", Value::Unknown);
        use_state_for_unknown(&["id"], &prior, &mut planned);
        assert_eq!(planned.get("id").as_str(), Some("123"));
    }
}
