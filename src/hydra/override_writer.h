// override_writer.h — values written in Hydra's override grammar, so that
// Hydra reads them back as exactly the value meant.
//
// The rules, from Hydra's OverrideLexer.g4 / OverrideParser.g4 and the
// "Basic Override syntax" page of its documentation (Hydra 1.1+):
//   - INT: [+-]? ('0' | [1-9] ('_'? DIGIT)*). FLOAT: [+-]? (POINT_FLOAT |
//     EXPONENT_FLOAT | inf | nan), case-insensitive words. BOOL: true/false,
//     NULL: null, both case-insensitive. A YAML number is therefore
//     rewritten in a form those rules accept (no leading zeros, exponent
//     digits without leading zeros, 0x/0o converted to decimal, .inf as inf).
//   - An unquoted string (primitive) is a run of ID (`(CHAR|_)(CHAR|DIGIT|_|-)*`)
//     and UNQUOTED_CHAR ([/\-\\+.$%*@?|]) tokens, with whitespace trimmed;
//     `,` makes a sweep (choiceSweep), `[`/`{` a list/dict, `(` a function
//     call, `${` an interpolation, `=`/`:` are separators. A string is left
//     bare only if it is a letter or `_` followed by [A-Za-z0-9_./-] and is
//     not one of the typed words above — everything else is quoted.
//   - QUOTED_VALUE: '...' (single quotes are used here). Inside, a backslash
//     escapes only a quote or another backslash that precedes a quote or the
//     closing quote; so ' is written \', and each run of backslashes directly
//     before a quote (escaped or closing) is doubled. Other backslashes stay
//     as they are.
//   - Quoted strings may still hold interpolations (`'${a.b}'` is resolved by
//     OmegaConf). `${` is therefore written `\${` (OmegaConf's escaped
//     interpolation) and a run of backslashes directly before it is doubled,
//     so the text arrives literally.
// The result is one argv word; shell quoting is the caller's (shell_join).
//
// Thread rules: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mmcfs::hydra {

// A launch value: the YAML scalar's text, whether YAML saw it as a string
// (quoted), and whether it was null. An unquoted value starting with '[' or
// '{' is taken as already written in Hydra's grammar (a list from params).
std::string write_value(std::string_view text, bool quoted, bool is_null);

// A string value: bare when Hydra reads it back unchanged, else quoted.
std::string write_string(std::string_view text);

// Always a Hydra single-quoted string (see the rules above).
std::string quote_string(std::string_view text);

// A YAML 1.2 number (core schema) as Hydra's grammar writes the same
// number, or nullopt if `text` is not one.
std::optional<std::string> yaml_number_as_hydra(std::string_view text);

// `key=value` for a param.
inline std::string write_override(std::string_view key, std::string_view text, bool quoted, bool is_null) {
  return std::string(key) + "=" + write_value(text, quoted, is_null);
}

}  // namespace mmcfs::hydra
