// text.h — small text helpers shared by the renderers: aligned tables, JSON
// string escaping, timestamps and ages.
//
// Thread rules: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace mmcfs {

// Rows of cells -> lines with columns separated by at least two spaces; the
// last column is not padded. Every line ends in '\n'.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

// A JSON string literal, quotes included; control characters and non-UTF-8
// bytes are escaped so that jq accepts the result.
std::string json_string(std::string_view s);

// "2026-11-23T21:40:05Z"
std::string iso8601_utc(WallTime t);
// "21:40:05" in local time
std::string clock_time_local(WallTime t);
// "12 s", "5 min", "3 h", "2 d" (never negative)
std::string format_age(std::chrono::system_clock::duration age);

// [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters: safe as a directory
// name and in messages (cluster and project names).
bool is_simple_name(std::string_view s);
// An optional '-' and decimal digits without leading zeros (at most 16).
bool is_decimal_integer(std::string_view s);

std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace mmcfs
