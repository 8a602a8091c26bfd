//! A tiny interpreter, Python's way: values are heap objects whose type is
//! checked at run time, names are looked up in a table by their string, and
//! every result is a new object. The `interpreted` stage runs the heat
//! update through it, and [`harmonic`](crate::harmonic) the sine wave; what
//! it costs per operation is the lesson, so nothing here is made fast.
//!
//! The language is one assignment, `name[expr]...[expr] = expr`, with `+`,
//! `-`, `*`, brackets, numbers, names, list subscripts and the built-in
//! functions `sin`, `cos` and `sqrt` ([`parse`](parse::parse)).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ndarray::{ArrayView2, ArrayViewMut2};

mod parse;

pub(crate) use parse::parse;

/// A value the interpreter handles: always behind a pointer, its type known only at run time.
pub(crate) type Value = Rc<Object>;

pub(crate) enum Object {
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

/// A field as a list of rows, each a list of number objects: how Python holds it.
pub(crate) fn nested_list(field: ArrayView2<'_, f64>) -> Value {
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

/// Copies a list of rows of numbers (what [`nested_list`] makes, after a
/// program wrote into it) into `out`, row by row.
pub(crate) fn copy_nested_list(list: &Object, mut out: ArrayViewMut2<'_, f64>) {
    let Object::List(rows) = list else {
        unreachable!("a nested list is bound to a list, and the rule assigns only to its cells");
    };
    for (row, out) in rows.borrow().iter().zip(out.rows_mut()) {
        let Object::List(cells) = &**row else {
            unreachable!("every row of a nested list is a list");
        };
        for (cell, out) in cells.borrow().iter().zip(out) {
            if let Object::Float(value) = **cell {
                *out = value;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Operator {
    Add,
    Subtract,
    Multiply,
}

pub(crate) enum Expression {
    Constant(Value),
    /// A built-in function, found by its name when called: `sin(x)`.
    Call(String, Box<Expression>),
    Name(String),
    Index(Box<Expression>, Box<Expression>),
    Binary(Operator, Box<Expression>, Box<Expression>),
}

/// `target[index]...[index] = value`
pub(crate) struct Assignment {
    target: String,
    indices: Vec<Expression>,
    value: Expression,
}

impl Assignment {
    /// Runs the assignment once, with these variables.
    pub(crate) fn execute(&self, variables: &HashMap<String, Value>) -> Result<(), String> {
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

impl Assignment {
    /// What one execution does, counted from the parsed rule: the target's
    /// look-up and the subscripts it assigns through, then the value's work.
    /// The loop variable's new object is the caller's ([`OperationCount::allocations`] counts it).
    pub(crate) fn operations(&self) -> OperationCount {
        let mut tally = OperationCount {
            name_lookups: 1,
            allocations: 1,
            ..OperationCount::default()
        };
        count(&self.value, &mut tally);
        tally.subscripts += self.indices.len();
        for index in &self.indices {
            count(index, &mut tally);
        }
        tally
    }
}

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
}
