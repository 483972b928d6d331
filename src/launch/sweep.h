// sweep.h — a launch's `sweep:` expanded into runs (the cartesian product).
//
// `sweep: {optimizer.lr: [1e-3, 1e-4], data.batch_size: [16, 32]}` is 4 runs,
// numbered like nested loops in file order, the LAST key varying fastest:
//   run 0: lr=1e-3 bs=16   run 1: lr=1e-3 bs=32
//   run 2: lr=1e-4 bs=16   run 3: lr=1e-4 bs=32
// Run n is SLURM array task n. A run's spec is the launch's spec with its
// sweep values set as params: a value replaces a param with the same key
// where that param stands, or is appended after the params (so raw
// `overrides:` still come last and win).
//
// Thread rules: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <vector>

#include "launch/launch_spec.h"

namespace mmcfs::launch {

// What sweep_run_count() returns for a product too large to be meaningful.
inline constexpr std::size_t kSweepTooLarge = 1'000'000'001;

// The number of runs: the product of the axes' lengths (1 with no sweep),
// saturating at kSweepTooLarge.
std::size_t sweep_run_count(const LaunchSpec& spec);

// Run `run`'s value of each axis, in axis order. `run` < sweep_run_count().
std::vector<LaunchSpec::Param> sweep_run_values(const LaunchSpec& spec, std::size_t run);

// The spec of run `run`: sweep values set as params, `sweep` empty.
LaunchSpec sweep_run_spec(const LaunchSpec& spec, std::size_t run);

}  // namespace mmcfs::launch
