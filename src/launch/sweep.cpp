// sweep.cpp — the cartesian product of a launch's sweep (see sweep.h).
//
// Thread rules: pure functions.
#include "launch/sweep.h"

#include <algorithm>

namespace mmcfs::launch {

std::size_t sweep_run_count(const LaunchSpec& spec) {
  std::size_t runs = 1;
  for (const LaunchSpec::SweepAxis& axis : spec.sweep) {
    const std::size_t n = axis.values.size();
    if (n == 0) return 0;
    if (runs > kSweepTooLarge / n) return kSweepTooLarge;
    runs = std::min(runs * n, kSweepTooLarge);
  }
  return runs;
}

std::vector<LaunchSpec::Param> sweep_run_values(const LaunchSpec& spec, std::size_t run) {
  std::vector<LaunchSpec::Param> values(spec.sweep.size());
  // Mixed radix, the last axis the least significant digit.
  for (std::size_t i = spec.sweep.size(); i-- > 0;) {
    const auto& axis = spec.sweep[i].values;
    values[i] = axis[run % axis.size()];
    values[i].key = spec.sweep[i].key;
    run /= axis.size();
  }
  return values;
}

LaunchSpec sweep_run_spec(const LaunchSpec& spec, std::size_t run) {
  LaunchSpec out = spec;
  out.sweep.clear();
  for (LaunchSpec::Param& value : sweep_run_values(spec, run)) {
    auto same = std::find_if(out.params.begin(), out.params.end(),
                             [&value](const LaunchSpec::Param& p) { return p.key == value.key; });
    if (same != out.params.end()) {
      *same = std::move(value);
    } else {
      out.params.push_back(std::move(value));
    }
  }
  return out;
}

}  // namespace mmcfs::launch
