//! The XPath subset `cibadmin --xpath` understands.
//!
//! Pacemaker hands the expression to libxml2; we implement the part of
//! XPath 1.0 that CIB users write:
//!
//! - location paths: absolute (`/cib/configuration`), descendant (`//nvpair`),
//!   relative steps, `*`, `.`, `..`, and a final `@attr` / `@*` step (which
//!   selects the element carrying the attribute, as Pacemaker does with
//!   attribute matches);
//! - unions: `//primitive | //group`;
//! - predicates: `[@a]`, `[@a='v']`, `[@a!='v']`, `and`, `or`, `not(...)`,
//!   parentheses, `contains(x, y)`, `starts-with(x, y)`, `name()`,
//!   relative paths inside predicates (`[meta_attributes/nvpair/@name='x']`),
//!   and a bare number as a position (`[1]`).
//!
//! Anything else does not parse; cibadmin treats an expression it cannot
//! evaluate like one that matches nothing, which is also what Pacemaker
//! reports for a malformed expression ("No such device or address").
//!
//! Results are element paths (indices among element children from the
//! root), in document order without duplicates.

use cib::Element;

/// A position in the tree: indices of element children, starting below the root.
pub type Path = Vec<usize>;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct XPath {
    union: Vec<LocPath>,
}

#[derive(Debug, Clone, PartialEq)]
struct LocPath {
    absolute: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Axis {
    Child,
    /// `//` before the step: descendants of the context node.
    Descendant,
    SelfNode,
    Parent,
    Attribute,
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    axis: Axis,
    /// Element or attribute name; `None` for `*`.
    name: Option<String>,
    predicates: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Eq(Box<Expr>, Box<Expr>, bool),
    Not(Box<Expr>),
    Contains(Box<Expr>, Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
    Name,
    Literal(String),
    Number(f64),
    Path(LocPath),
}

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported or malformed XPath at offset {offset}: {reason}")]
pub struct XPathError {
    pub offset: usize,
    pub reason: &'static str,
}

impl XPath {
    pub fn parse(src: &str) -> Result<XPath, XPathError> {
        let mut p = Parser { s: src.as_bytes(), i: 0 };
        let mut union = vec![p.loc_path()?];
        loop {
            p.ws();
            if p.eat("|") {
                union.push(p.loc_path()?);
            } else {
                break;
            }
        }
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing input"));
        }
        Ok(XPath { union })
    }

    /// Elements matched under `root` (the document element), in document
    /// order. An attribute match yields the element that carries it.
    pub fn select(&self, root: &Element) -> Vec<Path> {
        let mut out: Vec<Path> = Vec::new();
        for lp in &self.union {
            for item in eval_path(lp, root, &Ctx::Doc) {
                match item {
                    Item::El(p) | Item::Attr(p, _) => out.push(p),
                    Item::Doc => {}
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Convenience: parse and select; an expression that does not parse
/// selects nothing.
pub fn select(expr: &str, root: &Element) -> Vec<Path> {
    XPath::parse(expr).map(|x| x.select(root)).unwrap_or_default()
}

/// The element at `path` under `root`.
pub fn get<'a>(root: &'a Element, path: &[usize]) -> Option<&'a Element> {
    let mut e = root;
    for &i in path {
        e = e.elements().nth(i)?;
    }
    Some(e)
}

pub fn get_mut<'a>(root: &'a mut Element, path: &[usize]) -> Option<&'a mut Element> {
    let mut e = root;
    for &i in path {
        e = e.elements_mut().nth(i)?;
    }
    Some(e)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ctx {
    Doc,
    El(Path),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Doc,
    El(Path),
    Attr(Path, String),
}

fn eval_path(lp: &LocPath, root: &Element, ctx: &Ctx) -> Vec<Item> {
    let mut current: Vec<Item> = vec![if lp.absolute {
        Item::Doc
    } else {
        match ctx {
            Ctx::Doc => Item::Doc,
            Ctx::El(p) => Item::El(p.clone()),
        }
    }];
    for step in &lp.steps {
        let mut next = Vec::new();
        for item in &current {
            let ctx = match item {
                Item::Doc => Ctx::Doc,
                Item::El(p) => Ctx::El(p.clone()),
                // Nothing lies below an attribute.
                Item::Attr(..) => continue,
            };
            if step.axis == Axis::Descendant {
                // `//x` is `/descendant-or-self::node()/x`: positions in
                // predicates count among siblings, so step from every node.
                let child = Step { axis: Axis::Child, ..step.clone() };
                for ctx in self_and_descendants(root, &ctx) {
                    next.extend(filter(axis_items(&child, root, &ctx), &step.predicates, root));
                }
                continue;
            }
            let candidates = axis_items(step, root, &ctx);
            next.extend(filter(candidates, &step.predicates, root));
        }
        next.sort_by(doc_order);
        next.dedup();
        current = next;
    }
    current
}

fn doc_order(a: &Item, b: &Item) -> std::cmp::Ordering {
    fn key(i: &Item) -> (u8, &[usize], &str) {
        match i {
            Item::Doc => (0, &[], ""),
            Item::El(p) => (1, p, ""),
            Item::Attr(p, n) => (1, p, n),
        }
    }
    let (ka, kb) = (key(a), key(b));
    (ka.0, ka.1, !ka.2.is_empty(), ka.2).cmp(&(kb.0, kb.1, !kb.2.is_empty(), kb.2))
}

fn name_ok(step: &Step, name: &str) -> bool {
    step.name.as_deref().is_none_or(|n| n == name)
}

fn axis_items(step: &Step, root: &Element, ctx: &Ctx) -> Vec<Item> {
    let mut out = Vec::new();
    match step.axis {
        Axis::Child => match ctx {
            Ctx::Doc => {
                if name_ok(step, &root.name) {
                    out.push(Item::El(Vec::new()));
                }
            }
            Ctx::El(p) => {
                if let Some(e) = get(root, p) {
                    for (i, c) in e.elements().enumerate() {
                        if name_ok(step, &c.name) {
                            let mut q = p.clone();
                            q.push(i);
                            out.push(Item::El(q));
                        }
                    }
                }
            }
        },
        // Expanded by `eval_path` into child steps from every descendant.
        Axis::Descendant => unreachable!("descendant steps are expanded by eval_path"),
        Axis::SelfNode => out.push(match ctx {
            Ctx::Doc => Item::Doc,
            Ctx::El(p) => Item::El(p.clone()),
        }),
        Axis::Parent => {
            if let Ctx::El(p) = ctx {
                if p.is_empty() {
                    out.push(Item::Doc);
                } else {
                    out.push(Item::El(p[..p.len() - 1].to_vec()));
                }
            }
        }
        Axis::Attribute => {
            if let Ctx::El(p) = ctx {
                if let Some(e) = get(root, p) {
                    for (k, _) in e.attrs() {
                        if name_ok(step, k) {
                            out.push(Item::Attr(p.clone(), k.to_string()));
                        }
                    }
                }
            }
        }
    }
    out
}

fn self_and_descendants(root: &Element, ctx: &Ctx) -> Vec<Ctx> {
    let mut out = vec![ctx.clone()];
    let (start, base) = match ctx {
        Ctx::Doc => {
            out.push(Ctx::El(Vec::new()));
            (root, Vec::new())
        }
        Ctx::El(p) => match get(root, p) {
            Some(e) => (e, p.clone()),
            None => return out,
        },
    };
    walk_descendants(start, &base, &mut |path, _| out.push(Ctx::El(path.to_vec())));
    out
}

fn walk_descendants(e: &Element, base: &[usize], f: &mut dyn FnMut(&[usize], &Element)) {
    let mut path = base.to_vec();
    for (i, c) in e.elements().enumerate() {
        path.push(i);
        f(&path, c);
        walk_descendants(c, &path, f);
        path.pop();
    }
}

fn filter(mut items: Vec<Item>, preds: &[Expr], root: &Element) -> Vec<Item> {
    for pred in preds {
        let size = items.len();
        items = items
            .into_iter()
            .enumerate()
            .filter(|(i, item)| match pred {
                Expr::Number(n) => (*i + 1) as f64 == *n && *i < size,
                _ => truthy(&eval(pred, root, item)),
            })
            .map(|(_, it)| it)
            .collect();
    }
    items
}

#[derive(Debug)]
enum Val {
    Strings(Vec<String>),
    Str(String),
    Num(f64),
    Bool(bool),
}

fn truthy(v: &Val) -> bool {
    match v {
        Val::Strings(s) => !s.is_empty(),
        Val::Str(s) => !s.is_empty(),
        Val::Num(n) => *n != 0.0 && !n.is_nan(),
        Val::Bool(b) => *b,
    }
}

fn string_of(v: Val) -> String {
    match v {
        Val::Strings(s) => s.into_iter().next().unwrap_or_default(),
        Val::Str(s) => s,
        Val::Num(n) => format_number(n),
        Val::Bool(b) => b.to_string(),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.is_finite() {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn item_string(root: &Element, item: &Item) -> String {
    match item {
        Item::Doc => root.text(),
        Item::El(p) => get(root, p).map(|e| e.text()).unwrap_or_default(),
        Item::Attr(p, n) => get(root, p).and_then(|e| e.attr(n)).unwrap_or_default().to_string(),
    }
}

fn eval(e: &Expr, root: &Element, ctx: &Item) -> Val {
    match e {
        Expr::Or(a, b) => Val::Bool(truthy(&eval(a, root, ctx)) || truthy(&eval(b, root, ctx))),
        Expr::And(a, b) => Val::Bool(truthy(&eval(a, root, ctx)) && truthy(&eval(b, root, ctx))),
        Expr::Not(a) => Val::Bool(!truthy(&eval(a, root, ctx))),
        Expr::Eq(a, b, negate) => Val::Bool(compare(eval(a, root, ctx), eval(b, root, ctx), *negate)),
        Expr::Contains(a, b) => {
            let (a, b) = (string_of(eval(a, root, ctx)), string_of(eval(b, root, ctx)));
            Val::Bool(a.contains(&b))
        }
        Expr::StartsWith(a, b) => {
            let (a, b) = (string_of(eval(a, root, ctx)), string_of(eval(b, root, ctx)));
            Val::Bool(a.starts_with(&b))
        }
        Expr::Name => Val::Str(match ctx {
            Item::Doc => String::new(),
            Item::El(p) => get(root, p).map(|e| e.name.clone()).unwrap_or_default(),
            Item::Attr(_, n) => n.clone(),
        }),
        Expr::Literal(s) => Val::Str(s.clone()),
        Expr::Number(n) => Val::Num(*n),
        Expr::Path(lp) => {
            let ctx = match ctx {
                Item::Doc => Ctx::Doc,
                Item::El(p) | Item::Attr(p, _) => Ctx::El(p.clone()),
            };
            Val::Strings(eval_path(lp, root, &ctx).iter().map(|i| item_string(root, i)).collect())
        }
    }
}

/// XPath 1.0 `=` / `!=`: a node-set compares true if any member does.
fn compare(a: Val, b: Val, negate: bool) -> bool {
    let cmp = |x: &str, y: &str| (x == y) != negate;
    match (a, b) {
        (Val::Strings(xs), Val::Strings(ys)) => xs.iter().any(|x| ys.iter().any(|y| cmp(x, y))),
        (Val::Strings(xs), other) | (other, Val::Strings(xs)) => match other {
            Val::Num(n) => xs.iter().any(|x| (x.trim().parse::<f64>().ok() == Some(n)) != negate),
            Val::Bool(b) => (xs.is_empty() != b) != negate,
            other => {
                let y = string_of(other);
                xs.iter().any(|x| cmp(x, &y))
            }
        },
        (Val::Bool(x), y) | (y, Val::Bool(x)) => (x == truthy(&y)) != negate,
        (Val::Num(x), y) | (y, Val::Num(x)) => {
            let y = match y {
                Val::Num(n) => n,
                other => string_of(other).trim().parse().unwrap_or(f64::NAN),
            };
            (x == y) != negate
        }
        (x, y) => cmp(&string_of(x), &string_of(y)),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> XPathError {
        XPathError { offset: self.i, reason }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self, lit: &str) -> bool {
        self.s[self.i..].starts_with(lit.as_bytes())
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.peek(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            let ok = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' || c >= 0x80;
            let first_ok = c.is_ascii_alphabetic() || c == b'_' || c >= 0x80;
            if (self.i == start && !first_ok) || !ok {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn loc_path(&mut self) -> Result<LocPath, XPathError> {
        self.ws();
        let mut steps = Vec::new();
        let absolute = self.peek("/");
        let mut axis = Axis::Child;
        if self.eat("//") {
            axis = Axis::Descendant;
        } else if self.eat("/") {
            self.ws();
            // A lone "/" selects the document node, which holds no element we can return.
            if self.i == self.s.len() || self.peek("|") {
                return Ok(LocPath { absolute, steps });
            }
        }
        loop {
            steps.push(self.step(axis)?);
            self.ws();
            if self.eat("//") {
                axis = Axis::Descendant;
            } else if self.eat("/") {
                axis = Axis::Child;
            } else {
                break;
            }
        }
        Ok(LocPath { absolute, steps })
    }

    fn step(&mut self, axis: Axis) -> Result<Step, XPathError> {
        self.ws();
        if self.eat("..") {
            return Ok(Step { axis: if axis == Axis::Child { Axis::Parent } else { return Err(self.err("'..' after '//'")) }, name: None, predicates: vec![] });
        }
        if self.eat(".") {
            if axis == Axis::Descendant {
                return Err(self.err("'.' after '//'"));
            }
            return Ok(Step { axis: Axis::SelfNode, name: None, predicates: vec![] });
        }
        let axis = if self.eat("@") {
            if axis == Axis::Descendant {
                return Err(self.err("'//@' is not supported"));
            }
            Axis::Attribute
        } else {
            axis
        };
        let name = if self.eat("*") {
            None
        } else {
            let n = self.name().ok_or_else(|| self.err("expected a name"))?;
            self.ws();
            if self.peek("(") || self.peek("::") {
                return Err(self.err("functions and axes are not supported here"));
            }
            Some(n)
        };
        let mut predicates = Vec::new();
        loop {
            self.ws();
            if !self.eat("[") {
                break;
            }
            let e = self.or_expr()?;
            self.ws();
            if !self.eat("]") {
                return Err(self.err("expected ']'"));
            }
            predicates.push(e);
        }
        Ok(Step { axis, name, predicates })
    }

    fn or_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.and_expr()?;
        loop {
            self.ws();
            if self.keyword("or") {
                let right = self.and_expr()?;
                left = Expr::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.eq_expr()?;
        loop {
            self.ws();
            if self.keyword("and") {
                let right = self.eq_expr()?;
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    /// `and` / `or` are operators only when followed by a separator.
    fn keyword(&mut self, kw: &str) -> bool {
        if self.peek(kw) {
            let after = self.s.get(self.i + kw.len()).copied();
            if matches!(after, Some(c) if c.is_ascii_whitespace() || c == b'(' || c == b'@' || c == b'\'' || c == b'"') {
                self.i += kw.len();
                return true;
            }
        }
        false
    }

    fn eq_expr(&mut self) -> Result<Expr, XPathError> {
        let left = self.primary()?;
        self.ws();
        if self.eat("!=") {
            let right = self.primary()?;
            Ok(Expr::Eq(Box::new(left), Box::new(right), true))
        } else if self.eat("=") {
            let right = self.primary()?;
            Ok(Expr::Eq(Box::new(left), Box::new(right), false))
        } else {
            Ok(left)
        }
    }

    fn primary(&mut self) -> Result<Expr, XPathError> {
        self.ws();
        if self.eat("(") {
            let e = self.or_expr()?;
            self.ws();
            if !self.eat(")") {
                return Err(self.err("expected ')'"));
            }
            return Ok(e);
        }
        if let Some(q) = self.s.get(self.i).copied().filter(|c| *c == b'\'' || *c == b'"') {
            self.i += 1;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != q {
                self.i += 1;
            }
            if self.i == self.s.len() {
                return Err(self.err("unterminated string"));
            }
            let lit = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.i += 1;
            return Ok(Expr::Literal(lit));
        }
        if self.s.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
            let start = self.i;
            while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.') {
                self.i += 1;
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            return text.parse().map(Expr::Number).map_err(|_| self.err("bad number"));
        }
        for (f, arity) in [("not", 1), ("contains", 2), ("starts-with", 2), ("name", 0)] {
            let save = self.i;
            if self.eat(f) {
                self.ws();
                if self.eat("(") {
                    let mut args = Vec::new();
                    self.ws();
                    if arity > 0 {
                        args.push(self.or_expr()?);
                        for _ in 1..arity {
                            self.ws();
                            if !self.eat(",") {
                                return Err(self.err("expected ','"));
                            }
                            args.push(self.or_expr()?);
                        }
                    }
                    self.ws();
                    if !self.eat(")") {
                        return Err(self.err("expected ')'"));
                    }
                    let mut args = args.into_iter().map(Box::new);
                    return Ok(match f {
                        "not" => Expr::Not(args.next().unwrap()),
                        "contains" => Expr::Contains(args.next().unwrap(), args.next().unwrap()),
                        "starts-with" => Expr::StartsWith(args.next().unwrap(), args.next().unwrap()),
                        _ => Expr::Name,
                    });
                }
                self.i = save;
            }
        }
        // A relative (or absolute) location path.
        Ok(Expr::Path(self.loc_path()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;

    fn cib() -> Element {
        parse_element(
            r#"<cib><configuration><crm_config><cluster_property_set id="o"><nvpair id="a" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
            <resources><primitive id="r1" class="ocf"><meta_attributes id="m"><nvpair id="b" name="target-role" value="Started"/></meta_attributes></primitive>
            <group id="g"><primitive id="r2" class="lsb"/></group></resources></configuration><status/></cib>"#,
        )
        .unwrap()
    }

    fn ids(expr: &str) -> Vec<String> {
        let root = cib();
        XPath::parse(expr)
            .unwrap()
            .select(&root)
            .iter()
            .map(|p| {
                let e = get(&root, p).unwrap();
                e.id().map(str::to_string).unwrap_or_else(|| e.name.clone())
            })
            .collect()
    }

    #[test]
    fn paths_and_descendants() {
        assert_eq!(ids("/cib/configuration/resources"), ["resources"]);
        assert_eq!(ids("//primitive"), ["r1", "r2"]);
        assert_eq!(ids("//cib"), ["cib"]);
        assert_eq!(ids("/cib//nvpair"), ["a", "b"]);
        assert_eq!(ids("//resources/*"), ["r1", "g"]);
        assert_eq!(ids("//primitive[@id='r2']/.."), ["g"]);
        assert_eq!(ids("//group/./primitive"), ["r2"]);
        assert!(ids("/resources").is_empty());
    }

    #[test]
    fn predicates() {
        assert_eq!(ids("//nvpair[@name='target-role']"), ["b"]);
        assert_eq!(ids("//primitive[@class!='ocf']"), ["r2"]);
        assert_eq!(ids("//nvpair[contains(@name,'role') and @value=\"Started\"]"), ["b"]);
        assert_eq!(ids("//*[@id='r1' or @id='g']"), ["r1", "g"]);
        assert_eq!(ids("//primitive[not(@class='ocf')]"), ["r2"]);
        assert_eq!(ids("//*[starts-with(@id, 'r')]"), ["r1", "r2"]);
        assert_eq!(ids("//primitive[meta_attributes/nvpair/@name='target-role']"), ["r1"]);
        assert_eq!(ids("//*[name()='group']"), ["g"]);
        assert_eq!(ids("//primitive[1]"), ["r1", "r2"], "position is per parent");
        assert_eq!(ids("//resources/*[2]"), ["g"]);
        assert_eq!(ids("//primitive[@class]"), ["r1", "r2"]);
    }

    #[test]
    fn attributes_select_their_element_and_unions_are_ordered() {
        assert_eq!(ids("//nvpair/@value"), ["a", "b"]);
        assert_eq!(ids("//group | //nvpair | //primitive[@id='r1']"), ["a", "r1", "b", "g"]);
    }

    #[test]
    fn unsupported_input_is_an_error() {
        for bad in ["bad[[", "//x[", "count(//x)", "//x[@a='b]", "/cib/child::x", ""] {
            assert!(XPath::parse(bad).is_err(), "{bad}");
        }
        assert!(select("bad[[", &cib()).is_empty());
    }
}
