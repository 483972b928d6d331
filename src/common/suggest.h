// suggest.h — "did you mean ...?": the closest of a set of known words.
//
// Used by the clusters.yaml loader for unknown keys, and meant for any other
// validator that meets a misspelt name (launch files, partition names). The
// distance is optimal-string-alignment edit distance (insert, delete,
// substitute, swap two neighbours), compared without regard to ASCII case.
//
// Thread rules: pure functions, no shared state; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mmcfs {

// Edits needed to turn `a` into `b`, ignoring ASCII case; a swap of two
// neighbouring characters counts as one edit ("hsot" -> "host" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, or "" when none is close enough to be a
// plausible misspelling: at most max(1, word.size() / 3) edits away. Ties go
// to the candidate listed first. `word` equal to a candidate returns it.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mmcfs
