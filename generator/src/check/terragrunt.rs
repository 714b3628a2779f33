//! A reader for the Terragrunt constructs eksgen emits, and nothing more: no
//! Terragrunt can be installed where the tree is checked, so `eksgen check`
//! and the end-to-end tests evaluate units with this. Anything it does not
//! know (a block, an attribute, a function) is an error, never ignored.
//!
//! Semantics follow Terragrunt 1.x: included files are evaluated in the
//! context of the including unit (`find_in_parent_folders`,
//! `get_terragrunt_dir`, relative `config_path`s), files read with
//! `read_terragrunt_config` in their own; a unit's `inputs` are merged key by
//! key over its includes' `inputs`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Body, Expression, Map, Value};

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct EvalError {
    pub path: PathBuf,
    pub message: String,
}

type Result<T> = std::result::Result<T, EvalError>;

fn fail(path: &Path, message: impl Into<String>) -> EvalError {
    EvalError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// One `dependency` block, its path resolved against the unit.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub name: String,
    pub config_path: PathBuf,
    pub mock_outputs: Option<Map<String, Value>>,
    pub mock_commands: Vec<String>,
}

/// One `generate` block, evaluated.
#[derive(Debug, Clone)]
pub struct Generate {
    pub name: String,
    pub path: String,
    pub contents: String,
}

/// A file's evaluated locals and its `inputs` expression, still to be
/// evaluated once dependency outputs are known.
#[derive(Debug, Clone)]
struct Layer {
    file: PathBuf,
    locals: Value,
    inputs: Option<Expression>,
}

#[derive(Debug, Clone)]
pub struct Unit {
    /// The unit's folder (holding its terragrunt.hcl).
    pub dir: PathBuf,
    pub source: Option<String>,
    pub dependencies: Vec<Dependency>,
    pub generate: Vec<Generate>,
    pub remote_state: Option<Value>,
    /// The file holding the unit's own configuration: `<dir>/terragrunt.hcl`,
    /// or for a unit a stack file generates, its source's terragrunt.hcl.
    file: PathBuf,
    /// A generated unit's `values` (its terragrunt.values.hcl).
    values: Option<Value>,
    /// Included files, in include order, then the unit itself.
    layers: Vec<Layer>,
    exposed: Map<String, Value>,
}

/// One `unit` block of a `terragrunt.stack.hcl`.
#[derive(Debug, Clone)]
pub struct StackUnit {
    pub name: String,
    /// The stack file declaring it.
    pub stack: PathBuf,
    /// The unit's source folder, resolved against the stack file's folder.
    pub source: PathBuf,
    /// Where `terragrunt stack generate` writes it: `<stack dir>/.terragrunt-stack/<path>`.
    pub dir: PathBuf,
    pub values: Value,
}

/// The `unit` blocks of a stack file (eksgen writes nothing else there).
pub fn read_stack(path: &Path) -> Result<Vec<StackUnit>> {
    let body = parse_file(path)?;
    let _scope = ScopeGuard::enter(Scope {
        config: path.to_path_buf(),
        included: None,
    });
    let stack_dir = dir_of(path);
    let mut units = Vec::new();
    for structure in body.iter() {
        match structure {
            hcl::Structure::Block(block) if block.identifier() == "unit" => {
                let name = label(block);
                let attrs = attrs_of(path, block, &["source", "path", "values"])?;
                let get = |attr: &str| -> Result<Value> {
                    let expr = attrs
                        .get(attr)
                        .ok_or_else(|| fail(path, format!("unit {name:?}: {attr} is missing")))?;
                    evaluate(path, &format!("unit.{name}.{attr}"), expr, &base_context())
                };
                let string = |attr: &str| -> Result<String> {
                    get(attr)?
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| fail(path, format!("unit {name:?}: {attr} is not a string")))
                };
                let source = string("source")?;
                if crate::render::is_remote(&source) {
                    return Err(fail(
                        path,
                        format!(
                            "unit {name:?}: source {source} is remote; eksgen's checks read local unit sources only"
                        ),
                    ));
                }
                let unit_path = string("path")?;
                let mut depth = 0i32;
                let escapes = Path::new(&unit_path).components().any(|c| {
                    match c {
                        Component::ParentDir => depth -= 1,
                        Component::Normal(_) => depth += 1,
                        Component::CurDir => {}
                        Component::RootDir | Component::Prefix(_) => depth = -1,
                    }
                    depth < 0
                });
                if escapes {
                    return Err(fail(
                        path,
                        format!("unit {name:?}: path {unit_path} is outside the stack's folder"),
                    ));
                }
                let values = match attrs.get("values") {
                    Some(_) => get("values")?,
                    None => Value::Object(Map::new()),
                };
                if !values.is_object() {
                    return Err(fail(path, format!("unit {name:?}: values is not an object")));
                }
                if units.iter().any(|u: &StackUnit| u.name == name) {
                    return Err(fail(path, format!("unit {name:?} is declared twice")));
                }
                let dir = normalize(&stack_dir.join(crate::render::STACK_DIR).join(&unit_path));
                if units.iter().any(|u: &StackUnit| u.dir == dir) {
                    return Err(fail(path, format!("unit {name:?}: another unit has path {unit_path}")));
                }
                units.push(StackUnit {
                    stack: path.to_path_buf(),
                    source: normalize(&stack_dir.join(&source)),
                    dir,
                    name,
                    values,
                });
            }
            other => {
                return Err(fail(
                    path,
                    format!("{} is not supported by eksgen's checks of stack files", describe(other)),
                ));
            }
        }
    }
    Ok(units)
}

/// Where functions are evaluated: the unit (config) being parsed and, while
/// an included file is evaluated, that file.
#[derive(Clone)]
struct Scope {
    config: PathBuf,
    included: Option<PathBuf>,
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
}

struct ScopeGuard;

impl ScopeGuard {
    fn enter(scope: Scope) -> ScopeGuard {
        SCOPES.with(|s| s.borrow_mut().push(scope));
        ScopeGuard
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPES.with(|s| s.borrow_mut().pop());
    }
}

fn current_scope() -> std::result::Result<Scope, String> {
    SCOPES
        .with(|s| s.borrow().last().cloned())
        .ok_or_else(|| "function called outside a Terragrunt file".to_string())
}

fn dir_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `a/b/../c` → `a/c`, without touching the file system (the path may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn arg_str(args: &FuncArgs, index: usize) -> std::result::Result<String, String> {
    args.get(index)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("argument {index} must be a string"))
}

fn find_in_parent_folders(args: FuncArgs) -> std::result::Result<Value, String> {
    let name = arg_str(&args, 0)?;
    let scope = current_scope()?;
    // Terragrunt starts at the folder above the unit's own.
    let mut dir = dir_of(&scope.config).parent().map(Path::to_path_buf);
    while let Some(current) = dir {
        let candidate = current.join(&name);
        if candidate.is_file() {
            return Ok(Value::from(candidate.to_string_lossy().into_owned()));
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Err(format!(
        "find_in_parent_folders: no {name} in any folder above {}",
        scope.config.display()
    ))
}

fn get_terragrunt_dir(_: FuncArgs) -> std::result::Result<Value, String> {
    Ok(Value::from(
        dir_of(&current_scope()?.config).to_string_lossy().into_owned(),
    ))
}

fn get_parent_terragrunt_dir(_: FuncArgs) -> std::result::Result<Value, String> {
    let scope = current_scope()?;
    let file = scope.included.unwrap_or(scope.config);
    Ok(Value::from(dir_of(&file).to_string_lossy().into_owned()))
}

fn path_relative_to_include(_: FuncArgs) -> std::result::Result<Value, String> {
    let scope = current_scope()?;
    let unit_dir = dir_of(&scope.config);
    let include_dir = scope
        .included
        .as_deref()
        .map(dir_of)
        .unwrap_or_else(|| unit_dir.clone());
    let relative = unit_dir
        .strip_prefix(&include_dir)
        .map(Path::to_path_buf)
        .unwrap_or(unit_dir);
    let text = relative.to_string_lossy().into_owned();
    Ok(Value::from(if text.is_empty() { ".".to_string() } else { text }))
}

fn dirname(args: FuncArgs) -> std::result::Result<Value, String> {
    Ok(Value::from(
        dir_of(Path::new(&arg_str(&args, 0)?)).to_string_lossy().into_owned(),
    ))
}

/// Terraform's `merge`: the objects' keys, later ones winning.
fn merge(args: FuncArgs) -> std::result::Result<Value, String> {
    let mut merged = Map::new();
    for (index, arg) in args.iter().enumerate() {
        match arg {
            Value::Object(map) => merged.extend(map.clone()),
            Value::Null => {}
            _ => return Err(format!("merge: argument {index} is not an object")),
        }
    }
    Ok(Value::Object(merged))
}

fn jsonencode(args: FuncArgs) -> std::result::Result<Value, String> {
    let value = args.first().cloned().unwrap_or(Value::Null);
    serde_json::to_string(&value)
        .map(Value::from)
        .map_err(|e| e.to_string())
}

fn read_terragrunt_config(args: FuncArgs) -> std::result::Result<Value, String> {
    let scope = current_scope()?;
    let path = Path::new(&arg_str(&args, 0)?).to_path_buf();
    let path = if path.is_absolute() {
        path
    } else {
        dir_of(&scope.config).join(path)
    };
    if !path.is_file() {
        return match args.get(1) {
            Some(default) => Ok(default.clone()),
            None => Err(format!("read_terragrunt_config: {} does not exist", path.display())),
        };
    }
    read_config(&normalize(&path)).map_err(|e| e.to_string())
}

/// A file read with read_terragrunt_config: its locals and inputs, evaluated
/// in its own context.
fn read_config(path: &Path) -> Result<Value> {
    if let Some(value) = READS.with(|r| r.borrow().as_ref().and_then(|r| r.configs.get(path).cloned())) {
        return Ok(value);
    }
    let value = evaluate_config(path)?;
    READS.with(|r| {
        if let Some(reads) = r.borrow_mut().as_mut() {
            reads.configs.insert(path.to_path_buf(), value.clone());
        }
    });
    Ok(value)
}

fn evaluate_config(path: &Path) -> Result<Value> {
    let body = parse_file(path)?;
    let _scope = ScopeGuard::enter(Scope {
        config: path.to_path_buf(),
        included: None,
    });
    for structure in body.iter() {
        match structure {
            hcl::Structure::Block(block) if block.identifier() == "locals" => {}
            hcl::Structure::Attribute(attr) if attr.key() == "inputs" => {}
            other => {
                return Err(fail(
                    path,
                    format!(
                        "{} is not supported in a file read by read_terragrunt_config",
                        describe(other)
                    ),
                ));
            }
        }
    }
    let locals = eval_locals(path, &body, None)?;
    let mut ctx = base_context();
    ctx.declare_var("local", locals.clone());
    let inputs = match body.attributes().find(|a| a.key() == "inputs") {
        Some(attr) => evaluate(path, "inputs", attr.expr(), &ctx)?,
        None => Value::Object(Map::new()),
    };
    let mut out = Map::new();
    out.insert("locals".to_string(), locals);
    out.insert("inputs".to_string(), inputs);
    Ok(Value::Object(out))
}

fn function(func: hcl::eval::Func, params: &[ParamType], optional: Option<ParamType>) -> FuncDef {
    let mut builder = FuncDef::builder();
    for param in params {
        builder = builder.param(param.clone());
    }
    match optional {
        Some(param) => builder.variadic_param(param).build(func),
        None => builder.build(func),
    }
}

/// The functions eksgen's files call; any other is an "unknown function" error.
fn base_context() -> Context<'static> {
    let mut ctx = Context::new();
    ctx.declare_func(
        "find_in_parent_folders",
        function(find_in_parent_folders, &[ParamType::String], None),
    );
    ctx.declare_func("get_terragrunt_dir", function(get_terragrunt_dir, &[], None));
    ctx.declare_func(
        "get_parent_terragrunt_dir",
        function(get_parent_terragrunt_dir, &[], None),
    );
    ctx.declare_func(
        "path_relative_to_include",
        function(path_relative_to_include, &[], None),
    );
    ctx.declare_func("dirname", function(dirname, &[ParamType::String], None));
    ctx.declare_func("jsonencode", function(jsonencode, &[ParamType::Any], None));
    ctx.declare_func("merge", function(merge, &[], Some(ParamType::Any)));
    ctx.declare_func(
        "read_terragrunt_config",
        function(read_terragrunt_config, &[ParamType::String], Some(ParamType::Any)),
    );
    ctx
}

thread_local! {
    static READS: RefCell<Option<Reads>> = const { RefCell::new(None) };
}

/// What one check has read so far: every unit of a tree includes the same
/// root.hcl and reads the same env.hcl, so a 1,000-region tree would parse
/// each of them thousands of times. Files do not change during a check.
#[derive(Default)]
struct Reads {
    bodies: HashMap<PathBuf, Rc<Body>>,
    configs: HashMap<PathBuf, Value>,
}

/// Reads made while this guard lives are kept and reused; a later read (after
/// eksgen writes files, say) reads the disk again.
pub struct ReadCache;

impl ReadCache {
    pub fn enter() -> ReadCache {
        READS.with(|r| *r.borrow_mut() = Some(Reads::default()));
        ReadCache
    }
}

impl Drop for ReadCache {
    fn drop(&mut self) {
        READS.with(|r| *r.borrow_mut() = None);
    }
}

pub fn parse_file(path: &Path) -> Result<Rc<Body>> {
    if let Some(body) = READS.with(|r| r.borrow().as_ref().and_then(|r| r.bodies.get(path).cloned())) {
        return Ok(body);
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(path, e.to_string()))?;
    let body = hcl::parse(&text)
        .map(Rc::new)
        .map_err(|e| fail(path, e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")))?;
    READS.with(|r| {
        if let Some(reads) = r.borrow_mut().as_mut() {
            reads.bodies.insert(path.to_path_buf(), body.clone());
        }
    });
    Ok(body)
}

fn describe(structure: &hcl::Structure) -> String {
    match structure {
        hcl::Structure::Attribute(attr) => format!("attribute `{}`", attr.key()),
        hcl::Structure::Block(block) => format!("block `{}`", block.identifier()),
    }
}

fn evaluate(path: &Path, what: &str, expr: &Expression, ctx: &Context) -> Result<Value> {
    expr.evaluate(ctx).map_err(|e| {
        fail(
            path,
            format!(
                "{what}: {}",
                e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
            ),
        )
    })
}

/// `locals { … }`, where a local may use the ones before or after it.
fn eval_locals(path: &Path, body: &Body, values: Option<&Value>) -> Result<Value> {
    let mut pending: Vec<(String, Expression)> = Vec::new();
    for block in body.blocks().filter(|b| b.identifier() == "locals") {
        for structure in block.body().iter() {
            match structure {
                hcl::Structure::Attribute(attr) => pending.push((attr.key().to_string(), attr.expr().clone())),
                other => return Err(fail(path, format!("locals: {} is not supported", describe(other)))),
            }
        }
    }
    let mut done = Map::new();
    while !pending.is_empty() {
        let mut ctx = base_context();
        ctx.declare_var("local", Value::Object(done.clone()));
        if let Some(values) = values {
            ctx.declare_var("values", values.clone());
        }
        let mut progress = false;
        let mut last_error = None;
        let mut still = Vec::new();
        for (name, expr) in pending {
            match expr.evaluate(&ctx) {
                Ok(value) => {
                    done.insert(name, value);
                    progress = true;
                }
                Err(err) => {
                    last_error = Some(format!(
                        "local.{name}: {}",
                        err.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                    still.push((name, expr));
                }
            }
        }
        if !progress {
            return Err(fail(path, last_error.unwrap_or_default()));
        }
        pending = still;
    }
    Ok(Value::Object(done))
}

fn attrs_of<'a>(path: &Path, block: &'a hcl::Block, allowed: &[&str]) -> Result<BTreeMap<&'a str, &'a Expression>> {
    let mut attrs = BTreeMap::new();
    for structure in block.body().iter() {
        match structure {
            hcl::Structure::Attribute(attr) if allowed.contains(&attr.key()) => {
                attrs.insert(attr.key(), attr.expr());
            }
            other => {
                return Err(fail(
                    path,
                    format!("{} block: {} is not supported", block.identifier(), describe(other)),
                ));
            }
        }
    }
    Ok(attrs)
}

fn label(block: &hcl::Block) -> String {
    block
        .labels()
        .first()
        .map(|l| l.as_str().to_string())
        .unwrap_or_default()
}

impl Unit {
    /// Reads `<dir>/terragrunt.hcl` and everything it includes, evaluating
    /// all but the inputs (which need the dependencies' outputs).
    pub fn load(dir: &Path) -> Result<Unit> {
        Unit::load_from(dir, &dir.join("terragrunt.hcl"), None)
    }

    /// A unit a stack file generates, read where Terragrunt would generate it
    /// (`unit.dir`, which need not exist), from its source, with its values.
    pub fn load_generated(unit: &StackUnit) -> Result<Unit> {
        Unit::load_from(
            &unit.dir,
            &unit.source.join("terragrunt.hcl"),
            Some(unit.values.clone()),
        )
    }

    fn load_from(dir: &Path, file: &Path, values: Option<Value>) -> Result<Unit> {
        let config = dir.join("terragrunt.hcl");
        let body = parse_file(file)?;
        let _scope = ScopeGuard::enter(Scope {
            config: config.clone(),
            included: None,
        });
        let mut unit = Unit {
            dir: dir.to_path_buf(),
            source: None,
            dependencies: Vec::new(),
            generate: Vec::new(),
            remote_state: None,
            file: file.to_path_buf(),
            values,
            layers: Vec::new(),
            exposed: Map::new(),
        };
        for structure in body.iter() {
            match structure {
                hcl::Structure::Block(block) if block.identifier() == "include" => {
                    let attrs = attrs_of(file, block, &["path", "expose"])?;
                    let path_expr = attrs
                        .get("path")
                        .ok_or_else(|| fail(file, "include block without path"))?;
                    let path = evaluate(file, "include.path", path_expr, &base_context())?;
                    let path = path
                        .as_str()
                        .ok_or_else(|| fail(file, "include.path is not a string"))?;
                    let included = normalize(&dir.join(path));
                    if !included.is_file() {
                        return Err(fail(
                            file,
                            format!("include {:?}: {} does not exist", label(block), included.display()),
                        ));
                    }
                    let expose = match attrs.get("expose") {
                        Some(expr) => evaluate(file, "include.expose", expr, &base_context())?
                            .as_bool()
                            .unwrap_or(false),
                        None => false,
                    };
                    let layer = unit.load_layer(&config, Some(&included))?;
                    if expose {
                        let mut exposed = Map::new();
                        exposed.insert("locals".to_string(), layer.locals.clone());
                        unit.exposed.insert(label(block), Value::Object(exposed));
                    }
                    unit.layers.push(layer);
                }
                hcl::Structure::Block(block)
                    if matches!(
                        block.identifier(),
                        "locals" | "terraform" | "dependency" | "generate" | "remote_state"
                    ) => {}
                hcl::Structure::Attribute(attr) if matches!(attr.key(), "inputs" | "terragrunt_version_constraint") => {
                }
                other => {
                    return Err(fail(
                        file,
                        format!("{} is not supported by eksgen's checks", describe(other)),
                    ));
                }
            }
        }
        let own = unit.load_layer(&config, None)?;
        unit.layers.push(own);
        Ok(unit)
    }

    /// Evaluates one file (the unit's own, or one it includes) in the unit's context.
    fn load_layer(&mut self, config: &Path, included: Option<&Path>) -> Result<Layer> {
        let file = included.unwrap_or(&self.file).to_path_buf();
        let body = parse_file(&file)?;
        let _scope = ScopeGuard::enter(Scope {
            config: config.to_path_buf(),
            included: included.map(Path::to_path_buf),
        });
        // Terragrunt reads values from the terragrunt.values.hcl next to the
        // file it parses: the unit's own file sees them, included ones do not.
        let values = if included.is_none() { self.values.clone() } else { None };
        let locals = eval_locals(&file, &body, values.as_ref())?;
        let mut ctx = base_context();
        ctx.declare_var("local", locals.clone());
        ctx.declare_var("include", Value::Object(self.exposed.clone()));
        if let Some(values) = &values {
            ctx.declare_var("values", values.clone());
        }
        let mut inputs = None;
        for structure in body.iter() {
            match structure {
                hcl::Structure::Attribute(attr) if attr.key() == "inputs" => inputs = Some(attr.expr().clone()),
                hcl::Structure::Attribute(attr) if attr.key() == "terragrunt_version_constraint" => {
                    let constraint = evaluate(&file, attr.key(), attr.expr(), &ctx)?;
                    if constraint.as_str().is_none_or(|c| c.trim().is_empty()) {
                        return Err(fail(
                            &file,
                            "terragrunt_version_constraint is not a version constraint string",
                        ));
                    }
                }
                hcl::Structure::Block(block) => match block.identifier() {
                    "locals" | "include" => {}
                    "terraform" => {
                        let attrs = attrs_of(&file, block, &["source"])?;
                        if let Some(expr) = attrs.get("source") {
                            let source = evaluate(&file, "terraform.source", expr, &ctx)?;
                            self.source = Some(
                                source
                                    .as_str()
                                    .ok_or_else(|| fail(&file, "terraform.source is not a string"))?
                                    .to_string(),
                            );
                        }
                    }
                    "dependency" => {
                        let attrs = attrs_of(
                            &file,
                            block,
                            &[
                                "config_path",
                                "mock_outputs",
                                "mock_outputs_allowed_terraform_commands",
                                "mock_outputs_merge_strategy_with_state",
                            ],
                        )?;
                        let name = label(block);
                        let what = |attr: &str| format!("dependency.{name}.{attr}");
                        let config_path = attrs
                            .get("config_path")
                            .ok_or_else(|| fail(&file, format!("{} is missing", what("config_path"))))?;
                        let config_path = evaluate(&file, &what("config_path"), config_path, &ctx)?;
                        let config_path = config_path
                            .as_str()
                            .ok_or_else(|| fail(&file, format!("{} is not a string", what("config_path"))))?;
                        let mock_outputs = match attrs.get("mock_outputs") {
                            Some(expr) => match evaluate(&file, &what("mock_outputs"), expr, &ctx)? {
                                Value::Object(map) => Some(map),
                                _ => return Err(fail(&file, format!("{} is not an object", what("mock_outputs")))),
                            },
                            None => None,
                        };
                        let mock_commands = match attrs.get("mock_outputs_allowed_terraform_commands") {
                            Some(expr) => {
                                match evaluate(&file, &what("mock_outputs_allowed_terraform_commands"), expr, &ctx)? {
                                    Value::Array(items) => {
                                        items.iter().filter_map(Value::as_str).map(str::to_string).collect()
                                    }
                                    _ => {
                                        return Err(fail(
                                            &file,
                                            format!(
                                                "{} is not a list",
                                                what("mock_outputs_allowed_terraform_commands")
                                            ),
                                        ));
                                    }
                                }
                            }
                            None => Vec::new(),
                        };
                        if let Some(expr) = attrs.get("mock_outputs_merge_strategy_with_state") {
                            let what = what("mock_outputs_merge_strategy_with_state");
                            let strategy = evaluate(&file, &what, expr, &ctx)?;
                            if !matches!(strategy.as_str(), Some("no_merge" | "shallow" | "deep_map_only")) {
                                return Err(fail(
                                    &file,
                                    format!("{what} must be \"no_merge\", \"shallow\" or \"deep_map_only\""),
                                ));
                            }
                        }
                        self.dependencies.retain(|d| d.name != name);
                        self.dependencies.push(Dependency {
                            config_path: normalize(&self.dir.join(config_path)),
                            name,
                            mock_outputs,
                            mock_commands,
                        });
                    }
                    "generate" => {
                        let attrs = attrs_of(&file, block, &["path", "if_exists", "contents"])?;
                        let get = |attr: &str| -> Result<String> {
                            let expr = attrs
                                .get(attr)
                                .ok_or_else(|| fail(&file, format!("generate.{attr} is missing")))?;
                            let value = evaluate(&file, &format!("generate.{attr}"), expr, &ctx)?;
                            value
                                .as_str()
                                .map(str::to_string)
                                .ok_or_else(|| fail(&file, format!("generate.{attr} is not a string")))
                        };
                        let name = label(block);
                        let generate = Generate {
                            path: get("path")?,
                            contents: get("contents")?,
                            name: name.clone(),
                        };
                        self.generate.retain(|g| g.name != name);
                        self.generate.push(generate);
                    }
                    "remote_state" => {
                        let attrs = attrs_of(&file, block, &["backend", "generate", "config"])?;
                        let mut state = Map::new();
                        for (key, expr) in attrs {
                            state.insert(
                                key.to_string(),
                                evaluate(&file, &format!("remote_state.{key}"), expr, &ctx)?,
                            );
                        }
                        self.remote_state = Some(Value::Object(state));
                    }
                    other => {
                        return Err(fail(
                            &file,
                            format!("block `{other}` is not supported by eksgen's checks"),
                        ));
                    }
                },
                other => {
                    return Err(fail(
                        &file,
                        format!("{} is not supported by eksgen's checks", describe(other)),
                    ));
                }
            }
        }
        Ok(Layer { file, locals, inputs })
    }

    /// The unit's inputs, given each dependency's outputs by dependency name
    /// (real ones after an apply, or the mocks for a plan).
    pub fn inputs(&self, outputs: &BTreeMap<String, Map<String, Value>>) -> Result<Map<String, Value>> {
        let config = self.dir.join("terragrunt.hcl");
        let mut dependency = Map::new();
        for (name, values) in outputs {
            let mut entry = Map::new();
            entry.insert("outputs".to_string(), Value::Object(values.clone()));
            dependency.insert(name.clone(), Value::Object(entry));
        }
        let mut merged = Map::new();
        for layer in &self.layers {
            let Some(expr) = &layer.inputs else { continue };
            let own = layer.file == self.file;
            let _scope = ScopeGuard::enter(Scope {
                config: config.clone(),
                included: (!own).then(|| layer.file.clone()),
            });
            let mut ctx = base_context();
            ctx.declare_var("local", layer.locals.clone());
            ctx.declare_var("include", Value::Object(self.exposed.clone()));
            ctx.declare_var("dependency", Value::Object(dependency.clone()));
            if let (true, Some(values)) = (own, &self.values) {
                ctx.declare_var("values", values.clone());
            }
            match evaluate(&layer.file, "inputs", expr, &ctx)? {
                Value::Object(map) => merged.extend(map),
                _ => return Err(fail(&layer.file, "inputs is not an object")),
            }
        }
        Ok(merged)
    }

    /// Inputs with every dependency's mock outputs, as `terragrunt plan` on a fresh tree sees them.
    pub fn inputs_with_mocks(&self) -> Result<Map<String, Value>> {
        let mocks = self
            .dependencies
            .iter()
            .map(|d| (d.name.clone(), d.mock_outputs.clone().unwrap_or_default()))
            .collect();
        self.inputs(&mocks)
    }

    /// Where the module lives: a local folder (the `//` of a Terragrunt source
    /// only marks what is copied along), or None for a remote source.
    pub fn local_module_dir(&self) -> Option<PathBuf> {
        let source = self.source.as_deref()?;
        if crate::render::is_remote(source) {
            return None;
        }
        Some(normalize(Path::new(&source.replacen("//", "/", 1))))
    }

    /// The module's name: the last folder of the source.
    pub fn module_name(&self) -> Option<String> {
        let source = self.source.as_deref()?;
        let path = source.split('?').next().unwrap_or(source);
        path.trim_end_matches('/').rsplit('/').next().map(str::to_string)
    }
}
