//! Checks the registry docs under `docs/` against the schema that Terraform 1.15.5 reads from
//! the built provider (`terraform providers schema -json`).
//!
//! Every provider argument, resource, data source and function has a page in the Terraform
//! Registry layout (`docs/index.md`, `docs/resources/<name>.md`, `docs/data-sources/<name>.md`,
//! `docs/functions/<name>.md`). Each attribute and nested block is documented as a list entry
//! ``- `name` (Type, Required)`` in the section that the registry layout gives it:
//!
//! - arguments (required or optional) under `## Argument Reference`;
//! - computed-only attributes under `## Attribute Reference`;
//! - the contents of a nested block or of an object-typed attribute under a heading
//!   ``Nested Schema for `path` ``.
//!
//! The label in brackets must match the schema, so a page cannot call an optional argument
//! required or a list a string. Pages also embed their example files verbatim, and every
//! relative link must reach an existing page and heading.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::harness::{provider_schema, terraform, Workdir};

/// The Terraform whose schema output the docs are compared with. Functions appear in the
/// schema output from Terraform 1.8.
const SCHEMA_TERRAFORM: &str = "1.15.5";

/// Name prefix of every resource and data source type.
const TYPE_PREFIX: &str = "kore_";

/// Guides the docs must contain, as file names under `docs/guides/`.
const GUIDES: [&str; 4] = [
    "getting-started-with-the-emulator.md",
    "control-tower-setup.md",
    "closing-accounts-safely.md",
    "troubleshooting.md",
];

const FRONT_MATTER_KEYS: [&str; 3] = ["page_title", "subcategory", "description"];

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Fetches the provider's entry of `terraform providers schema -json`, once per test run.
fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let tf = terraform(SCHEMA_TERRAFORM).unwrap_or_else(|| {
            panic!("Terraform {SCHEMA_TERRAFORM} is not installed; run `make tools`")
        });
        let workdir = Workdir::new();
        provider_schema(&workdir.schema_json(tf)).clone()
    })
}

// ---------------------------------------------------------------------------------------
// Markdown pages
// ---------------------------------------------------------------------------------------

/// One heading of a page with the lines up to the next heading. Code fences are kept in
/// `lines` but never split a section, so `# comment` lines inside code are not headings.
struct Section {
    level: usize,
    heading: String,
    lines: Vec<String>,
}

struct Page {
    /// Path relative to the repository, for messages.
    name: String,
    text: String,
    front_matter: Vec<String>,
    sections: Vec<Section>,
}

impl Page {
    fn load(relative: &str) -> Result<Page, String> {
        let path = repo_root().join(relative);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{relative}: cannot read the page: {error}"))?;
        Ok(Page::parse(relative, text))
    }

    fn parse(name: &str, text: String) -> Page {
        let mut lines = text.lines().peekable();
        let mut front_matter = Vec::new();
        if lines.peek() == Some(&"---") {
            lines.next();
            for line in lines.by_ref() {
                if line == "---" {
                    break;
                }
                front_matter.push(line.to_string());
            }
        }

        let mut sections = vec![Section {
            level: 0,
            heading: String::new(),
            lines: Vec::new(),
        }];
        let mut in_fence = false;
        for line in lines {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
            }
            let hashes = line.chars().take_while(|c| *c == '#').count();
            let is_heading = !in_fence && hashes > 0 && line[hashes..].starts_with(' ');
            if is_heading {
                sections.push(Section {
                    level: hashes,
                    heading: line[hashes..].trim().to_string(),
                    lines: Vec::new(),
                });
            } else if let Some(section) = sections.last_mut() {
                section.lines.push(line.to_string());
            }
        }
        Page {
            name: name.to_string(),
            text,
            front_matter,
            sections,
        }
    }

    fn section(&self, heading: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.heading == heading)
    }

    /// Checks the front matter keys and the sections the registry layout expects.
    fn check_layout(&self, sections: &[&str], problems: &mut Vec<String>) {
        for key in FRONT_MATTER_KEYS {
            let prefix = format!("{key}:");
            if !self
                .front_matter
                .iter()
                .any(|line| line.starts_with(&prefix))
            {
                problems.push(format!("{}: the front matter has no `{key}`", self.name));
            }
        }
        for heading in sections {
            if self.section(heading).is_none() {
                problems.push(format!(
                    "{}: missing the section \"## {heading}\"",
                    self.name
                ));
            }
        }
    }

    /// Checks that the page contains `relative` (a file of the repository) verbatim.
    fn check_embeds(&self, relative: &str, problems: &mut Vec<String>) {
        match std::fs::read_to_string(repo_root().join(relative)) {
            Ok(contents) if self.text.contains(contents.trim_end()) => {}
            Ok(_) => problems.push(format!(
                "{}: does not contain {relative} verbatim; copy the file into the page",
                self.name
            )),
            Err(error) => problems.push(format!("{}: cannot read {relative}: {error}", self.name)),
        }
    }

    /// Checks that `section` has an entry ``- `name` (label)``.
    fn check_entry(
        &self,
        section: &str,
        name: &str,
        label: &str,
        owner: &str,
        problems: &mut Vec<String>,
    ) {
        let Some(found) = self.section(section) else {
            problems.push(format!(
                "{}: `{name}` of {owner} is not documented, because the page has no section \"{section}\"",
                self.name
            ));
            return;
        };
        let prefix = format!("- `{name}` (");
        let Some(line) = found.lines.iter().find(|line| line.starts_with(&prefix)) else {
            problems.push(format!(
                "{}: `{name}` of {owner} is not documented; add \"- `{name}` ({label}) ...\" under \"{section}\"",
                self.name
            ));
            return;
        };
        let written = line[prefix.len()..].split(')').next().unwrap_or_default();
        if written != label {
            problems.push(format!(
                "{}: `{name}` of {owner} is documented as ({written}), but the schema says ({label})",
                self.name
            ));
        }
    }

    /// Lists the slugs of the page's headings, as GitHub forms anchors.
    fn anchors(&self) -> BTreeSet<String> {
        self.sections.iter().map(|s| slug(&s.heading)).collect()
    }
}

/// Turns a heading into its anchor: lower case, spaces to hyphens, and only letters,
/// digits, `-` and `_` kept.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn nested_heading(path: &str) -> String {
    format!("Nested Schema for `{path}`")
}

// ---------------------------------------------------------------------------------------
// Schema labels
// ---------------------------------------------------------------------------------------

/// Returns the registry's name of a Terraform type, such as `List of String`.
fn type_label(ty: &Json) -> String {
    match ty {
        Json::String(name) => match name.as_str() {
            "string" => "String".to_string(),
            "number" => "Number".to_string(),
            "bool" => "Boolean".to_string(),
            "dynamic" => "Dynamic".to_string(),
            other => panic!("unknown primitive type {other:?} in the schema"),
        },
        Json::Array(parts) => match parts.first().and_then(Json::as_str) {
            Some("list") => format!("List of {}", type_label(&parts[1])),
            Some("set") => format!("Set of {}", type_label(&parts[1])),
            Some("map") => format!("Map of {}", type_label(&parts[1])),
            Some("object") => "Object".to_string(),
            Some("tuple") => "Tuple".to_string(),
            _ => panic!("unknown type {ty} in the schema"),
        },
        _ => panic!("unknown type {ty} in the schema"),
    }
}

/// Returns the HCL spelling of a type, as function signatures show it: `string`, `list(string)`.
fn type_expression(ty: &Json) -> String {
    match ty {
        Json::String(name) => name.clone(),
        Json::Array(parts) => {
            let kind = parts.first().and_then(Json::as_str).unwrap_or_default();
            match kind {
                "list" | "set" | "map" => format!("{kind}({})", type_expression(&parts[1])),
                _ => kind.to_string(),
            }
        }
        _ => ty.to_string(),
    }
}

/// Builds the label of an attribute: type, then Required, Optional or Computed, then Sensitive.
fn attribute_label(attribute: &Json) -> String {
    let mut parts = vec![type_label(&attribute["type"])];
    let flag = |key: &str| attribute[key].as_bool().unwrap_or(false);
    if flag("required") {
        parts.push("Required".to_string());
    } else if flag("optional") {
        parts.push("Optional".to_string());
    } else if flag("computed") {
        parts.push("Computed".to_string());
    }
    if flag("sensitive") {
        parts.push("Sensitive".to_string());
    }
    parts.join(", ")
}

fn block_label(block_type: &Json) -> String {
    let kind = match block_type["nesting_mode"].as_str().unwrap_or_default() {
        "list" => "Block List",
        "set" => "Block Set",
        "map" => "Block Map",
        _ => "Block",
    };
    let required = block_type["min_items"].as_u64().unwrap_or(0) > 0;
    format!("{kind}, {}", if required { "Required" } else { "Optional" })
}

fn is_argument(attribute: &Json) -> bool {
    attribute["required"].as_bool().unwrap_or(false)
        || attribute["optional"].as_bool().unwrap_or(false)
}

/// Returns the fields of the object type inside an attribute's type (an object, or a list, set
/// or map of them).
fn object_fields(ty: &Json) -> Option<&serde_json::Map<String, Json>> {
    let parts = ty.as_array()?;
    match parts.first()?.as_str()? {
        "object" => parts.get(1)?.as_object(),
        "list" | "set" | "map" => object_fields(parts.get(1)?),
        _ => None,
    }
}

fn attributes(block: &Json) -> Vec<(&String, &Json)> {
    block["attributes"]
        .as_object()
        .map(|map| map.iter().collect())
        .unwrap_or_default()
}

fn block_types(block: &Json) -> Vec<(&String, &Json)> {
    block["block_types"]
        .as_object()
        .map(|map| map.iter().collect())
        .unwrap_or_default()
}

/// Checks that `page` documents every attribute and nested block of the top-level `block`.
fn check_block(page: &Page, block: &Json, owner: &str, problems: &mut Vec<String>) {
    for (name, attribute) in attributes(block) {
        let section = if is_argument(attribute) {
            "Argument Reference"
        } else {
            "Attribute Reference"
        };
        page.check_entry(section, name, &attribute_label(attribute), owner, problems);
        check_object_fields(page, name, &attribute["type"], owner, problems);
    }
    for (name, block_type) in block_types(block) {
        page.check_entry(
            "Argument Reference",
            name,
            &block_label(block_type),
            owner,
            problems,
        );
        check_nested_block(page, name, &block_type["block"], owner, problems);
    }
}

/// Checks the section ``Nested Schema for `path` `` of a nested block, recursively.
fn check_nested_block(
    page: &Page,
    path: &str,
    block: &Json,
    owner: &str,
    problems: &mut Vec<String>,
) {
    let section = nested_heading(path);
    for (name, attribute) in attributes(block) {
        page.check_entry(&section, name, &attribute_label(attribute), owner, problems);
        check_object_fields(
            page,
            &format!("{path}.{name}"),
            &attribute["type"],
            owner,
            problems,
        );
    }
    for (name, block_type) in block_types(block) {
        page.check_entry(&section, name, &block_label(block_type), owner, problems);
        check_nested_block(
            page,
            &format!("{path}.{name}"),
            &block_type["block"],
            owner,
            problems,
        );
    }
}

/// Checks the fields of an object-typed attribute, if it has any.
fn check_object_fields(
    page: &Page,
    path: &str,
    ty: &Json,
    owner: &str,
    problems: &mut Vec<String>,
) {
    let Some(fields) = object_fields(ty) else {
        return;
    };
    let section = nested_heading(path);
    for (name, field_type) in fields {
        page.check_entry(&section, name, &type_label(field_type), owner, problems);
    }
}

fn fail_on(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s) in the docs:\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}

/// Returns the name of `type_name` without the provider prefix, as its page is named.
fn page_stem(type_name: &str) -> &str {
    type_name.strip_prefix(TYPE_PREFIX).unwrap_or(type_name)
}

fn schema_entries<'a>(key: &str) -> Vec<(&'a String, &'a Json)> {
    schema()[key]
        .as_object()
        .map(|map| map.iter().collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn provider_page_documents_schema() {
    let mut problems = Vec::new();
    match Page::load("docs/index.md") {
        Ok(page) => {
            page.check_layout(
                &["Example Usage", "Authentication", "Argument Reference"],
                &mut problems,
            );
            page.check_embeds("examples/provider/provider.tf", &mut problems);
            check_block(
                &page,
                &schema()["provider"]["block"],
                "the provider block",
                &mut problems,
            );
        }
        Err(problem) => problems.push(problem),
    }
    fail_on(problems);
}

#[test]
fn resource_pages_document_schema() {
    let resources = schema_entries("resource_schemas");
    assert!(!resources.is_empty(), "the schema lists no resources");
    let mut problems = Vec::new();
    for (type_name, resource) in resources {
        let page = match Page::load(&format!("docs/resources/{}.md", page_stem(type_name))) {
            Ok(page) => page,
            Err(problem) => {
                problems.push(format!("{problem} (the page of resource {type_name})"));
                continue;
            }
        };
        let block = &resource["block"];
        let mut sections = vec![
            "Example Usage",
            "Argument Reference",
            "Attribute Reference",
            "Import",
        ];
        if block["block_types"].get("timeouts").is_some() {
            sections.push("Timeouts");
        }
        page.check_layout(&sections, &mut problems);
        page.check_embeds(
            &format!("examples/resources/{type_name}/resource.tf"),
            &mut problems,
        );
        page.check_embeds(
            &format!("examples/resources/{type_name}/import.sh"),
            &mut problems,
        );
        check_block(&page, block, type_name, &mut problems);
    }
    fail_on(problems);
}

#[test]
fn data_source_pages_document_schema() {
    let data_sources = schema_entries("data_source_schemas");
    assert!(!data_sources.is_empty(), "the schema lists no data sources");
    let mut problems = Vec::new();
    for (type_name, data_source) in data_sources {
        let page = match Page::load(&format!("docs/data-sources/{}.md", page_stem(type_name))) {
            Ok(page) => page,
            Err(problem) => {
                problems.push(format!("{problem} (the page of data source {type_name})"));
                continue;
            }
        };
        page.check_layout(
            &["Example Usage", "Argument Reference", "Attribute Reference"],
            &mut problems,
        );
        page.check_embeds(
            &format!("examples/data-sources/{type_name}/data-source.tf"),
            &mut problems,
        );
        check_block(&page, &data_source["block"], type_name, &mut problems);
    }
    fail_on(problems);
}

#[test]
fn function_pages_document_schema() {
    let functions = schema_entries("functions");
    assert!(!functions.is_empty(), "the schema lists no functions");
    let mut problems = Vec::new();
    for (name, function) in functions {
        let page = match Page::load(&format!("docs/functions/{name}.md")) {
            Ok(page) => page,
            Err(problem) => {
                problems.push(format!("{problem} (the page of function {name})"));
                continue;
            }
        };
        page.check_layout(
            &[
                "Example Usage",
                "Signature",
                "Arguments",
                "Return Type",
                "Errors",
            ],
            &mut problems,
        );
        page.check_embeds(
            &format!("examples/functions/{name}/function.tf"),
            &mut problems,
        );

        let parameters = function["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let owner = format!("function {name}");
        for parameter in &parameters {
            let parameter_name = parameter["name"].as_str().unwrap_or_default();
            page.check_entry(
                "Arguments",
                parameter_name,
                &type_label(&parameter["type"]),
                &owner,
                &mut problems,
            );
        }
        let signature = format!(
            "{name}({}) {}",
            parameters
                .iter()
                .map(|p| format!(
                    "{} {}",
                    p["name"].as_str().unwrap_or_default(),
                    type_expression(&p["type"])
                ))
                .collect::<Vec<_>>()
                .join(", "),
            type_expression(&function["return_type"])
        );
        if !page
            .section("Signature")
            .is_some_and(|s| s.lines.iter().any(|line| line.trim() == signature))
        {
            problems.push(format!(
                "{}: the section \"## Signature\" does not show `{signature}`",
                page.name
            ));
        }
        let return_type = format!("`{}`", type_expression(&function["return_type"]));
        if !page
            .section("Return Type")
            .is_some_and(|s| s.lines.iter().any(|line| line.contains(&return_type)))
        {
            problems.push(format!(
                "{}: the section \"## Return Type\" does not name {return_type}",
                page.name
            ));
        }
        if !page.text.contains("Terraform 1.8") {
            problems.push(format!(
                "{}: does not say that functions need Terraform 1.8 or later",
                page.name
            ));
        }
    }
    fail_on(problems);
}

/// Every page under `docs/resources`, `docs/data-sources` and `docs/functions` belongs to
/// something the provider registers, so a removed or renamed type leaves no stale page.
#[test]
fn docs_have_no_stale_pages() {
    let expected: [(&str, BTreeSet<String>); 3] = [
        (
            "docs/resources",
            schema_entries("resource_schemas")
                .into_iter()
                .map(|(name, _)| page_stem(name).to_string())
                .collect(),
        ),
        (
            "docs/data-sources",
            schema_entries("data_source_schemas")
                .into_iter()
                .map(|(name, _)| page_stem(name).to_string())
                .collect(),
        ),
        (
            "docs/functions",
            schema_entries("functions")
                .into_iter()
                .map(|(name, _)| name.clone())
                .collect(),
        ),
    ];
    let mut problems = Vec::new();
    for (folder, names) in expected {
        for path in markdown_files(&repo_root().join(folder)) {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !names.contains(&stem) {
                problems.push(format!(
                    "{folder}/{stem}.md documents nothing that the provider registers (expected one of: {})",
                    names.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    fail_on(problems);
}

#[test]
fn guides_exist_with_front_matter() {
    let mut problems = Vec::new();
    for guide in GUIDES {
        match Page::load(&format!("docs/guides/{guide}")) {
            Ok(page) => {
                page.check_layout(&[], &mut problems);
                if !page.sections.iter().any(|s| s.level == 1) {
                    problems.push(format!("{}: has no \"# \" title", page.name));
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    fail_on(problems);
}

/// Every relative link of every page reaches an existing file, and its `#anchor`, if any, a
/// heading of that file.
#[test]
fn docs_links_resolve() {
    let docs = repo_root().join("docs");
    let pages = markdown_files(&docs);
    assert!(!pages.is_empty(), "no pages under {}", docs.display());
    let mut problems = Vec::new();
    for path in pages {
        let relative = path
            .strip_prefix(repo_root())
            .unwrap_or(&path)
            .display()
            .to_string();
        let page = match Page::load(&relative) {
            Ok(page) => page,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        for target in link_targets(&page.text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target.as_str(), ""));
            let linked = if file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap_or(&docs).join(file)
            };
            if !linked.is_file() {
                problems.push(format!("{relative}: the link ({target}) leads to no file"));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let linked_relative = linked
                .strip_prefix(repo_root())
                .unwrap_or(&linked)
                .display()
                .to_string();
            match Page::load(&linked_relative) {
                Ok(linked_page) if linked_page.anchors().contains(anchor) => {}
                Ok(_) => problems.push(format!(
                    "{relative}: the link ({target}) names no heading of {linked_relative}"
                )),
                Err(problem) => problems.push(problem),
            }
        }
    }
    fail_on(problems);
}

/// Returns the targets of the `[text](target)` links in `text`, outside code fences.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].trim().to_string());
            rest = &after[end + 1..];
        }
    }
    targets
}

/// Lists the `.md` files under `folder`, recursively, sorted.
fn markdown_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn markdown_parser_skips_code_headings() {
    let page = Page::parse(
        "example.md",
        "---\npage_title: \"x\"\n---\n# Title\n\n```shell\n# a comment\n```\n\n## Argument Reference\n\n- `a` (String, Required) A.\n".to_string(),
    );
    let headings: Vec<&str> = page.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(headings, ["", "Title", "Argument Reference"]);
    assert_eq!(page.front_matter, ["page_title: \"x\""]);

    let mut problems = Vec::new();
    page.check_entry(
        "Argument Reference",
        "a",
        "String, Required",
        "test",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    page.check_entry(
        "Argument Reference",
        "a",
        "String, Optional",
        "test",
        &mut problems,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    page.check_entry(
        "Argument Reference",
        "b",
        "String, Required",
        "test",
        &mut problems,
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[1].contains("`b` of test is not documented"),
        "{}",
        problems[1]
    );
}

#[test]
fn slug_matches_github_anchors() {
    assert_eq!(
        slug("Nested Schema for `sso_user`"),
        "nested-schema-for-sso_user"
    );
    assert_eq!(slug("Assuming a role"), "assuming-a-role");
    assert_eq!(
        slug("1. Prepare the landing zone"),
        "1-prepare-the-landing-zone"
    );
}
