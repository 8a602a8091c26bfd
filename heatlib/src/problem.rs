//! The plate, its parameters and the update rule every stage computes.
//!
//! The webinar's problem: a square plate of side `L`, `nx` nodes per side,
//! `nt` time levels, heat diffusivity `alpha`, time step `dt`, and fixed
//! temperatures on the four edges. With `gamma = alpha dt / dx^2` one explicit
//! step is
//!
//! ```text
//! T'[i,j] = gamma (T[i+1,j] + T[i-1,j] + T[i,j+1] + T[i,j-1]) + (1 - 4 gamma) T[i,j]
//! ```
//!
//! which is stable for `gamma <= 1/4`. The webinar picks the largest stable
//! step, `dt = dx^2 / (4 alpha)`, so that `gamma = 1/4` and the last term drops.

use ndarray::Array2;

use crate::error::{HeatError, Result};

/// Fixed temperatures on the four edges of the plate.
///
/// Row 0 is the bottom edge, row `nx - 1` the top; column 0 is the left edge,
/// column `nx - 1` the right. The top and bottom rows span the full width,
/// corners included; the left and right columns cover the rows in between.
/// (Corners never enter the five-point stencil, so this only decides what
/// the corner cells of a picture show.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boundary {
    /// The last row, `nx - 1`.
    pub top: f64,
    /// Row 0.
    pub bottom: f64,
    /// Column 0.
    pub left: f64,
    /// The last column, `nx - 1`.
    pub right: f64,
}

impl Boundary {
    /// The webinar's edges: the top at 100, the other three at 0.
    pub const WEBINAR: Boundary = Boundary {
        top: 100.0,
        bottom: 0.0,
        left: 0.0,
        right: 0.0,
    };
}

/// How the time step is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeStep {
    /// The largest stable step, `dt = dx^2 / (4 alpha)`, so `gamma = 1/4` (the webinar's choice).
    StableLimit,
    /// A time step in the same units as `alpha` and `L`.
    Dt(f64),
    /// The dimensionless `gamma = alpha dt / dx^2` directly.
    Gamma(f64),
}

/// One heat-flow problem. Start from [`Problem::small`] or [`Problem::large`]
/// and change what you need, with the `with_*` methods or the fields.
///
/// ```
/// use heatlib::{Boundary, Problem};
/// let p = Problem::small().with_size(101, 500).with_gamma(0.2);
/// assert_eq!(p.gamma(), 0.2);
/// assert_eq!(p.boundary, Boundary::WEBINAR);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Side of the square plate, `L`.
    pub length: f64,
    /// Nodes per side, boundaries included.
    pub nx: usize,
    /// Time levels, the initial one included (so `nt - 1` steps are taken).
    pub nt: usize,
    /// Thermal diffusivity.
    pub alpha: f64,
    /// How `dt` (and so `gamma`) is chosen.
    pub time_step: TimeStep,
    /// Edge temperatures, held fixed for all time.
    pub boundary: Boundary,
    /// Temperature of every interior node at time 0.
    pub initial: f64,
    /// Lets gamma go above 1/4, where the explicit scheme blows up: only to
    /// watch it happen ([`Problem::allow_unstable`]). Off by default.
    pub unstable_allowed: bool,
}

impl Default for Problem {
    fn default() -> Self {
        Problem::small()
    }
}

impl Problem {
    /// The webinar's hands-on problem: L = 50, nx = 50, nt = 1000, alpha = 2,
    /// dt = dx^2 / (4 alpha), top edge at 100, the rest at 0.
    pub fn small() -> Problem {
        Problem {
            length: 50.0,
            nx: 50,
            nt: 1000,
            alpha: 2.0,
            time_step: TimeStep::StableLimit,
            boundary: Boundary::WEBINAR,
            initial: 0.0,
            unstable_allowed: false,
        }
    }

    /// The webinar's large problem: the same plate with nx = 200 and nt = 4000.
    pub fn large() -> Problem {
        Problem::small().with_size(200, 4000)
    }

    /// Sets the nodes per side and the number of time levels.
    pub fn with_size(mut self, nx: usize, nt: usize) -> Problem {
        self.nx = nx;
        self.nt = nt;
        self
    }

    /// Sets `gamma = alpha dt / dx^2` directly (at most 1/4 for a stable run).
    pub fn with_gamma(mut self, gamma: f64) -> Problem {
        self.time_step = TimeStep::Gamma(gamma);
        self
    }

    /// Lets gamma go above 1/4, to watch the explicit scheme blow up. Every
    /// other check stays; without this call, such a gamma is refused with a
    /// message that says which `dt` is stable.
    ///
    /// ```
    /// use heatlib::{Problem, RunOptions, Stage};
    /// let refused = Problem::small().with_gamma(0.3);
    /// assert!(refused.validate().is_err());
    /// let on_purpose = refused.allow_unstable().with_size(20, 100);
    /// let field = Stage::Typed.solve(&on_purpose, &RunOptions::final_field())?.final_field;
    /// assert!(field.iter().any(|t| t.abs() > 1e6), "it blew up");
    /// # Ok::<(), heatlib::HeatError>(())
    /// ```
    pub fn allow_unstable(mut self) -> Problem {
        self.unstable_allowed = true;
        self
    }

    /// Sets the time step `dt`.
    pub fn with_dt(mut self, dt: f64) -> Problem {
        self.time_step = TimeStep::Dt(dt);
        self
    }

    /// Sets the four edge temperatures.
    pub fn with_boundary(mut self, boundary: Boundary) -> Problem {
        self.boundary = boundary;
        self
    }

    /// Sets the initial temperature of the interior.
    pub fn with_initial(mut self, initial: f64) -> Problem {
        self.initial = initial;
        self
    }

    /// Grid spacing, `dx = L / nx` as in the webinar.
    pub fn dx(&self) -> f64 {
        self.length / self.nx as f64
    }

    /// The largest stable time step, `dx^2 / (4 alpha)`.
    pub fn max_stable_dt(&self) -> f64 {
        self.dx() * self.dx() / (4.0 * self.alpha)
    }

    /// The time step this problem uses.
    pub fn dt(&self) -> f64 {
        match self.time_step {
            TimeStep::StableLimit => self.max_stable_dt(),
            TimeStep::Dt(dt) => dt,
            TimeStep::Gamma(gamma) => gamma * self.dx() * self.dx() / self.alpha,
        }
    }

    /// `gamma = alpha dt / dx^2`, the weight of each neighbour in the update.
    pub fn gamma(&self) -> f64 {
        match self.time_step {
            TimeStep::StableLimit => 0.25,
            TimeStep::Dt(dt) => self.alpha * dt / (self.dx() * self.dx()),
            TimeStep::Gamma(gamma) => gamma,
        }
    }

    /// Cell updates a run performs: `(nt - 1) (nx - 2)^2`, the unit of throughput
    /// (`u64::MAX` for a problem too large to count, which no machine could run).
    pub fn cell_updates(&self) -> u64 {
        let interior = self.nx.saturating_sub(2) as u64;
        (self.nt.saturating_sub(1) as u64)
            .saturating_mul(interior)
            .saturating_mul(interior)
    }

    /// Checks every parameter; each stage calls this before it allocates anything.
    pub fn validate(&self) -> Result<()> {
        if self.nx < 3 {
            return Err(HeatError::GridTooSmall { nx: self.nx });
        }
        if self.nt < 1 {
            return Err(HeatError::NoTimeSteps { nt: self.nt });
        }
        non_negative("length L", self.length, true)?;
        non_negative("alpha", self.alpha, false)?;
        match self.time_step {
            TimeStep::StableLimit => {}
            TimeStep::Dt(dt) => non_negative("dt", dt, false)?,
            TimeStep::Gamma(gamma) => non_negative("gamma", gamma, false)?,
        }
        for (name, value) in [
            ("top temperature", self.boundary.top),
            ("bottom temperature", self.boundary.bottom),
            ("left temperature", self.boundary.left),
            ("right temperature", self.boundary.right),
            ("initial temperature", self.initial),
        ] {
            if !value.is_finite() {
                return Err(HeatError::InvalidParameter {
                    name,
                    value,
                    requirement: "temperatures must be finite numbers",
                });
            }
            if value.abs() > LARGEST_TEMPERATURE {
                return Err(HeatError::TemperatureTooLarge {
                    name,
                    value,
                    limit: LARGEST_TEMPERATURE,
                });
            }
        }
        if self.time_step == TimeStep::StableLimit && self.alpha == 0.0 {
            return Err(HeatError::InvalidParameter {
                name: "alpha",
                value: 0.0,
                requirement: "the stable-limit time step dx^2/(4 alpha) needs alpha > 0; \
                              give dt or gamma explicitly",
            });
        }
        let gamma = self.gamma();
        if !gamma.is_finite() {
            return Err(HeatError::InvalidParameter {
                name: "gamma",
                value: gamma,
                requirement: "alpha*dt/dx^2 must be a finite number; check alpha, dt and L",
            });
        }
        // A dt typed in as dx^2/(4 alpha) can round to a hair above 1/4; that is still the stable limit.
        if gamma > 0.25 * (1.0 + 1e-12) && !self.unstable_allowed {
            return Err(HeatError::Unstable {
                gamma,
                max_stable_dt: self.max_stable_dt(),
            });
        }
        Ok(())
    }

    /// The field at time 0: the interior at the initial temperature, the edges at theirs.
    ///
    /// This allocates `nx x nx` values unchecked, as `Array2::zeros` does; the
    /// stages check the memory first (see [`Stage::solve`](crate::Stage::solve)).
    pub fn initial_field(&self) -> Array2<f64> {
        let mut field = Array2::from_elem((self.nx, self.nx), self.initial);
        self.set_edges(&mut field);
        field
    }

    /// [`Problem::initial_field`], or an error where the allocator refuses the memory.
    pub(crate) fn try_initial_field(&self) -> Result<Array2<f64>> {
        let mut field = crate::memory::try_field(self.nx, self.nx, self.initial)?;
        self.set_edges(&mut field);
        Ok(field)
    }

    fn set_edges(&self, field: &mut Array2<f64>) {
        let n = self.nx;
        if n == 0 {
            return;
        }
        for i in 1..n.saturating_sub(1) {
            field[[i, 0]] = self.boundary.left;
            field[[i, n - 1]] = self.boundary.right;
        }
        field.row_mut(0).fill(self.boundary.bottom);
        field.row_mut(n - 1).fill(self.boundary.top);
    }
}

/// The largest temperature magnitude a run accepts. One update adds four
/// neighbours before it weighs them, so four values of `f64::MAX / 4` would
/// already overflow; an eighth leaves room for rounding.
const LARGEST_TEMPERATURE: f64 = f64::MAX / 8.0;

fn non_negative(name: &'static str, value: f64, strictly_positive: bool) -> Result<()> {
    let ok = value.is_finite()
        && if strictly_positive {
            value > 0.0
        } else {
            value >= 0.0
        };
    if ok {
        Ok(())
    } else {
        Err(HeatError::InvalidParameter {
            name,
            value,
            requirement: if strictly_positive {
                "must be a finite number greater than 0"
            } else {
                "must be a finite number, 0 or greater"
            },
        })
    }
}
