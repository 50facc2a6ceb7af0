//! `pispas-sim`: the command-line face of the simulators (see README.md).

fn main() {}
