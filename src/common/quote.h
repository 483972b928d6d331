// quote.h — quoting argument vectors for a POSIX shell.
//
// Remote commands travel over SSH as one string that the remote login shell
// parses. shell_join() turns an argv into that string so that the remote
// program receives exactly these arguments, byte for byte: nothing in an
// argument ($(...), backticks, ;, quotes, newlines, globs) is ever
// interpreted. Arguments must not contain NUL bytes (a C string cannot carry
// them; callers reject such argv before joining).
//
// Thread rules: pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mmcfs {

// Quotes one argument for POSIX sh. Words made only of [A-Za-z0-9] and
// -_./=:,@%+ are returned unchanged; the empty string becomes ''; anything
// else is wrapped in single quotes, with each ' written as '\''.
std::string shell_quote(std::string_view arg);

// Quotes every argument and joins them with single spaces.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace mmcfs
