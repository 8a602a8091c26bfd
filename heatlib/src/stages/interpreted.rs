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
//! [`operations_per_cell`] counts. The interpreter itself lives in a room
//! of its own (`heatlib/src/interpreter/`); this file is the stage.

use std::collections::HashMap;
use std::rc::Rc;

use ndarray::{ArrayView2, ArrayViewMut2};

pub use crate::interpreter::OperationCount;
use crate::interpreter::{Assignment, Object, Value, copy_nested_list, nested_list, parse};

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
    copy_nested_list(&variables["new"], next.view_mut());
}

/// The `nx x nx` arrays of `f64` a step needs at once, counted for the memory
/// check: the two fields, plus two nested lists (`old` and `new`) whose every
/// cell is a pointer to its own counted, heap-allocated object.
pub(crate) const WORKING_FIELDS: u128 = {
    let per_cell = size_of::<Value>() + 2 * size_of::<usize>() + size_of::<Object>();
    2 + 2 * per_cell.div_ceil(size_of::<f64>()) as u128
};

thread_local! {
    /// The rule is parsed once per thread, as Python compiles a function once.
    static PROGRAM: Assignment = parse(UPDATE_RULE).expect("UPDATE_RULE is valid");
}

/// Counts what the interpreter does per cell update (from [`UPDATE_RULE`]).
pub fn operations_per_cell() -> OperationCount {
    PROGRAM.with(Assignment::operations)
}

#[cfg(test)]
mod tests {
    use super::*;

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
