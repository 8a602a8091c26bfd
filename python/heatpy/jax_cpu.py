"""JAX on the CPU: whole-array code compiled by XLA. Rust counterpart: `opencl`.

The idea: write the step as array code once; `jax.jit` hands the whole time
loop to the XLA compiler, which fuses the expression into one loop over the
plate and compiles it for the device (here the CPU; a GPU the same way). The
first call pays for tracing and compiling. JAX runs asynchronously, so a
timing must wait with `block_until_ready()`: the webinar's GPU timing did not,
and measured only the launch.

JAX arrays are immutable: the two-buffer run carries one field through
`lax.fori_loop`; the full-history run stacks every level with `lax.scan`,
which allocates the history inside the call (unlike the other versions, whose
array exists before the clock starts).

Like heatlib's `opencl` kernel (and `typed`), it skips the centre term when its
weight, 1 - 4 gamma, is exactly 0 (the webinar's gamma = 1/4): a pair that
compares the same arithmetic. The choice is made before tracing (a static
argument), so XLA compiles the loop without the term rather than multiplying by 0.
"""

import jax

# 64-bit floats, as every other version: JAX uses 32-bit unless told.
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (after the precision is set)
from jax import lax  # noqa: E402


def _step(field, gamma, skip_centre):
    interior = gamma * (field[2:, 1:-1] + field[:-2, 1:-1] + field[1:-1, 2:] + field[1:-1, :-2])
    if not skip_centre:
        interior = interior + (1.0 - 4.0 * gamma) * field[1:-1, 1:-1]
    return field.at[1:-1, 1:-1].set(interior)


def _final(field, nt, gamma, skip_centre):
    return lax.fori_loop(1, nt, lambda _, f: _step(f, gamma, skip_centre), field)


_final = jax.jit(_final, static_argnums=3)


def _history(field, nt, gamma, skip_centre):
    def level(f, _):
        f = _step(f, gamma, skip_centre)
        return f, f

    _, later = lax.scan(level, field, None, length=nt - 1)
    return jnp.concatenate([field[None], later])


# The number of levels fixes the history's shape, so XLA compiles one program per nt.
_history = jax.jit(_history, static_argnums=(1, 3))


def _skips_centre(gamma):
    return 1.0 - 4.0 * float(gamma) == 0.0


def prepare(T):
    """The initial level on JAX's device (the CPU), put there before the clock starts."""
    return jax.device_put(T[0])


def run(field, nt, gamma):
    """The final field after nt levels, waited for."""
    return _final(field, nt, gamma, _skips_centre(gamma)).block_until_ready()


def run_history(field, nt, gamma):
    """Every level, shape (nt, nx, nx), waited for."""
    return _history(field, nt, gamma, _skips_centre(gamma)).block_until_ready()


def device():
    """The device JAX computes on, e.g. 'cpu:0'."""
    return str(jax.devices()[0])
