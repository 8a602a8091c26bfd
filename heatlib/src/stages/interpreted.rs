//! Stage `interpreted`: a tiny interpreter runs the update rule from its text.
//!
//! Python counterpart: the pure-Python triple loop,
//! `T[k+1, i, j] = g * (T[k, i+1, j] + T[k, i-1, j] + T[k, i, j+1] + T[k, i, j-1])`.
//!
//! The idea: an interpreter pays for every operation at run time. Here the
//! rule [`UPDATE_RULE`] is parsed once into a tree, then for every cell the
//! tree is walked: each name (`old`, `i`, `g`, ...) is looked up in a table
//! of variables by its string, each value is a heap-allocated object whose
//! type is checked before each `+` or `*` picks the machine operation, each
//! result is a new object, and the grid is a list of lists of such objects.
//! Nothing here sleeps or spins: the cost is the bookkeeping itself, which
//! [`operations_per_cell`] counts.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ndarray::{ArrayView2, ArrayViewMut2};

/// The update rule the interpreter runs for every interior cell `(i, j)`:
/// `g` is gamma, `c` the centre's weight `1 - 4 gamma`.
pub const UPDATE_RULE: &str = "new[i][j] = g * (old[i + 1][j] + old[i - 1][j] + old[i][j + 1] + old[i][j - 1]) + c * old[i][j]";

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let (rows, columns) = current.dim();
    let mut variables: HashMap<String, Value> = HashMap::new();
    variables.insert("old".into(), nested_list(current));
    variables.insert("new".into(), nested_list(current));
    variables.insert("g".into(), Rc::new(Object::Float(gamma)));
    variables.insert("c".into(), Rc::new(Object::Float(1.0 - 4.0 * gamma)));
    PROGRAM.with(|program| {
        for i in 1..rows - 1 {
            variables.insert("i".into(), Rc::new(Object::Int(i as i64)));
            for j in 1..columns - 1 {
                variables.insert("j".into(), Rc::new(Object::Int(j as i64)));
                program
                    .execute(&variables)
                    .expect("the built-in update rule only meets numbers and lists");
            }
        }
    });
    let Object::List(rows) = &*variables["new"] else {
        unreachable!("`new` is bound to a list above and never rebound");
    };
    for (row, out) in rows.borrow().iter().zip(next.rows_mut()) {
        let Object::List(cells) = &**row else {
            unreachable!("every row of `new` is a list");
        };
        for (cell, out) in cells.borrow().iter().zip(out) {
            if let Object::Float(value) = **cell {
                *out = value;
            }
        }
    }
}

/// The `nx x nx` arrays of `f64` a step needs at once, counted for the memory
/// check: the two fields, plus two nested lists (`old` and `new`) whose every
/// cell is a pointer to its own counted, heap-allocated object.
pub(crate) const WORKING_FIELDS: u128 = {
    let per_cell = size_of::<Value>() + 2 * size_of::<usize>() + size_of::<Object>();
    2 + 2 * per_cell.div_ceil(size_of::<f64>()) as u128
};

/// A value handed to [`run_loop`]: a list of numbers or one number.
pub(crate) enum Input<'a> {
    List(&'a [f64]),
    Number(f64),
}

/// Runs `rule` (an assignment to `output[...]`) once for each `loop_variable`
/// in `0..count`, with `output` a list of `count` zeros and `inputs` bound to
/// their names; returns `output`. The same interpreter as the heat stage.
pub(crate) fn run_loop(
    rule: &str,
    loop_variable: &str,
    count: usize,
    inputs: &[(&str, Input<'_>)],
    output: &str,
) -> Result<Vec<f64>, String> {
    let program = parse(rule)?;
    let list = |values: &mut dyn Iterator<Item = f64>| {
        let items = values.map(|x| Rc::new(Object::Float(x))).collect();
        Rc::new(Object::List(RefCell::new(items)))
    };
    let mut variables: HashMap<String, Value> = HashMap::new();
    for (name, input) in inputs {
        let value = match input {
            Input::List(values) => list(&mut values.iter().copied()),
            Input::Number(x) => Rc::new(Object::Float(*x)),
        };
        variables.insert(name.to_string(), value);
    }
    variables.insert(output.into(), list(&mut std::iter::repeat_n(0.0, count)));
    for k in 0..count {
        variables.insert(loop_variable.into(), Rc::new(Object::Int(k as i64)));
        program.execute(&variables)?;
    }
    let Object::List(items) = &*variables[output] else {
        return Err(format!(
            "'{output}' was rebound to something that is not a list"
        ));
    };
    items
        .borrow()
        .iter()
        .map(|item| match **item {
            Object::Float(x) => Ok(x),
            Object::Int(i) => Ok(i as f64),
            Object::List(_) => Err(format!("'{output}' holds a list where a number belongs")),
        })
        .collect()
}

thread_local! {
    /// The rule is parsed once per thread, as Python compiles a function once.
    static PROGRAM: Assignment = parse(UPDATE_RULE).expect("UPDATE_RULE is valid");
}

/// A value the interpreter handles: always behind a pointer, its type known only at run time.
type Value = Rc<Object>;

enum Object {
    Int(i64),
    Float(f64),
    List(RefCell<Vec<Value>>),
}

impl Object {
    fn type_name(&self) -> &'static str {
        match self {
            Object::Int(_) => "int",
            Object::Float(_) => "float",
            Object::List(_) => "list",
        }
    }
}

fn nested_list(field: ArrayView2<'_, f64>) -> Value {
    let rows = field
        .rows()
        .into_iter()
        .map(|row| {
            let cells = row.iter().map(|&x| Rc::new(Object::Float(x))).collect();
            Rc::new(Object::List(RefCell::new(cells)))
        })
        .collect();
    Rc::new(Object::List(RefCell::new(rows)))
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    Add,
    Subtract,
    Multiply,
}

enum Expression {
    Constant(Value),
    /// A built-in function, found by its name when called: `sin(x)`.
    Call(String, Box<Expression>),
    Name(String),
    Index(Box<Expression>, Box<Expression>),
    Binary(Operator, Box<Expression>, Box<Expression>),
}

/// `target[index]...[index] = value`
struct Assignment {
    target: String,
    indices: Vec<Expression>,
    value: Expression,
}

impl Assignment {
    fn execute(&self, variables: &HashMap<String, Value>) -> Result<(), String> {
        let value = evaluate(&self.value, variables)?;
        let mut container = look_up(&self.target, variables)?;
        let (last, path) = self.indices.split_last().ok_or("nothing to assign to")?;
        for index in path {
            container = subscript(&container, &*evaluate(index, variables)?)?;
        }
        let Object::List(items) = &*container else {
            return Err(format!(
                "'{}' object does not support item assignment",
                container.type_name()
            ));
        };
        let position = list_position(items.borrow().len(), &*evaluate(last, variables)?)?;
        items.borrow_mut()[position] = value;
        Ok(())
    }
}

fn look_up(name: &str, variables: &HashMap<String, Value>) -> Result<Value, String> {
    variables
        .get(name)
        .cloned()
        .ok_or_else(|| format!("name '{name}' is not defined"))
}

fn evaluate(expression: &Expression, variables: &HashMap<String, Value>) -> Result<Value, String> {
    match expression {
        Expression::Constant(value) => Ok(value.clone()),
        Expression::Call(function, argument) => call(function, &*evaluate(argument, variables)?),
        Expression::Name(name) => look_up(name, variables),
        Expression::Index(container, index) => subscript(
            &*evaluate(container, variables)?,
            &*evaluate(index, variables)?,
        ),
        Expression::Binary(operator, left, right) => binary(
            *operator,
            &*evaluate(left, variables)?,
            &*evaluate(right, variables)?,
        ),
    }
}

/// Calls a built-in function by name, checking its argument's type first.
fn call(function: &str, argument: &Object) -> Result<Value, String> {
    let x = match *argument {
        Object::Float(x) => x,
        Object::Int(i) => i as f64,
        Object::List(_) => return Err(format!("{function}() needs a number, not a list")),
    };
    let result = match function {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "sqrt" => x.sqrt(),
        _ => return Err(format!("name '{function}' is not defined")),
    };
    Ok(Rc::new(Object::Float(result)))
}

/// The type dispatch an interpreter does before every arithmetic operation.
fn binary(operator: Operator, left: &Object, right: &Object) -> Result<Value, String> {
    use Object::{Float, Int};
    let result = match (left, right) {
        (Int(a), Int(b)) => {
            let exact = match operator {
                Operator::Add => a.checked_add(*b),
                Operator::Subtract => a.checked_sub(*b),
                Operator::Multiply => a.checked_mul(*b),
            };
            Int(exact.ok_or("integer overflow")?)
        }
        (Float(a), Float(b)) => Float(float_operation(operator, *a, *b)),
        (Int(a), Float(b)) => Float(float_operation(operator, *a as f64, *b)),
        (Float(a), Int(b)) => Float(float_operation(operator, *a, *b as f64)),
        (a, b) => {
            return Err(format!(
                "unsupported operand types for {operator:?}: '{}' and '{}'",
                a.type_name(),
                b.type_name()
            ));
        }
    };
    Ok(Rc::new(result))
}

fn float_operation(operator: Operator, a: f64, b: f64) -> f64 {
    match operator {
        Operator::Add => a + b,
        Operator::Subtract => a - b,
        Operator::Multiply => a * b,
    }
}

fn subscript(container: &Object, index: &Object) -> Result<Value, String> {
    let Object::List(items) = container else {
        return Err(format!(
            "'{}' object is not subscriptable",
            container.type_name()
        ));
    };
    let items = items.borrow();
    Ok(items[list_position(items.len(), index)?].clone())
}

/// Python's list indexing: an int, negative counting from the end, checked against the length.
fn list_position(len: usize, index: &Object) -> Result<usize, String> {
    let Object::Int(index) = *index else {
        return Err(format!(
            "list indices must be integers, not {}",
            index.type_name()
        ));
    };
    let position = if index < 0 { index + len as i64 } else { index };
    usize::try_from(position)
        .ok()
        .filter(|&p| p < len)
        .ok_or_else(|| "list index out of range".to_string())
}

/// What the interpreter does for one cell update, counted from the parsed rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OperationCount {
    /// Variables looked up by name in a hash table.
    pub name_lookups: usize,
    /// List subscripts, each checking the container's and the index's type and the bounds.
    pub subscripts: usize,
    /// Arithmetic operations, each dispatching on both operand types.
    pub arithmetic: usize,
    /// New heap objects: one per arithmetic result, plus the loop variable `j`.
    pub allocations: usize,
}

/// Counts what the interpreter does per cell update (from [`UPDATE_RULE`]).
pub fn operations_per_cell() -> OperationCount {
    fn count(expression: &Expression, tally: &mut OperationCount) {
        match expression {
            Expression::Constant(_) => {}
            Expression::Call(_, argument) => {
                tally.name_lookups += 1;
                tally.allocations += 1;
                count(argument, tally);
            }
            Expression::Name(_) => tally.name_lookups += 1,
            Expression::Index(container, index) => {
                tally.subscripts += 1;
                count(container, tally);
                count(index, tally);
            }
            Expression::Binary(_, left, right) => {
                tally.arithmetic += 1;
                tally.allocations += 1;
                count(left, tally);
                count(right, tally);
            }
        }
    }
    PROGRAM.with(|program| {
        let mut tally = OperationCount {
            name_lookups: 1,
            allocations: 1,
            ..OperationCount::default()
        };
        count(&program.value, &mut tally);
        tally.subscripts += program.indices.len();
        for index in &program.indices {
            count(index, &mut tally);
        }
        tally
    })
}

/// Parses `name[expr]...[expr] = expr` with `+`, `-`, `*`, brackets, numbers and names.
fn parse(source: &str) -> Result<Assignment, String> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, at: 0 };
    let Some(Token::Name(target)) = parser.next() else {
        return Err("a rule starts with the name it assigns to".into());
    };
    let mut indices = Vec::new();
    while parser.eat(&Token::Symbol('[')) {
        indices.push(parser.sum()?);
        parser.expect(']')?;
    }
    parser.expect('=')?;
    let value = parser.sum()?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the rule".into());
    }
    Ok(Assignment {
        target,
        indices,
        value,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64, bool),
    Name(String),
    Symbol(char),
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() || c == '.' {
            let mut text = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                text.push(d);
                chars.next();
            }
            let number = text.parse().map_err(|_| format!("bad number '{text}'"))?;
            tokens.push(Token::Number(number, !text.contains('.')));
        } else if c.is_alphabetic() || c == '_' {
            let mut text = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphanumeric() || **d == '_') {
                text.push(d);
                chars.next();
            }
            tokens.push(Token::Name(text));
        } else if "[]()+-*=".contains(c) {
            tokens.push(Token::Symbol(c));
            chars.next();
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.tokens.get(self.at) == Some(token);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, symbol: char) -> Result<(), String> {
        if self.eat(&Token::Symbol(symbol)) {
            Ok(())
        } else {
            Err(format!("expected '{symbol}'"))
        }
    }

    fn sum(&mut self) -> Result<Expression, String> {
        let mut left = self.product()?;
        loop {
            let operator = if self.eat(&Token::Symbol('+')) {
                Operator::Add
            } else if self.eat(&Token::Symbol('-')) {
                Operator::Subtract
            } else {
                return Ok(left);
            };
            left = Expression::Binary(operator, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Expression, String> {
        let mut left = self.operand()?;
        while self.eat(&Token::Symbol('*')) {
            left = Expression::Binary(
                Operator::Multiply,
                Box::new(left),
                Box::new(self.operand()?),
            );
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expression, String> {
        let mut operand = match self.next() {
            Some(Token::Number(value, true)) => {
                Expression::Constant(Rc::new(Object::Int(value as i64)))
            }
            Some(Token::Number(value, false)) => {
                Expression::Constant(Rc::new(Object::Float(value)))
            }
            Some(Token::Name(name)) if self.eat(&Token::Symbol('(')) => {
                let argument = self.sum()?;
                self.expect(')')?;
                Expression::Call(name, Box::new(argument))
            }
            Some(Token::Name(name)) => Expression::Name(name),
            Some(Token::Symbol('(')) => {
                let inner = self.sum()?;
                self.expect(')')?;
                inner
            }
            other => return Err(format!("expected a number, a name or '(', found {other:?}")),
        };
        while self.eat(&Token::Symbol('[')) {
            let index = self.sum()?;
            self.expect(']')?;
            operand = Expression::Index(Box::new(operand), Box::new(index));
        }
        Ok(operand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(source: &str, variables: &[(&str, Value)]) -> Result<Value, String> {
        let variables: HashMap<String, Value> = variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let program = parse(&format!("out[0] = {source}"))?;
        let out = Rc::new(Object::List(RefCell::new(vec![Rc::new(Object::Int(0))])));
        let mut variables = variables;
        variables.insert("out".into(), out.clone());
        program.execute(&variables)?;
        let Object::List(items) = &*out else {
            unreachable!()
        };
        let result = items.borrow()[0].clone();
        Ok(result)
    }

    #[test]
    fn evaluates_with_precedence_and_mixed_types() {
        let value = run("2 * (3 + 4) - 1.5 * 2", &[]).unwrap();
        assert!(matches!(*value, Object::Float(x) if x == 11.0));
        let value = run("1 + 2 * 3", &[]).unwrap();
        assert!(matches!(*value, Object::Int(7)));
    }

    #[test]
    fn calls_built_in_functions_by_name() {
        let value = run("sin(0) + cos(0) * 2", &[]).unwrap();
        assert!(matches!(*value, Object::Float(x) if x == 2.0));
        assert_eq!(
            run("tan(1)", &[]).err().unwrap(),
            "name 'tan' is not defined"
        );
        let out = run_loop(
            "y[k] = sqrt(x[k]) * a",
            "k",
            3,
            &[
                ("x", Input::List(&[1.0, 4.0, 9.0])),
                ("a", Input::Number(2.0)),
            ],
            "y",
        );
        assert_eq!(out.unwrap(), vec![2.0, 4.0, 6.0]);
    }

    #[test]
    fn reports_what_python_would() {
        assert_eq!(run("x", &[]).err().unwrap(), "name 'x' is not defined");
        let grid = nested_list(ndarray::Array2::zeros((2, 2)).view());
        let error = run("grid[2][0]", &[("grid", grid.clone())]).err().unwrap();
        assert_eq!(error, "list index out of range");
        let error = run("grid + 1", &[("grid", grid.clone())]).err().unwrap();
        assert!(error.contains("'list' and 'int'"), "{error}");
        let value = run("grid[0 - 1][1] + 1", &[("grid", grid)]).unwrap();
        assert!(matches!(*value, Object::Float(x) if x == 1.0));
    }

    #[test]
    fn counts_the_work_of_one_cell() {
        let count = operations_per_cell();
        // Target: new[i][j]. Value: g, c, and old[..][..] five times, each with an i and a j.
        assert_eq!(count.name_lookups, 3 + 2 + 5 * 3);
        assert_eq!(count.subscripts, 2 + 5 * 2);
        // i + 1, i - 1, j + 1, j - 1; three + inside the brackets; g *, c *, and the last +.
        assert_eq!(count.arithmetic, 4 + 3 + 3);
        assert_eq!(count.allocations, count.arithmetic + 1);
    }
}
