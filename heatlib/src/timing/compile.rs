//! How long the compiler takes: rustc run on a piece of source, timed.

use std::time::Instant;

use crate::error::Result;

/// Seconds `rustc` takes to compile `source` (a library crate) on this machine,
/// with optimisations (`-C opt-level=3`, what the notebook kernel does) or
/// without (`-C opt-level=0`, a debug build): the price of compiling ahead of
/// time, which an interpreter never pays. Uses `$RUSTC`, else `rustc` on the path.
///
/// ```no_run
/// let source = "pub fn square(x: f64) -> f64 { x * x }";
/// let optimised = heatlib::compile_seconds(source, true)?;
/// println!("rustc -O: {}", heatlib::format_seconds(optimised));
/// # Ok::<(), heatlib::HeatError>(())
/// ```
pub fn compile_seconds(source: &str, optimised: bool) -> Result<f64> {
    let failed = |message: String| crate::error::HeatError::Compiler { message };
    let scratch = crate::files::ScratchFolder::new("heatlib-compile")
        .map_err(|error| failed(format!("cannot make a scratch folder: {error}")))?;
    let folder = scratch.path();
    let file = folder.join("timed.rs");
    std::fs::write(&file, source)
        .map_err(|error| failed(format!("cannot write {}: {error}", file.display())))?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let start = Instant::now();
    let output = std::process::Command::new(&rustc)
        .args(["--crate-type=lib", "--edition=2021", "--emit=obj", "-C"])
        .arg(if optimised {
            "opt-level=3"
        } else {
            "opt-level=0"
        })
        .arg("-o")
        .arg(folder.join("timed.o"))
        .arg(&file)
        .output();
    let seconds = start.elapsed().as_secs_f64();
    drop(scratch);
    let output = output.map_err(|error| {
        failed(format!(
            "cannot run {rustc}: {error}; install Rust (rustup.rs) or set RUSTC"
        ))
    })?;
    if !output.status.success() {
        return Err(failed(format!(
            "rustc refused the source: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .take(8)
                .collect::<Vec<_>>()
                .join(" / ")
        )));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustc_compiles_and_refuses_with_the_compilers_words() {
        let source = "pub fn square(x: f64) -> f64 { x * x }";
        let debug = compile_seconds(source, false).unwrap();
        let optimised = compile_seconds(source, true).unwrap();
        assert!(debug > 0.0 && optimised > 0.0);
        let error = compile_seconds("pub fn broken( {", true).unwrap_err();
        assert!(
            error.to_string().contains("rustc refused the source"),
            "{error}"
        );
    }
}
