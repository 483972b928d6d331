// suggest.cpp — edit distance and closest-match for "did you mean ...?" hints.
//
// Thread rules: pure functions, no shared state; safe from any thread.
#include "common/suggest.h"

#include <algorithm>
#include <cctype>

namespace mmcfs {
namespace {

bool same_letter(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

std::size_t close_enough_limit(std::string_view word) {
  return std::max<std::size_t>(1, word.size() / 3);
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows of the classic dynamic-programming table:
  // two_back[j], one_back[j], current[j] = distance(a[0..i), b[0..j)).
  const std::size_t width = b.size() + 1;
  std::vector<std::size_t> two_back(width), one_back(width), current(width);
  for (std::size_t j = 0; j < width; ++j) one_back[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j < width; ++j) {
      const std::size_t substitute = same_letter(a[i - 1], b[j - 1]) ? 0 : 1;
      current[j] = std::min({one_back[j] + 1, current[j - 1] + 1, one_back[j - 1] + substitute});
      const bool swapped =
          i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) && same_letter(a[i - 2], b[j - 1]);
      if (swapped) current[j] = std::min(current[j], two_back[j - 2] + 1);
    }
    std::swap(two_back, one_back);
    std::swap(one_back, current);
  }
  return one_back[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = close_enough_limit(word);
  const std::string* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  return best ? *best : std::string();
}

}  // namespace mmcfs
